"""The workflow registry: every workflow declares its inputs, options, analysis function, result
and report once; the CLI (:mod:`kinresist.cli.generated`) and the web app build their commands and
routes from these declarations.

A workflow package declares, in a cheap-to-import ``workflow.py`` (engines are imported inside the
run function)::

    WORKFLOWS = [Workflow(group="clinical", command="survival", help="...",
                          inputs=[InputSpec("file", help="...")],
                          params=[Param("time_col", str, required=True, help="...")],
                          run=_run, report="kinresist.reports.clinical:render_survival")]
    GROUP_HELP = {"clinical": "Clinical efficacy: survival, response rates, summaries."}

and is listed in :data:`_WORKFLOW_MODULES`. ``run`` receives every input (as
:class:`pathlib.Path`, or a list of them for ``multiple`` inputs) and every option by name and
returns a :class:`~kinresist.core.result.Result`. ``report`` and ``text`` are named as
``"module:function"`` strings so that library packages never import :mod:`kinresist.reports`.
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from kinresist.errors import InputError

if TYPE_CHECKING:
    from kinresist.core.result import Result

__all__ = [
    "InputSpec",
    "Param",
    "Workflow",
    "get_workflow",
    "group_help",
    "resolve",
    "run",
    "workflows",
]

#: Modules that declare ``WORKFLOWS`` (and optionally ``GROUP_HELP``), in CLI order.
_WORKFLOW_MODULES: tuple[str, ...] = (
    "kinresist.interpret.workflow",
    "kinresist.dose.workflow",
    "kinresist.synergy.workflow",
    "kinresist.ddpcr.workflow",
    "kinresist.ngs.workflow",
    "kinresist.clinical.workflow",
    "kinresist.invivo.workflow",
    "kinresist.flow.workflow",
    "kinresist.elisa.workflow",
    "kinresist.gsea.workflow",
    "kinresist.tme.workflow",
    "kinresist.blot.workflow",
    "kinresist.monitoring.workflow",
)

ParamType = type | tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Param:
    """One option of a workflow.

    ``type`` is ``str``, ``int``, ``float``, ``bool`` (a ``--x/--no-x`` switch), ``Path``, or a
    tuple of allowed strings. ``flag`` overrides the CLI spelling (default ``--time-col`` for
    ``time_col``). ``multiple`` options are given several times and arrive as a list.
    """

    name: str
    type: ParamType = str
    default: Any = None
    help: str = ""
    required: bool = False
    multiple: bool = False
    flag: str | None = None
    short: str | None = None
    web: bool = True
    output: str | None = None

    @property
    def cli_flag(self) -> str:
        return self.flag or "--" + self.name.replace("_", "-")

    @property
    def choices(self) -> tuple[str, ...] | None:
        return self.type if isinstance(self.type, tuple) else None


@dataclass(frozen=True, slots=True)
class InputSpec:
    """One input file (or folder) of a workflow."""

    name: str
    help: str = ""
    multiple: bool = False
    required: bool = True
    kind: Literal["file", "dir", "path"] = "file"
    option: bool = False
    suffixes: tuple[str, ...] = ()
    flag: str | None = None
    short: str | None = None

    @property
    def cli_flag(self) -> str:
        return self.flag or "--" + self.name.replace("_", "-")


@dataclass(frozen=True, slots=True)
class Workflow:
    """A workflow's declaration (see the module docstring)."""

    group: str
    command: str
    help: str
    run: Callable[..., Result] | str
    inputs: tuple[InputSpec, ...] | Sequence[InputSpec] = ()
    params: tuple[Param, ...] | Sequence[Param] = ()
    report: str | None = None
    text: str | None = None
    subject_kind: Literal["patient", "cell_line", "animal", "pooled"] = "patient"
    sample_type: str | None = None
    records: bool = True
    long_running: bool = False
    default_format: Literal["json", "tsv", "text"] = "text"
    #: A top-level command (``kinresist interpret``) rather than ``<group> <command>``.
    toplevel: bool = False
    extra: Mapping[str, Any] = field(default_factory=dict)
    #: Extra output formats, ``{"vcf": "module:function"}``; ``function(result, path)`` writes
    #: the file (``--format vcf --out X``, ``--out X.vcf``, or an ``output="writer:vcf"`` option).
    writers: Mapping[str, str] = field(default_factory=dict)
    #: ``"module:function"`` adding figures to a result on demand (``function(result)``), for
    #: figures too costly to draw on every run; called before the HTML report is rendered.
    figures: str | None = None
    #: Runs on a Dask cluster: the CLI adds ``--dask ADDRESS`` (default ``$KINRESIST_DASK``) and
    #: passes ``dask=`` (the address or None) to ``run`` and ``stream``
    #: (:mod:`kinresist.core.distribute`; docs/scale-out.md).
    distributable: bool = False
    #: ``"module:function"`` writing the tables while it computes (screen-scale inputs). The CLI
    #: calls it instead of ``run`` for ``--format parquet|tsv --out PATH`` when no HTML is asked
    #: for, as ``function(out=PATH, fmt=FORMAT, tables={table: PATH}, **options)`` (``tables``:
    #: the table outputs among the ``output`` options); it returns ``(result, written)``.
    #: ``written`` lists the files it wrote (``result`` then carries the envelope and counts,
    #: not the tables), or is empty when the input was small and ``result`` is complete (the
    #: CLI then writes it as usual).
    stream: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "inputs", tuple(self.inputs))
        object.__setattr__(self, "params", tuple(self.params))
        object.__setattr__(self, "writers", dict(self.writers))
        names = [i.name for i in self.inputs] + [p.name for p in self.params]
        if len(set(names)) != len(names):
            msg = f"workflow {self.name}: duplicate input/option names {names}"
            raise ValueError(msg)

    @property
    def name(self) -> str:
        return self.group if self.toplevel else f"{self.group}.{self.command}"

    def runner(self) -> Callable[..., Result]:
        return resolve(self.run) if isinstance(self.run, str) else self.run

    def __call__(self, **kwargs: Any) -> Result:
        """Run the workflow with inputs and options by name (defaults filled in)."""
        call = {p.name: p.default for p in self.params if p.output is None}
        call.update(kwargs)
        files: list[Path] = []
        for spec in self.inputs:
            value = call.get(spec.name)
            if value is None:
                continue
            if spec.multiple:
                call[spec.name] = [Path(v) for v in value]
                files += call[spec.name]
            else:
                call[spec.name] = Path(value)
                files.append(call[spec.name])
        try:
            return self.runner()(**call)
        except InputError as exc:
            # a check on values already read (too few standards, no responders, ...) may not
            # know the file: with one input file, that is the file the user must fix
            if exc.path is None and len(files) == 1 and not _names_a_file(call, files):
                raise exc.located(files[0]) from exc
            raise


def _names_a_file(call: Mapping[str, Any], inputs: list[Path]) -> bool:
    """Whether an option (not an input) names an existing file, e.g. ``--standards T.csv``."""
    for value in call.values():
        if isinstance(value, (str, Path)) and value not in inputs and str(value):
            with contextlib.suppress(OSError, ValueError):
                if Path(value).is_file():
                    return True
    return False


def resolve(ref: str) -> Callable[..., Any]:
    """``"package.module:function"`` -> the function."""
    module, _, attr = ref.partition(":")
    obj: Any = importlib.import_module(module)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj  # type: ignore[no-any-return]


@cache
def _load() -> tuple[dict[str, Workflow], dict[str, str]]:
    found: dict[str, Workflow] = {}
    helps: dict[str, str] = {}
    for module_name in _WORKFLOW_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:  # a workflow package not in this build
            if exc.name is not None and module_name.startswith(exc.name):
                continue
            raise
        for wf in getattr(module, "WORKFLOWS", ()):
            if wf.name in found:
                msg = f"workflow {wf.name} declared twice ({module_name})"
                raise ValueError(msg)
            found[wf.name] = wf
        helps.update(getattr(module, "GROUP_HELP", {}))
    return found, helps


def workflows() -> dict[str, Workflow]:
    """Every registered workflow by name (``"dose.fit"``), in declaration order."""
    return dict(_load()[0])


def group_help() -> dict[str, str]:
    """One-line help of each command group."""
    return dict(_load()[1])


def get_workflow(name: str) -> Workflow:
    """The workflow called ``name`` (``"clinical.survival"``)."""
    from kinresist.errors import InputError

    found = _load()[0]
    if name not in found:
        msg = f"unknown workflow {name!r}; known: {sorted(found)}"
        raise InputError(msg)
    return found[name]


def run(name: str, /, **kwargs: Any) -> Result:
    """Run the workflow called ``name`` with inputs and options by name.

    >>> res = run("interpret", finding=["ALK G1202R"], prior_therapy="alectinib")  # doctest: +SKIP
    >>> res.body["classification"]  # doctest: +SKIP
    'on_target_mutation'
    """
    return get_workflow(name)(**kwargs)
