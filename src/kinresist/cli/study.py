"""``kinresist study import``: a study manifest and therapy lines, in one transaction."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from kinresist.cli._common import DbOpt, resolve_db
from kinresist.cli.timeline import FormatOpt, OutOpt, emit

__all__ = ["app"]

app = typer.Typer(no_args_is_help=True)


@app.command("import", no_args_is_help=True)
def import_command(
    manifest: Annotated[
        Path,
        typer.Argument(
            exists=True,
            dir_okay=False,
            help="Manifest CSV/TSV: subject, sample, collected, assay (ddpcr, ngs_vcf, findings, "
            "dose, synergy), file; optional sample_type, timepoint, assay_map, results, plate_map, "
            "genotype, genome, tube, hours_to_processing, plasma_ml, cfdna_ng.",
        ),
    ],
    therapy: Annotated[
        Path | None,
        typer.Option(
            "--therapy",
            exists=True,
            dir_okay=False,
            help="Therapy lines CSV: subject, drug, start, end (end empty = ongoing).",
        ),
    ] = None,
    db: DbOpt = None,
    study: Annotated[str, typer.Option("--study", help="Study name.")] = "default",
    edta_max_hours: Annotated[
        float, typer.Option("--edta-max-hours", help="EDTA tubes: flag later processing (h).")
    ] = 4.0,
    streck_max_hours: Annotated[
        float,
        typer.Option("--streck-max-hours", help="Streck cfDNA BCT: flag later processing (h)."),
    ] = 168.0,
    fmt: FormatOpt = None,
    out: OutOpt = None,
) -> None:
    """Import a manifest: every file analysed, everything recorded in ONE transaction (a bad row
    stores nothing and is named), with plasma QC (tube rules, haploid genome equivalents,
    theoretical LoD) and therapy lines."""
    from kinresist.core import get_workflow

    result = get_workflow("study.import")(
        manifest=manifest,
        therapy=therapy,
        db=resolve_db(db),
        study=study,
        edta_max_hours=edta_max_hours,
        streck_max_hours=streck_max_hours,
    )
    emit("study.import", result, fmt, out)
