"""Manifest rows run through a registered workflow as a whole file (the *workflow assays*).

Each workflow assay names one workflow of the registry (:data:`WORKFLOW_ASSAYS`) and the input that
takes the row's ``file``. Two manifest columns feed the rest of the workflow's declaration:

* ``inputs``: its other input files, ``NAME=PATH`` separated by ``;`` (``gates=flow/panel.xml;
  samples=flow/sheet.csv``), relative to the manifest;
* ``options``: its options, ``NAME=VALUE`` separated by ``;`` (``control=vehicle; n_boot=200``),
  spelt as the option's name (``time_col``) or its CLI flag (``--time-col``), converted and checked
  as the CLI does (numbers, ``true``/``false``, the allowed choices); an option given several times
  (``landmark=12; landmark=24``) is a list; a value that names a file next to the manifest is
  passed as that file's path.

``file`` (and an ``inputs`` path) may be a pattern such as ``flow/*.fcs`` where the input takes
several files (the pattern's folder must be literal; the matches are sorted by name).

Everything is checked when the manifest is read, before any analysis: unknown option or input
names (the message lists the known ones), values of the wrong type, options that write files or
read a project store (``from_db``), missing required options and inputs, patterns that match
nothing, wrong suffixes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:
    from kinresist.core.registry import InputSpec, Param, Workflow

__all__ = ["WORKFLOW_ASSAYS", "WorkflowCall", "parse_workflow_call"]

#: Workflow assay -> (registered workflow, the input that takes the row's ``file``).
WORKFLOW_ASSAYS: Mapping[str, tuple[str, str]] = MappingProxyType(
    {
        "interpret": ("interpret", "table"),
        "ngs_call": ("ngs.call", "bams"),
        "invivo": ("invivo.analyze", "file"),
        "clinical_survival": ("clinical.survival", "file"),
        "clinical_response": ("clinical.response", "file"),
        "clinical_summary": ("clinical.summary", "file"),
        "elisa": ("elisa.quantify", "plate"),
        "flow": ("flow.gate", "fcs"),
        "gsea_prerank": ("gsea.prerank", "rnk"),
        "gsea_score": ("gsea.score", "expression"),
        "tme": ("tme.associate", "table"),
        "blot": ("blot.analyze", "images"),
    }
)
#: The workflow's own name is accepted as the assay too (``assay = invivo.analyze``).
WORKFLOW_ALIASES: Mapping[str, str] = MappingProxyType(
    {wf: assay for assay, (wf, _) in WORKFLOW_ASSAYS.items() if wf != assay}
)

Fail = Callable[[str, str], Exception]

_TRUE = {"true", "yes", "1", "on"}
_FALSE = {"false", "no", "0", "off"}
_WILDCARDS = ("*", "?", "[")
#: Options that point a workflow at a project store (``tme associate --from-db``): refused.
_STORE_OPTIONS = frozenset({"db", "from_db", "from_study"})


@dataclass(frozen=True, slots=True)
class WorkflowCall:
    """One workflow assay row's call: the workflow, its input files and its typed options."""

    workflow: str
    primary: str
    source: str
    files: tuple[Path, ...]
    inputs: tuple[tuple[str, tuple[Path, ...]], ...] = ()
    options: tuple[tuple[str, Any], ...] = ()
    subject_kind: str = "patient"
    sample_type: str | None = None

    def kwargs(self) -> dict[str, Any]:
        """Inputs and options by name, as :meth:`Workflow.__call__` takes them."""
        from kinresist.core.registry import get_workflow

        specs = {i.name: i for i in get_workflow(self.workflow).inputs}
        out: dict[str, Any] = {}
        for name, paths in ((self.primary, self.files), *self.inputs):
            out[name] = list(paths) if specs[name].multiple else paths[0]
        for name, value in self.options:
            out[name] = list(value) if isinstance(value, tuple) else value
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "workflow": self.workflow,
            "file": self.source,
            "files": [p.name for p in self.files],
            "inputs": {name: [p.name for p in paths] for name, paths in self.inputs},
            "options": {k: list(v) if isinstance(v, tuple) else v for k, v in self.options},
        }


def _raise(fail: Fail, message: str, column: str) -> NoReturn:
    raise fail(message, column)


def resolve_files(
    text: str, base: Path, *, multiple: bool, column: str, what: str, fail: Fail
) -> tuple[Path, ...]:
    """One file, or (for an input taking several) the sorted matches of a name pattern."""
    path = base / text
    if not any(w in text for w in _WILDCARDS):
        if not path.exists():
            _raise(fail, f"{column} {text!r} not found (looked for {path})", column)
        return (path,)
    if not multiple:
        msg = f"{column} {text!r} is a pattern, but {what} takes one file; name the file"
        _raise(fail, msg, column)
    if any(w in str(path.parent) for w in _WILDCARDS):
        msg = f"{column} {text!r}: only the file name may hold wildcards (flow/*.fcs), not folders"
        _raise(fail, msg, column)
    found = tuple(sorted(p for p in path.parent.glob(path.name) if p.is_file()))
    if not found:
        _raise(fail, f"{column} pattern {text!r} matches no file in {path.parent}", column)
    return found


def _check_suffixes(spec: InputSpec, paths: tuple[Path, ...], column: str, fail: Fail) -> None:
    if not spec.suffixes:
        return
    for p in paths:
        if not p.name.lower().endswith(tuple(s.lower() for s in spec.suffixes)):
            msg = (
                f"{column}: {spec.name} {p.name!r} should end in {' or '.join(spec.suffixes)} "
                f"({spec.help.rstrip('.')})"
            )
            _raise(fail, msg, column)


def _entries(text: str, column: str, example: str, fail: Fail) -> list[tuple[str, str]]:
    out = []
    for item in text.split(";"):
        if not item.strip():
            continue
        name, sep, value = item.partition("=")
        key = name.strip().lstrip("-").replace("-", "_")
        if not sep or not key or not value.strip():
            msg = (
                f"{column} entry {item.strip()!r}: expected NAME=VALUE (e.g. {example}); "
                "entries are separated by ';'"
            )
            _raise(fail, msg, column)
        out.append((key, value.strip()))
    return out


def _convert(param: Param, text: str, base: Path) -> Any:
    """``text`` as the option's type (ValueError saying what was expected)."""
    choices = param.choices
    if choices is not None:
        if text not in choices:
            msg = f"expected one of {', '.join(choices)}"
            raise ValueError(msg)
        return text
    if param.type is bool:
        low = text.lower()
        if low in _TRUE | _FALSE:
            return low in _TRUE
        msg = "expected true or false"
        raise ValueError(msg)
    if param.type is int:
        try:
            return int(text)
        except ValueError:
            msg = "expected a whole number"
            raise ValueError(msg) from None
    if param.type is float:
        try:
            value = float(text)
        except ValueError:
            msg = "expected a number"
            raise ValueError(msg) from None
        if not math.isfinite(value):
            msg = "expected a finite number"
            raise ValueError(msg)
        return value
    candidate = base / text
    if param.type is Path:
        if not candidate.exists():
            msg = f"file not found (looked for {candidate})"
            raise ValueError(msg)
        return candidate
    return str(candidate) if candidate.is_file() else text


def _options(wf: Workflow, text: str, base: Path, fail: Fail) -> tuple[tuple[str, Any], ...]:
    params = {p.name: p for p in wf.params}
    given: dict[str, Any] = {}
    for key, raw in _entries(text, "options", "control=vehicle", fail):
        param = params.get(key)
        if param is None:
            known = ", ".join(sorted(n for n, p in params.items() if p.output is None))
            msg = f"{wf.name} has no option {key!r}; its options: {known or '(none)'}"
            _raise(fail, msg, "options")
        if param.output is not None:
            msg = (
                f"option {key!r} writes files ({param.output}); a manifest import writes to the "
                "store only (write them with the workflow's own command)"
            )
            _raise(fail, msg, "options")
        if key in _STORE_OPTIONS:
            msg = (
                f"option {key!r} reads a project store; a manifest import analyses the files it "
                "names (run the workflow's own command to read a store)"
            )
            _raise(fail, msg, "options")
        try:
            value = _convert(param, raw, base)
        except ValueError as exc:
            _raise(fail, f"option {key}={raw!r}: {exc}", "options")
        if param.multiple:
            given.setdefault(key, []).append(value)
        elif key in given:
            _raise(fail, f"option {key!r} is given twice (it takes one value)", "options")
        else:
            given[key] = value
    missing = [p.name for p in wf.params if p.required and p.name not in given]
    if missing:
        msg = (
            f"{wf.name} needs the option(s) {', '.join(missing)}; give them in the options "
            f"column ({missing[0]}=...)"
        )
        _raise(fail, msg, "options")
    return tuple((k, tuple(v) if isinstance(v, list) else v) for k, v in given.items())


def _inputs(
    wf: Workflow, primary: str, text: str, base: Path, fail: Fail
) -> tuple[tuple[str, tuple[Path, ...]], ...]:
    specs = {i.name: i for i in wf.inputs if i.name != primary}
    got: dict[str, tuple[Path, ...]] = {}
    for key, raw in _entries(text, "inputs", "gates=flow/panel.xml", fail):
        spec = specs.get(key)
        if spec is None:
            msg = f"{wf.name} has no input {key!r} besides the file; its inputs: " + (
                ", ".join(sorted(specs)) or "(none)"
            )
            _raise(fail, msg, "inputs")
        if key in got:
            _raise(fail, f"input {key!r} is given twice", "inputs")
        what = f"{wf.name}'s {key}"
        paths = resolve_files(
            raw, base, multiple=spec.multiple, column="inputs", what=what, fail=fail
        )
        _check_suffixes(spec, paths, "inputs", fail)
        got[key] = paths
    missing = [s.name for s in specs.values() if s.required and s.name not in got]
    if missing:
        msg = (
            f"{wf.name} needs the input(s) {', '.join(missing)}; give them in the inputs column "
            f"({missing[0]}=PATH)"
        )
        _raise(fail, msg, "inputs")
    return tuple(got.items())


def parse_workflow_call(
    assay: str, file: str, *, inputs: str, options: str, base: Path, fail: Fail
) -> WorkflowCall:
    """The call of a workflow assay row (see the module docstring); ``fail`` builds the error."""
    from kinresist.core.registry import get_workflow

    name, primary = WORKFLOW_ASSAYS[assay]
    wf = get_workflow(name)
    spec = next(i for i in wf.inputs if i.name == primary)
    files = resolve_files(
        file, base, multiple=spec.multiple, column="file", what=f"{name}'s {primary}", fail=fail
    )
    _check_suffixes(spec, files, "file", fail)
    return WorkflowCall(
        workflow=name,
        primary=primary,
        source=file,
        files=files,
        inputs=_inputs(wf, primary, inputs, base, fail),
        options=_options(wf, options, base, fail),
        subject_kind=wf.subject_kind,
        sample_type=wf.sample_type,
    )
