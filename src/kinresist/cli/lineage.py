"""``kinresist lineage add|show``: dose-escalation histories of resistant lines."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from kinresist.cli._common import DbOpt, resolve_db
from kinresist.cli.timeline import Fmt, _from_suffix

__all__ = ["app"]

app = typer.Typer(no_args_is_help=True)

_Study = Annotated[str | None, typer.Option("--study", help="Study (default: 'default').")]
_FmtOpt = Annotated[
    Fmt | None,
    typer.Option("--format", "-f", case_sensitive=False, help="text (default), json, tsv or html."),
]
_Out = Annotated[Path | None, typer.Option("--out", "-o", help="Write the output here.")]


@app.command("add", no_args_is_help=True)
def add(
    line: Annotated[str, typer.Option("--line", help="The line, e.g. H3122-CR.")],
    parent: Annotated[
        str | None, typer.Option("--parent", help="Derived from, e.g. H3122.")
    ] = None,
    event: Annotated[
        str | None,
        typer.Option(
            "--event",
            help="derived, dose_step, characterised, clone, frozen or note (default: dose_step "
            "with --dose, derived with --parent, else note).",
        ),
    ] = None,
    drug: Annotated[str | None, typer.Option("--drug", help="Drug of the dose step.")] = None,
    dose: Annotated[
        str | None, typer.Option("--dose", help="Dose with unit: 0.5uM, 500nM.")
    ] = None,
    passage: Annotated[int | None, typer.Option("--passage", help="Passage number.")] = None,
    date: Annotated[str | None, typer.Option("--date", help="Date (YYYY-MM-DD).")] = None,
    note: Annotated[str, typer.Option("--note", help="Free text.")] = "",
    db: DbOpt = None,
    study: _Study = None,
    fmt: _FmtOpt = None,
    out: _Out = None,
) -> None:
    """Record one event in a line's history (the line and parent are created as cell lines)."""
    from kinresist.cli.generated import emit_result
    from kinresist.core import get_workflow

    wf = get_workflow("lineage.add")
    result = wf(line=line, parent=parent, event=event, drug=drug, dose=dose, passage=passage,
                date=date, note=note, db=resolve_db(db), study=study)  # fmt: skip
    ev = result.body["event"]
    typer.echo(f"recorded lineage event {ev['id']}: {ev['line']} {ev['event']}", err=True)
    emit_result(wf, result, fmt=fmt.value if fmt else _from_suffix(out) or "text", out=out,
                html_path=None)  # fmt: skip


@app.command("show", no_args_is_help=True)
def show(
    line: Annotated[str, typer.Argument(help="The line, e.g. H3122-CR.")],
    db: DbOpt = None,
    study: _Study = None,
    fmt: _FmtOpt = None,
    out: _Out = None,
) -> None:
    """A line's history: doses over time, passages, IC50 at each characterisation (with the
    fold shift its dose run estimated), clones derived, alterations found by sequencing."""
    from kinresist.cli.generated import emit_result
    from kinresist.core import get_workflow

    wf = get_workflow("lineage.show")
    result = wf(line=line, db=resolve_db(db), study=study)
    emit_result(wf, result, fmt=fmt.value if fmt else _from_suffix(out) or "text", out=out,
                html_path=None)  # fmt: skip
