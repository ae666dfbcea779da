"""``kinresist timeline SUBJECT``: a subject's ctDNA timeline from the project store."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from kinresist.cli._common import DbOpt, resolve_db

__all__ = ["Fmt", "register", "timeline_command"]


class Fmt(StrEnum):
    """Outputs of the store-reading monitoring commands."""

    text = "text"
    json = "json"
    tsv = "tsv"
    html = "html"


def timeline_command(
    subject: Annotated[str, typer.Argument(help="Subject (patient) label, e.g. PT-001.")],
    db: DbOpt = None,
    study: Annotated[
        str | None, typer.Option("--study", help="Study (when the label is in several).")
    ] = None,
    alpha: Annotated[
        float, typer.Option("--alpha", help="Significance level of the rising-trend test.")
    ] = 0.05,
    fmt: Annotated[
        Fmt | None,
        typer.Option(
            "--format",
            "-f",
            case_sensitive=False,
            help="json (default), tsv (one row per draw x alteration x assay), html (needs "
            "--out) or text.",
            show_default=False,
        ),
    ] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write the output here.")] = None,
) -> None:
    """A subject's timeline: every draw's value per alteration and assay (below LoD, never 0),
    therapy bands, the KB interpretation of each draw, alerts (new detection, rising trend,
    molecular progression) and the lab's IC50 fold shift for the same alteration."""
    from kinresist.cli.generated import emit_result
    from kinresist.core import get_workflow

    wf = get_workflow("timeline")
    result = wf(subject=subject, db=resolve_db(db), study=study, alpha=alpha)
    chosen = fmt.value if fmt is not None else _from_suffix(out) or "json"
    emit_result(wf, result, fmt=chosen, out=out, html_path=None)


def _from_suffix(out: Path | None) -> str | None:
    if out is None:
        return None
    return {".json": "json", ".tsv": "tsv", ".html": "html", ".htm": "html", ".txt": "text"}.get(
        out.suffix.lower()
    )


def register(app: typer.Typer) -> None:
    app.command("timeline")(timeline_command)
