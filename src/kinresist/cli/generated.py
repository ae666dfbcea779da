"""CLI commands generated from the workflow registry (:mod:`kinresist.core.registry`).

Every registered workflow becomes ``kinresist <group> <command> INPUTS... [options]`` with the
same output and store options::

    --format/-f  text|json|tsv|parquet|html     what to print (parquet and html need --out)
    --out/-o     PATH                           write the output to a file instead of stdout
    --html       PATH                           also write the HTML report
    --db, --study, --subject, --sample, --sample-type, --collected   record in the project store
    --quiet/-q                                  no progress bars
    --dask       ADDRESS                        (``distributable`` workflows) compute on a Dask
                                                cluster; default $KINRESIST_DASK

A workflow with a ``stream`` function writes ``--format parquet|tsv --out`` tables while it
computes (screen-scale inputs, :attr:`~kinresist.core.registry.Workflow.stream`).

A command reads nothing itself: the workflow's run function gets the paths and options, returns a
:class:`~kinresist.core.Result`, and this module writes it and hands it to the one store writer.
"""

from __future__ import annotations

import datetime as dt
import inspect
import os
import sys
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from kinresist.core.registry import InputSpec, Param, Workflow
    from kinresist.core.result import Result

__all__ = ["Format", "attach", "build_command", "choose_format", "emit_result", "record_result"]


class Format(StrEnum):
    """The common ``--format`` choices (also of the hand-written commands over registered
    workflows: ``study import``, ``timeline``, ``lineage add|show``)."""

    text = "text"
    json = "json"
    tsv = "tsv"
    parquet = "parquet"
    html = "html"


FORMATS = tuple(f.value for f in Format)
SAMPLE_TYPES = ("plasma", "tissue", "cell_pellet", "tumour", "blood", "cell_line", "other")
_SampleType = StrEnum("_SampleType", {t: t for t in SAMPLE_TYPES})  # type: ignore[misc]


def _choice_enum(name: str, choices: tuple[str, ...]) -> type[StrEnum]:
    return StrEnum(name, {c: c for c in choices})  # type: ignore[return-value]


def _annotation(param: Param) -> Any:
    if param.choices is not None:
        base: Any = _choice_enum(param.name, param.choices)
    elif param.type is Path:
        base = Path
    else:
        base = param.type
    if param.multiple:
        return list[base] | None  # type: ignore[valid-type]
    return base if (param.required or param.default is not None) else (base | None)


def _option_param(param: Param) -> inspect.Parameter:
    decls = [param.cli_flag, *([param.short] if param.short else [])]
    if param.type is bool:
        base = param.cli_flag.removeprefix("--")
        decls = [f"--{base}/--no-{base}", *([param.short] if param.short else [])]
    default: Any = param.default
    if param.choices is not None and default is not None:
        default = str(default)
    opt = typer.Option(
        *decls,
        help=param.help,
        case_sensitive=False,
        show_default=default is not None and default != (),
    )
    return inspect.Parameter(
        param.name,
        inspect.Parameter.KEYWORD_ONLY,
        annotation=Annotated[_annotation(param), opt],
        default=inspect.Parameter.empty if param.required else default,
    )


def _input_param(spec: InputSpec) -> inspect.Parameter:
    ptype: Any = list[Path] if spec.multiple else Path
    kw = {
        "exists": True,
        "dir_okay": spec.kind in ("dir", "path"),
        "file_okay": spec.kind in ("file", "path"),
        "help": spec.help,
    }
    if spec.option:
        marker = typer.Option(
            spec.cli_flag,
            *([spec.short] if spec.short else []),
            **kw,  # type: ignore[arg-type]
        )
    else:
        marker = typer.Argument(**kw)  # type: ignore[arg-type]
    if not spec.required:
        ptype = ptype | None
    return inspect.Parameter(
        spec.name,
        inspect.Parameter.KEYWORD_ONLY,
        annotation=Annotated[ptype, marker],
        default=inspect.Parameter.empty if spec.required else None,
    )


def _claims_out(wf: Workflow) -> bool:
    """Whether the workflow's own option is ``--out`` (e.g. the BAM an aligner writes)."""
    return any(p.cli_flag == "--out" for p in wf.params) or any(
        i.option and i.cli_flag == "--out" for i in wf.inputs
    )


def _formats(wf: Workflow) -> tuple[str, ...]:
    return FORMATS + tuple(f for f in wf.writers if f not in FORMATS)


def _infer_format(wf: Workflow, out: Path | None) -> str | None:
    """The format an ``--out`` name asks for (``.json``, ``.tsv``, ``.parquet``, ``.html``, or a
    workflow writer's suffix such as ``.vcf``), used when ``--format`` is not given."""
    if out is None:
        return None
    suffix = out.suffix.lower().lstrip(".")
    known = {"json": "json", "tsv": "tsv", "parquet": "parquet", "html": "html", "htm": "html"}
    known.update({f: f for f in wf.writers})
    return known.get(suffix)


def choose_format(wf: Workflow, given: str | None, out: Path | None) -> str:
    """The output format: ``--format``, else the one the ``--out`` suffix names, else the
    workflow's default. A ``--format`` that contradicts the ``--out`` suffix is refused."""
    inferred = _infer_format(wf, out)
    fmt = given if given is not None else (inferred or wf.default_format)
    if inferred is not None and inferred != fmt:
        from kinresist.errors import InputError

        msg = (
            f"--format {fmt} would write {fmt.upper()} into {out} (a .{inferred} name); "
            f"use --format {inferred}, or an --out name that fits {fmt}"
        )
        raise InputError(msg)
    return fmt


def _common_params(wf: Workflow) -> list[inspect.Parameter]:
    def kw(name: str, annotation: Any, default: Any) -> inspect.Parameter:
        return inspect.Parameter(
            name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation, default=default
        )

    fmt_enum = Format if not wf.writers else _choice_enum("fmt", _formats(wf))
    out = [
        kw(
            "fmt",
            Annotated[
                fmt_enum | None,  # type: ignore[valid-type]
                typer.Option(
                    "--format",
                    "-f",
                    help="Output: a human summary, JSON, the primary table as TSV, Parquet tables "
                    "(needs --out) or the HTML report (needs --out)"
                    + "".join(f", {f} (needs --out)" for f in wf.writers)
                    + f". Default: from the --out suffix, else {wf.default_format}.",
                    case_sensitive=False,
                    show_default=False,
                ),
            ],
            None,
        ),
    ]
    if not _claims_out(wf):
        out.append(
            kw(
                "out",
                Annotated[Path | None, typer.Option("--out", "-o", help="Write the output here.")],
                None,
            )
        )
    out += [
        kw(
            "html_path",
            Annotated[
                Path | None, typer.Option("--html", help="Also write the HTML report to this file.")
            ],
            None,
        ),
        kw(
            "quiet", Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")], False
        ),
    ]
    if wf.distributable:
        out.append(
            kw(
                "dask",
                Annotated[
                    str | None,
                    typer.Option(
                        "--dask",
                        envvar="KINRESIST_DASK",
                        help="Compute on the Dask cluster whose scheduler has this address "
                        "(tcp://HOST:8786); results equal a local run. Default $KINRESIST_DASK; "
                        "unset: run here (docs/scale-out.md).",
                    ),
                ],
                None,
            )
        )
    if wf.records:
        out += [
            kw(
                "db",
                Annotated[
                    str | None,
                    typer.Option(
                        "--db",
                        help="Record the result in this project store (SQLite path or "
                        "SQLAlchemy URL; default $KINRESIST_DB). Nothing is recorded without one.",
                    ),
                ],
                None,
            ),
            kw("study", Annotated[str, typer.Option("--study", help="Study name.")], "default"),
            kw(
                "subject",
                Annotated[
                    str | None,
                    typer.Option(
                        "--subject",
                        help=f"The {wf.subject_kind.replace('_', ' ')} the samples come from "
                        "(for rows that do not name their own).",
                    ),
                ],
                None,
            ),
            kw(
                "sample",
                Annotated[
                    str | None,
                    typer.Option(
                        "--sample", help="Sample label for rows that do not name their own."
                    ),
                ],
                None,
            ),
            kw(
                "sample_type",
                Annotated[
                    _SampleType | None,
                    typer.Option(
                        "--sample-type", help="Sample type recorded in the store (never guessed)."
                    ),
                ],
                None if wf.sample_type is None else _SampleType(wf.sample_type),
            ),
            kw(
                "collected",
                Annotated[
                    str | None,
                    typer.Option("--collected", help="Collection date or date-time (ISO 8601)."),
                ],
                None,
            ),
        ]
    return out


def _parse_collected(text: str | None) -> dt.date | dt.datetime | None:
    from kinresist.errors import InputError

    if not text:
        return None
    try:
        return (
            dt.datetime.fromisoformat(text)
            if "T" in text or " " in text
            else dt.date.fromisoformat(text)
        )
    except ValueError as exc:
        msg = (
            f"--collected {text!r} is not an ISO date (2026-03-01) or date-time (2026-03-01T09:30)"
        )
        raise InputError(msg) from exc


def emit_result(
    wf: Workflow, result: Result, *, fmt: str, out: Path | None, html_path: Path | None
) -> None:
    """Write ``result`` in ``fmt`` to stdout or ``out``; the HTML report to ``html_path``."""
    from kinresist.errors import InputError

    if html_path is not None:
        html_path.parent.mkdir(parents=True, exist_ok=True)
        html_path.write_text(render_html(wf, result), encoding="utf-8")
    if (fmt in ("parquet", "html") or fmt in wf.writers) and out is None:
        msg = f"--format {fmt} writes a file: add --out PATH"
        raise InputError(msg)
    if fmt in wf.writers and fmt not in FORMATS:
        from kinresist.core.registry import resolve

        assert out is not None
        out.parent.mkdir(parents=True, exist_ok=True)
        resolve(wf.writers[fmt])(result, out)
        sys.stderr.write(f"wrote {out}\n")
        return
    if fmt == "parquet":
        assert out is not None
        written = result.write(out, "parquet")
        sys.stderr.write("wrote " + ", ".join(str(p) for p in written) + "\n")
        return
    if fmt == "html":
        assert out is not None
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(render_html(wf, result), encoding="utf-8")
        sys.stderr.write(f"wrote {out}\n")
        return
    if fmt == "json":
        text = result.to_json()
    elif fmt == "tsv":
        text = result.to_tsv()
    else:
        text = render_text(wf, result)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
    else:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")


def ensure_figures(wf: Workflow, result: Result) -> Result:
    """Add the figures a workflow draws on demand (its ``figures`` hook), once."""
    if wf.figures and not result.figures:
        from kinresist.core.registry import resolve

        resolve(wf.figures)(result)
    return result


def render_html(wf: Workflow, result: Result) -> str:
    from kinresist.core.registry import resolve

    ensure_figures(wf, result)
    if wf.report:
        return str(resolve(wf.report)(result))
    from kinresist.reports.result import render_result

    return render_result(result)


def render_text(wf: Workflow, result: Result) -> str:
    """A human summary: the workflow's own text renderer, or warnings + the primary table."""
    from kinresist.core.registry import resolve

    if wf.text:
        return str(resolve(wf.text)(result))
    import pandas as pd

    lines = [f"{result.workflow} (kinresist {result.provenance.kinresist_version})"]
    lines += [f"warning: {w}" for w in result.warnings]
    frame = result.primary_table
    width = 200 if not sys.stdout.isatty() else os.get_terminal_size().columns
    with pd.option_context("display.width", width, "display.max_columns", 30):
        lines.append(frame.to_string(index=False, max_rows=200) if len(frame) else "(no rows)")
    return "\n".join(lines)


def record_result(
    wf: Workflow,
    result: Result,
    *,
    db: str | None,
    study: str,
    subject: str | None,
    sample: str | None,
    sample_type: str | None,
    collected: str | None,
) -> dict[str, Any] | None:
    """Record in the store when ``--db``/``$KINRESIST_DB`` names one; a one-line note on stderr."""
    url = db or os.environ.get("KINRESIST_DB")
    if not url:
        return None
    if subject is None and wf.extra.get("subject_from_sample"):
        labels = {f.sample for f in result.findings if f.sample} | {
            m.sample for m in result.measurements if m.sample
        }
        if len(labels) == 1:
            subject = labels.pop()
            sys.stderr.write(f"subject not given: recorded under the sample's label {subject!r}\n")
    from kinresist.core.record import SampleInfo, record
    from kinresist.store import open_store

    info = SampleInfo(sample_type=sample_type, collected=_parse_collected(collected))
    with open_store(url) as store:
        summary = record(
            result,
            store,
            study=study,
            subject=subject,
            sample=sample,
            subject_kind=wf.subject_kind,
            info=info,
        )
    sys.stderr.write(
        f"recorded run {summary.run_id} in {summary.db}: {summary.measurements} measurements, "
        f"{summary.findings} findings, {len(summary.samples)} samples\n"
    )
    return summary.to_dict()


def write_extra_outputs(wf: Workflow, result: Result, targets: dict[str, tuple[str, Path]]) -> None:
    """Write the ``output`` options: a table (format by suffix), the HTML report, or figures."""
    for kind, path in targets.values():
        if kind == "html":
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(render_html(wf, result), encoding="utf-8")
        elif kind == "table" or kind.startswith("table:"):
            result.write(path, table=kind.partition(":")[2] or None)
        elif kind.startswith("writer:"):
            from kinresist.core.registry import resolve

            path.parent.mkdir(parents=True, exist_ok=True)
            resolve(wf.writers[kind.partition(":")[2]])(result, path)
        elif kind == "figures":
            path.mkdir(parents=True, exist_ok=True)
            for fig in ensure_figures(wf, result).figures:
                safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in fig.name)
                if fig.svg is not None:
                    (path / f"{safe}.svg").write_text(fig.svg, encoding="utf-8")
                if fig.png is not None:
                    (path / f"{safe}.png").write_bytes(fig.png)


def _run(
    wf: Workflow,
    call: dict[str, Any],
    *,
    fmt: str,
    out: Path | None,
    html: Path | None,
    targets: dict[str, tuple[str, Path]],
) -> tuple[Result, list[Path]]:
    """Run the workflow; through its ``stream`` function when it has one and only tables are
    written to files (see :attr:`Workflow.stream`)."""
    tables_only = all(kind == "table" or kind.startswith("table:") for kind, _ in targets.values())
    if wf.stream and out is not None and fmt in ("parquet", "tsv") and html is None and tables_only:
        from kinresist.core.registry import resolve

        tables = {kind.partition(":")[2] or "": path for kind, path in targets.values()}
        result, written = resolve(wf.stream)(out=out, fmt=fmt, tables=tables, **call)
        return result, list(written)
    return wf(**call), []


def build_command(wf: Workflow) -> Callable[..., None]:
    """A function whose signature Typer turns into the workflow's command."""
    names = {p.name for p in wf.params if p.output is None} | {i.name for i in wf.inputs}
    outputs = {p.name: p.output for p in wf.params if p.output is not None}

    claims_out = _claims_out(wf)

    def command(**kwargs: Any) -> None:
        given = kwargs.pop("fmt")
        out = None if claims_out else kwargs.pop("out")
        fmt = choose_format(wf, None if given is None else str(given.value), out)
        html_path = kwargs.pop("html_path")
        quiet = kwargs.pop("quiet")
        store_opts = {
            k: kwargs.pop(k, None)
            for k in ("db", "study", "subject", "sample", "sample_type", "collected")
        }
        if store_opts["sample_type"] is not None:
            store_opts["sample_type"] = str(store_opts["sample_type"].value)
        call = {
            k: (str(v.value) if isinstance(v, StrEnum) else v)
            for k, v in kwargs.items()
            if k in names
        }
        if quiet or not sys.stderr.isatty():
            os.environ["KINRESIST_QUIET"] = "1"
        _parse_collected(store_opts["collected"])  # refuse a bad date before any work
        extra = {k: kwargs.get(k) for k in outputs}
        context = wf.extra.get("sample_type_param")
        if context:
            call[context] = store_opts["sample_type"]
        if call.get(wf.extra.get("store_option", "")):  # this option reads the store: db=, study=
            call["db"] = store_opts["db"] or os.environ.get("KINRESIST_DB")
            call["study"] = store_opts["study"] or "default"
        if wf.distributable:
            call["dask"] = kwargs.get("dask") or None
        targets = {k: (outputs[k], v) for k, v in extra.items() if v}
        from kinresist.core.result import WANT_PNG

        WANT_PNG.set(any(kind == "figures" for kind, _ in targets.values()))
        result, written = _run(wf, call, fmt=fmt, out=out, html=html_path, targets=targets)
        if written:
            sys.stderr.write("wrote " + ", ".join(str(p) for p in written) + "\n")
        else:
            write_extra_outputs(wf, result, targets)
        if wf.records:
            record_result(wf, result, **{**store_opts, "study": store_opts["study"] or "default"})
        if not written:
            emit_result(wf, result, fmt=fmt, out=out, html_path=html_path)

    params = [_input_param(i) for i in wf.inputs]
    params += [_option_param(p) for p in wf.params]
    taken = {p.cli_flag for p in wf.params} | {i.cli_flag for i in wf.inputs if i.option}
    params += [
        p
        for p in _common_params(wf)
        if "--" + p.name.replace("_", "-") not in taken and p.name not in names
    ]
    command.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    command.__doc__ = wf.help
    command.__name__ = f"{wf.group}_{wf.command}".replace("-", "_")
    return command


def command_names() -> set[str]:
    """Names of the generated command groups and top-level commands."""
    from kinresist.core.registry import workflows

    return {wf.group for wf in workflows().values()}


def attach(
    app: typer.Typer, existing: dict[str, typer.Typer] | None = None, *, only: str | None = None
) -> None:
    """Add every registered workflow to ``app`` as ``<group> <command>`` (``only``: just the
    workflows of that group or top-level command).

    ``existing`` maps group names to the hand-written Typer apps already registered; their
    commands are kept, and generated ones are added beside them.
    """
    from kinresist.core.registry import group_help, workflows

    helps = group_help()
    groups: dict[str, typer.Typer] = dict(existing or {})
    for wf in workflows().values():
        if only is not None and wf.group != only:
            continue
        if wf.toplevel:
            if wf.group not in {c.name for c in app.registered_commands}:
                app.command(wf.group, help=wf.help)(build_command(wf))
            continue
        group = groups.get(wf.group)
        if group is None:
            group = typer.Typer(no_args_is_help=True, help=helps.get(wf.group, ""))
            groups[wf.group] = group
            app.add_typer(group, name=wf.group, help=helps.get(wf.group, ""))
        taken = {c.name for c in group.registered_commands}
        if wf.command in taken:
            continue
        group.command(wf.command, help=wf.help, no_args_is_help=bool(wf.inputs))(build_command(wf))
