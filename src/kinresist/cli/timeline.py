"""``kinresist timeline SUBJECT``: a subject's ctDNA timeline from the project store."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from kinresist.cli._common import DbOpt, resolve_db
from kinresist.cli.generated import Format

if TYPE_CHECKING:
    from kinresist.core.result import Result

__all__ = ["FormatOpt", "OutOpt", "emit", "register", "timeline_command"]

#: ``--format`` of the hand-written commands over registered workflows: the generated
#: commands' choices (text, json, tsv, parquet, html), written by the same helper.
FormatOpt = Annotated[
    Format | None,
    typer.Option(
        "--format",
        "-f",
        case_sensitive=False,
        help="text, json, tsv (the primary table), parquet (every table; needs --out) or html "
        "(needs --out). Default: from the --out suffix, else the command's default.",
        show_default=False,
    ),
]
OutOpt = Annotated[Path | None, typer.Option("--out", "-o", help="Write the output here.")]


def emit(name: str, result: Result, fmt: Format | None, out: Path | None) -> None:
    """Write the result of registered workflow ``name`` as the generated commands do
    (:func:`kinresist.cli.generated.emit_result`; format from ``--format``, the ``--out``
    suffix, else the workflow's default)."""
    from kinresist.cli.generated import choose_format, emit_result
    from kinresist.core import get_workflow

    wf = get_workflow(name)
    chosen = choose_format(wf, None if fmt is None else fmt.value, out)
    emit_result(wf, result, fmt=chosen, out=out, html_path=None)


def timeline_command(
    subject: Annotated[str, typer.Argument(help="Subject (patient) label, e.g. PT-001.")],
    db: DbOpt = None,
    study: Annotated[
        str | None, typer.Option("--study", help="Study (when the label is in several).")
    ] = None,
    alpha: Annotated[
        float, typer.Option("--alpha", help="Significance level of the rising-trend test.")
    ] = 0.05,
    fmt: FormatOpt = None,
    out: OutOpt = None,
) -> None:
    """A subject's timeline: every draw's value per alteration and assay (below LoD, never 0),
    therapy bands, the KB interpretation of each draw, alerts (new detection, rising trend,
    molecular progression) and the lab's IC50 fold shift for the same alteration. Default
    format json; tsv and parquet give the ``series`` table (parquet also ``alerts`` and
    ``draws``)."""
    from kinresist.core import get_workflow

    result = get_workflow("timeline")(subject=subject, db=resolve_db(db), study=study, alpha=alpha)
    emit("timeline", result, fmt, out)


def register(app: typer.Typer) -> None:
    app.command("timeline")(timeline_command)
