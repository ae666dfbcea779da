"""Workflow declarations -> form widgets, the API's request schema, and typed call arguments.

The same declarations that give the CLI its options (:mod:`kinresist.cli.generated`) give every
analyse page its widgets and every ``/api/v1/<group>/<command>`` endpoint its multipart schema:

==================================  ===============================================================
declaration                         widget / request field
==================================  ===============================================================
``InputSpec`` file                  file upload (``multiple`` allows several), or a server path
                                    (``<name>__path``, inside the data folder)
``InputSpec`` dir / path            files or one zip (a folder of instrument exports), or a path
``Param`` str / int / float         text / number fields (``multiple``: one value per line)
``Param`` bool                      checkbox (``true``/``false``)
``Param`` tuple of choices          select
``Param`` Path                      a path inside the server data folder (one the workflow
                                    writes, named in ``extra["writes"]``, may not exist yet)
``Param(output=...)``/``web=False`` not offered (downloads replace output files; the web app
                                    brings its own store for ``db``)
==================================  ===============================================================

Values are converted exactly as the CLI converts them; a bad value is an :class:`InputError`
naming the option as the CLI spells it (``--conf-level``), so the message is the same.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kinresist.errors import InputError
from kinresist.web.uploads import (
    UploadArea,
    UploadLike,
    resolve_data_path,
    resolve_data_target,
)

if TYPE_CHECKING:
    from kinresist.core.registry import InputSpec, Param, Workflow

__all__ = [
    "SAMPLE_TYPES",
    "SAVE_FIELDS",
    "FormField",
    "build_call",
    "form_fields",
    "is_store_workflow",
    "openapi_request",
    "save_fields",
    "web_params",
]

SAMPLE_TYPES = ("plasma", "tissue", "cell_pellet", "tumour", "blood", "cell_line", "other")
#: Fields of "save to a study" (offered when a workflow records and no option takes the name).
SAVE_FIELDS = ("study", "subject", "sample", "sample_type", "collected")
_TRUE = {"true", "on", "1", "yes"}
_FALSE = {"false", "off", "0", "no", ""}


@dataclass(frozen=True, slots=True)
class FormField:
    """One widget of an analyse page."""

    name: str
    label: str
    help: str
    widget: str  # file | folder | text | number | integer | checkbox | select | lines | path
    required: bool = False
    default: Any = None
    choices: tuple[str, ...] = ()
    multiple: bool = False
    is_input: bool = False
    flag: str = ""

    @property
    def default_text(self) -> str:
        if self.default is None or self.default == ():
            return ""
        if isinstance(self.default, list | tuple):
            return "\n".join(str(v) for v in self.default)
        return str(self.default)


def web_params(wf: Workflow) -> list[Param]:
    """The options the web offers: not output files, not store locations."""
    return [p for p in wf.params if p.web and p.output is None]


def is_store_workflow(wf: Workflow) -> bool:
    """A workflow that opens the store itself (study import, timeline, lineage): it takes the
    web app's store and is limited to the user's studies."""
    return any(p.name == "db" and not p.web for p in wf.params)


def save_fields(wf: Workflow) -> tuple[str, ...]:
    """The save-to-study fields available for ``wf`` (none when it records nothing)."""
    if not wf.records or is_store_workflow(wf):
        return ()
    taken = {p.name for p in wf.params} | {i.name for i in wf.inputs} | set(_flag_aliases(wf))
    return tuple(f for f in SAVE_FIELDS if f not in taken)


def _flag_aliases(wf: Workflow) -> dict[str, str]:
    """Names spelled as the CLI flag (``sample`` for ``sample_name`` given as ``--sample``)."""
    out = {}
    for p in web_params(wf):
        alias = p.cli_flag.removeprefix("--").replace("-", "_")
        if alias != p.name:
            out[alias] = p.name
    return out


def _label(name: str) -> str:
    return name.replace("_", " ")


def _param_field(p: Param) -> FormField:
    if p.choices is not None:
        widget = "select"
    elif p.type is bool:
        widget = "checkbox"
    elif p.type is int:
        widget = "integer"
    elif p.type is float:
        widget = "number"
    elif p.type is Path:
        widget = "path"
    else:
        widget = "text"
    if p.multiple and widget in ("text", "integer", "number", "path"):
        widget = "lines"
    return FormField(
        name=p.name,
        label=_label(p.name),
        help=p.help,
        widget=widget,
        required=p.required,
        default=p.default,
        choices=p.choices or (),
        multiple=p.multiple,
        flag=p.cli_flag,
    )


def _input_field(spec: InputSpec) -> FormField:
    return FormField(
        name=spec.name,
        label=_label(spec.name),
        help=spec.help,
        widget="file" if spec.kind == "file" else "folder",
        required=spec.required,
        multiple=spec.multiple or spec.kind != "file",
        is_input=True,
        flag=spec.cli_flag if spec.option else spec.name.upper(),
        choices=spec.suffixes,
    )


def form_fields(wf: Workflow) -> list[FormField]:
    """The widgets of ``wf``'s analyse page: inputs first, then options."""
    out = [_input_field(i) for i in wf.inputs]
    out += [_param_field(p) for p in web_params(wf)]
    if wf.extra.get("sample_type_param"):
        out.append(
            FormField(
                name="sample_type",
                label="sample type",
                help="What the sample is (the interpretation's context).",
                widget="select",
                choices=SAMPLE_TYPES,
            )
        )
    return out


# -- conversion ------------------------------------------------------------------------------
def _bool(text: str, flag: str) -> bool:
    t = text.strip().lower()
    if t in _TRUE:
        return True
    if t in _FALSE:
        return False
    msg = f"option {flag}: {text!r} is not true or false"
    raise InputError(msg)


def _scalar(p: Param, text: str, data_dir: Path | None, *, writes: bool = False) -> Any:
    flag = p.cli_flag
    if p.choices is not None:
        for choice in p.choices:
            if choice.lower() == text.lower():
                return choice
        msg = f"option {flag}: {text!r} is not one of {', '.join(p.choices)}"
        raise InputError(msg)
    if p.type is int:
        try:
            return int(text)
        except ValueError:
            msg = f"option {flag}: {text!r} is not a whole number"
            raise InputError(msg) from None
    if p.type is float:
        try:
            value = float(text)
        except ValueError:
            msg = f"option {flag}: {text!r} is not a number"
            raise InputError(msg) from None
        if not math.isfinite(value):
            msg = f"option {flag}: {text!r} is not a finite number"
            raise InputError(msg)
        return value
    if p.type is Path:
        return resolve_data_target(data_dir, text) if writes else resolve_data_path(data_dir, text)
    return text


def _texts(values: Mapping[str, Sequence[str]], name: str, *, lines: bool) -> list[str]:
    out: list[str] = []
    for v in values.get(name, ()):
        parts = v.splitlines() if lines else [v]
        out += [s.strip() for s in parts if s.strip()]
    return out


def _param_value(
    p: Param, values: Mapping[str, Sequence[str]], data_dir: Path | None, *, writes: bool = False
) -> Any:
    if p.type is bool:
        given = list(values.get(p.name, ()))
        return p.default if not given else _bool(given[-1], p.cli_flag)
    texts = _texts(values, p.name, lines=p.multiple)
    if p.multiple:
        return [_scalar(p, t, data_dir, writes=writes) for t in texts] or None
    if not texts:
        if p.required:
            msg = f"missing option {p.cli_flag}: {p.help}"
            raise InputError(msg)
        return p.default
    if len(texts) > 1:
        msg = f"option {p.cli_flag} given {len(texts)} times; it takes one value"
        raise InputError(msg)
    return _scalar(p, texts[0], data_dir, writes=writes)


def _input_value(
    spec: InputSpec,
    uploads: Sequence[UploadLike],
    paths: Sequence[str],
    area: UploadArea,
    data_dir: Path | None,
) -> Any:
    uploads = [u for u in uploads if u.filename]
    chosen: list[Path] = [resolve_data_path(data_dir, t) for t in paths]
    if uploads:
        if spec.kind == "file":
            chosen += [area.save(u) for u in uploads]
        else:
            folder = area.folder()
            saved = [area.save(u, folder=folder) for u in uploads]
            import zipfile

            if spec.kind == "path" and len(saved) == 1 and zipfile.is_zipfile(saved[0]):
                chosen.append(saved[0])  # the reader takes the zip itself
            else:
                for path in saved:
                    if zipfile.is_zipfile(path):
                        area.extract_zip(path, folder)
                chosen.append(folder)
    for path in chosen:
        if spec.kind == "file" and path.is_dir():
            msg = f"input {spec.name}: {path.name} is a folder; a file is expected"
            raise InputError(msg)
        if spec.kind == "dir" and not path.is_dir():
            msg = f"input {spec.name}: {path.name} is not a folder"
            raise InputError(msg)
        if spec.suffixes and path.is_file():
            if not any(path.name.lower().endswith(s) for s in spec.suffixes):
                shown = area.names.get(str(path), path.name)
                msg = f"input {spec.name}: {shown!r} is not a {' or '.join(spec.suffixes)} file"
                raise InputError(msg)
    if not chosen:
        if spec.required:
            msg = f"missing input {spec.name} ({spec.help}); upload a file"
            raise InputError(msg)
        return None
    if not spec.multiple and len(chosen) > 1:
        msg = f"input {spec.name} takes one file; got {len(chosen)}"
        raise InputError(msg)
    return chosen if spec.multiple else chosen[0]


def build_call(
    wf: Workflow,
    values: Mapping[str, Sequence[str]],
    uploads: Mapping[str, Sequence[UploadLike]],
    *,
    area: UploadArea,
    data_dir: Path | None,
    store_url: str | None = None,
) -> dict[str, Any]:
    """Keyword arguments for ``wf(**call)`` from form values and uploads (see the module doc)."""
    aliases = _flag_aliases(wf)
    merged: dict[str, list[str]] = {}
    for key, items in values.items():
        merged.setdefault(aliases.get(key, key), []).extend(items)
    values = merged
    call: dict[str, Any] = {}
    writes = set(wf.extra.get("writes", ()))  # Path options the workflow writes to
    for p in web_params(wf):
        call[p.name] = _param_value(p, values, data_dir, writes=p.name in writes)
    for spec in wf.inputs:
        call[spec.name] = _input_value(
            spec,
            uploads.get(spec.name, ()),
            _texts(values, spec.name + "__path", lines=True),
            area,
            data_dir,
        )
    context = wf.extra.get("sample_type_param")
    if context:
        texts = _texts(values, "sample_type", lines=False)
        if texts and texts[-1] not in SAMPLE_TYPES:
            msg = f"option --sample-type: {texts[-1]!r} is not one of {', '.join(SAMPLE_TYPES)}"
            raise InputError(msg)
        call[str(context)] = texts[-1] if texts else None
    if is_store_workflow(wf):
        call["db"] = store_url
    return call


def display_parameters(wf: Workflow, call: Mapping[str, Any], area: UploadArea) -> dict[str, Any]:
    """The call as the user would recognise it (uploads by their own names), for job pages."""
    out: dict[str, Any] = {}
    for key, value in call.items():
        if key == "db":
            continue
        if isinstance(value, Path):
            out[key] = area.names.get(str(value), value.name)
        elif isinstance(value, list) and value and isinstance(value[0], Path):
            out[key] = [area.names.get(str(v), v.name) for v in value]
        else:
            out[key] = value
    return out


def json_values(wf: Workflow, body: Mapping[str, Any]) -> dict[str, list[str]]:
    """A JSON request body as form values: inputs name server paths; ``<multiple option>s``
    (``findings``) is accepted for a multiple option (``finding``)."""
    known = {p.name: p for p in web_params(wf)}
    inputs = {i.name for i in wf.inputs}
    aliases = {p.name + "s": p.name for p in known.values() if p.multiple}
    aliases.update(_flag_aliases(wf))
    allowed = set(known) | inputs | set(save_fields(wf)) | set(aliases)
    if wf.extra.get("sample_type_param"):
        allowed.add("sample_type")
    out: dict[str, list[str]] = {}
    for key, value in body.items():
        if key not in allowed:
            msg = f"unknown field {key!r} for {wf.name}; expected some of {sorted(allowed)}"
            raise InputError(msg)
        name = aliases.get(key, key)
        if name in inputs:
            name += "__path"
        items = value if isinstance(value, list) else [value]
        texts = []
        for item in items:
            if item is None:
                continue
            if isinstance(item, bool):
                texts.append("true" if item else "false")
            elif isinstance(item, int | float | str):
                texts.append(str(item))
            else:
                msg = f"field {key!r}: expected text, a number, true/false or a list of them"
                raise InputError(msg)
        out.setdefault(name, []).extend(texts)
    return out


# -- OpenAPI -----------------------------------------------------------------------------------
def _schema(p: Param) -> dict[str, Any]:
    if p.choices is not None:
        base: dict[str, Any] = {"type": "string", "enum": list(p.choices)}
    elif p.type is bool:
        base = {"type": "boolean"}
    elif p.type is int:
        base = {"type": "integer"}
    elif p.type is float:
        base = {"type": "number"}
    elif p.type is Path:
        base = {"type": "string", "description": "path inside the server data folder"}
    else:
        base = {"type": "string"}
    if p.default is not None and not p.multiple:
        base["default"] = p.default
    base["description"] = (p.help + " " + base.get("description", "")).strip()
    if p.multiple:
        return {"type": "array", "items": base, "description": base["description"]}
    return base


def openapi_request(wf: Workflow) -> dict[str, Any]:
    """The ``requestBody`` of ``wf``'s API endpoint: multipart (uploads) or JSON (server paths)."""
    form: dict[str, Any] = {}
    js: dict[str, Any] = {}
    for spec in wf.inputs:
        binary = {"type": "string", "format": "binary"}
        form[spec.name] = (
            {"type": "array", "items": binary, "description": spec.help}
            if spec.multiple or spec.kind != "file"
            else {**binary, "description": spec.help}
        )
        path = {"type": "string", "description": f"{spec.help} (path inside the data folder)"}
        form[spec.name + "__path"] = path
        js[spec.name] = path
    required = []
    for p in web_params(wf):
        form[p.name] = js[p.name] = _schema(p)
        if p.required:
            required.append(p.name)
    if wf.extra.get("sample_type_param"):
        form["sample_type"] = js["sample_type"] = {"type": "string", "enum": list(SAMPLE_TYPES)}
    for name in save_fields(wf):
        form[name] = js[name] = {
            "type": "string",
            "description": {
                "study": "Record the result in this study (one of yours).",
                "subject": "Subject for rows that do not name their own.",
                "sample": "Sample for rows that do not name their own.",
                "sample_type": "Sample type recorded in the store.",
                "collected": "Collection date (ISO 8601).",
            }[name],
        }
    return {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {"type": "object", "properties": form, "required": required}
            },
            "application/json": {
                "schema": {"type": "object", "properties": js, "required": required}
            },
        },
    }
