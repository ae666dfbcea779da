"""``kinresist lineage add|show``: dose-escalation histories of resistant lines."""

from __future__ import annotations

from typing import Annotated

import typer

from kinresist.cli._common import DbOpt, resolve_db
from kinresist.cli.timeline import FormatOpt, OutOpt, emit

__all__ = ["app"]

app = typer.Typer(no_args_is_help=True)

_Study = Annotated[str | None, typer.Option("--study", help="Study (default: 'default').")]


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
    fmt: FormatOpt = None,
    out: OutOpt = None,
) -> None:
    """Record one event in a line's history (the line and parent are created as cell lines)."""
    from kinresist.core import get_workflow

    result = get_workflow("lineage.add")(
        line=line,
        parent=parent,
        event=event,
        drug=drug,
        dose=dose,
        passage=passage,
        date=date,
        note=note,
        db=resolve_db(db),
        study=study,
    )
    ev = result.body["event"]
    typer.echo(f"recorded lineage event {ev['id']}: {ev['line']} {ev['event']}", err=True)
    emit("lineage.add", result, fmt, out)


@app.command("show", no_args_is_help=True)
def show(
    line: Annotated[str, typer.Argument(help="The line, e.g. H3122-CR.")],
    db: DbOpt = None,
    study: _Study = None,
    fmt: FormatOpt = None,
    out: OutOpt = None,
) -> None:
    """A line's history: doses over time, passages, IC50 at each characterisation (with the
    fold shift its dose run estimated), clones derived, alterations found by sequencing."""
    from kinresist.core import get_workflow

    result = get_workflow("lineage.show")(line=line, db=resolve_db(db), study=study)
    emit("lineage.show", result, fmt, out)
