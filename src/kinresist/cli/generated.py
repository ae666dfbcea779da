"""CLI commands generated from the workflow registry (:mod:`kinresist.core.registry`).

Every registered workflow becomes ``kinresist <group> <command> INPUTS... [options]`` with the
same output and store options::

    --format/-f  text|json|tsv|parquet|html     what to print (parquet and html need --out)
    --out/-o     PATH                           write the output to a file instead of stdout
    --html       PATH                           also write the HTML report
    --db, --study, --subject, --sample, --sample-type, --collected   record in the project store
    --quiet/-q                                  no progress bars

A command reads nothing itself: the workflow's run function gets the paths and options, returns a
:class:`~kinresist.core.Result`, and this module writes it and hands it to the one store writer.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from kinresist.core.registry import Param, Workflow
    from kinresist.core.result import Result

__all__ = ["attach", "build_command", "emit_result", "record_result"]

FORMATS = ("text", "json", "tsv", "parquet", "html")
SAMPLE_TYPES = ("plasma", "tissue", "cell_pellet", "tumour", "blood", "cell_line", "other")


def _click_type(param: Param) -> Any:
    if param.choices is not None:
        return click.Choice(list(param.choices), case_sensitive=False)
    if param.type is Path:
        return click.Path(path_type=Path)
    return param.type


def _option(param: Param) -> click.Option:
    flags = [param.cli_flag] + ([param.short] if param.short else [])
    if param.type is bool:
        base = param.cli_flag.removeprefix("--")
        return click.Option(
            [f"--{base}/--no-{base}", *([param.short] if param.short else [])],
            default=bool(param.default),
            show_default=True,
            help=param.help,
            expose_value=True,
        )
    return click.Option(
        flags,
        type=_click_type(param),
        default=param.default if not param.multiple else (param.default or ()),
        required=param.required,
        multiple=param.multiple,
        show_default=param.default is not None and param.default != (),
        help=param.help,
    )


def _common_options(wf: Workflow) -> list[click.Parameter]:
    opts: list[click.Parameter] = [
        click.Option(
            ["--format", "-f", "fmt"],
            type=click.Choice(FORMATS, case_sensitive=False),
            default=wf.default_format,
            show_default=True,
            help="Output: a human summary, JSON, the primary table as TSV, Parquet tables "
            "(needs --out) or the HTML report (needs --out).",
        ),
        click.Option(
            ["--out", "-o"], type=click.Path(path_type=Path), help="Write the output here."
        ),
        click.Option(
            ["--html", "html_path"],
            type=click.Path(path_type=Path),
            help="Also write the HTML report to this file.",
        ),
        click.Option(["--quiet", "-q"], is_flag=True, help="No progress bars."),
    ]
    if wf.records:
        opts += [
            click.Option(
                ["--db"],
                help="Record the result in this project store (SQLite path or SQLAlchemy URL; "
                "default $KINRESIST_DB). Nothing is recorded without one.",
            ),
            click.Option(["--study"], default="default", show_default=True, help="Study name."),
            click.Option(
                ["--subject"],
                help=f"The {wf.subject_kind.replace('_', ' ')} the samples come from "
                "(for rows that do not name their own).",
            ),
            click.Option(["--sample"], help="Sample label for rows that do not name their own."),
            click.Option(
                ["--sample-type"],
                type=click.Choice(SAMPLE_TYPES),
                default=wf.sample_type,
                show_default=wf.sample_type is not None,
                help="Sample type recorded in the store (never guessed).",
            ),
            click.Option(
                ["--collected"], help="Collection date or date-time (ISO 8601) of the sample."
            ),
        ]
    return opts


def _inputs(wf: Workflow) -> list[click.Parameter]:
    out: list[click.Parameter] = []
    for spec in wf.inputs:
        ptype = click.Path(
            exists=True,
            dir_okay=spec.kind in ("dir", "path"),
            file_okay=spec.kind in ("file", "path"),
            path_type=Path,
        )
        if spec.option:
            out.append(
                click.Option(
                    ["--" + spec.name.replace("_", "-")],
                    type=ptype,
                    required=spec.required,
                    multiple=spec.multiple,
                    help=spec.help,
                )
            )
        else:
            out.append(
                click.Argument(
                    [spec.name],
                    type=ptype,
                    required=spec.required,
                    nargs=-1 if spec.multiple else 1,
                )
            )
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
    if fmt in ("parquet", "html") and out is None:
        msg = f"--format {fmt} writes a file: add --out PATH"
        raise InputError(msg)
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


def render_html(wf: Workflow, result: Result) -> str:
    from kinresist.core.registry import resolve

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


def build_command(wf: Workflow) -> click.Command:
    """The click command of one workflow."""
    names = {p.name for p in wf.params} | {i.name for i in wf.inputs}

    def callback(**kwargs: Any) -> None:
        fmt = kwargs.pop("fmt")
        out = kwargs.pop("out")
        html_path = kwargs.pop("html_path")
        quiet = kwargs.pop("quiet")
        store_opts = {
            k: kwargs.pop(k, None)
            for k in ("db", "study", "subject", "sample", "sample_type", "collected")
        }
        call = {
            k: (list(v) if isinstance(v, tuple) else v) for k, v in kwargs.items() if k in names
        }
        if quiet or not sys.stderr.isatty():
            os.environ["KINRESIST_QUIET"] = "1"
        _parse_collected(store_opts["collected"])  # refuse a bad date before any work
        result = wf(**call)
        if wf.records:
            record_result(wf, result, **{**store_opts, "study": store_opts["study"] or "default"})
        emit_result(wf, result, fmt=fmt, out=out, html_path=html_path)

    params = _inputs(wf) + [_option(p) for p in wf.params] + _common_options(wf)
    return click.Command(
        wf.command, callback=callback, params=params, help=wf.help, no_args_is_help=bool(wf.inputs)
    )


def attach(root: click.Group) -> None:
    """Add every registered workflow to ``root`` (creating its group when needed).

    A command that a hand-written group already defines is left alone.
    """
    from kinresist.core.registry import group_help, workflows

    helps = group_help()
    for wf in workflows().values():
        group = root.commands.get(wf.group)
        if group is None:
            group = click.Group(wf.group, help=helps.get(wf.group, ""), no_args_is_help=True)
            root.add_command(group)
        if not isinstance(group, click.Group):
            continue
        if wf.command not in group.commands:
            group.add_command(build_command(wf))
