"""``kinresist interpret``: findings (VCF, MAF, tables, --finding) -> referenced per-drug answer.

A thin adapter: read findings with :mod:`kinresist.interpret.readers`, call
:func:`kinresist.interpret.interpret_findings`, print JSON/TSV/text, optionally write
the HTML report and record the run in the project store (one transaction).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from kinresist.cli._common import DbOpt, FormatOpt, OutFormat, OutOpt, emit, emit_text, resolve_db
from kinresist.errors import InputError

__all__ = ["register"]


def _group_by_sample(findings: list, default: str | None) -> dict[str | None, list]:
    groups: dict[str | None, list] = {}
    for f in findings:
        groups.setdefault(f.sample or default, []).append(f)
    if not groups:
        groups[default] = []
    return groups


def interpret_command(
    finding: Annotated[
        list[str] | None,
        typer.Option(
            "--finding",
            help='A finding such as "ALK G1202R", "ALK amplification", "EML4-ALK v3" (repeatable).',
        ),
    ] = None,
    vcf: Annotated[
        Path | None,
        typer.Option("--vcf", help="VCF 4.x (plain or .gz), VEP/snpEff-annotated or not."),
    ] = None,
    genome: Annotated[
        str | None,
        typer.Option("--genome", help="Genome build of the VCF/MAF coordinates: GRCh37 or GRCh38."),
    ] = None,
    maf: Annotated[
        Path | None, typer.Option("--maf", help="MAF file (GDC/cBioPortal columns).")
    ] = None,
    table: Annotated[
        Path | None,
        typer.Option("--table", help="CSV/TSV with gene, alteration[, vaf, copy_number, sample]."),
    ] = None,
    fusions: Annotated[
        Path | None,
        typer.Option(
            "--fusions", help="CSV/TSV of fusion calls (partner, gene, variant or exons)."
        ),
    ] = None,
    cnv: Annotated[
        Path | None,
        typer.Option(
            "--cnv", help="CSV/TSV of copy-number calls (gene, copy_number or log2, call)."
        ),
    ] = None,
    prior_therapy: Annotated[
        str | None,
        typer.Option("--prior-therapy", help="Drug the sample progressed on, e.g. alectinib."),
    ] = None,
    sample: Annotated[
        str | None, typer.Option("--sample", help="Sample name (and VCF sample column).")
    ] = None,
    sample_type: Annotated[
        str | None,
        typer.Option(
            "--sample-type",
            help="tissue, plasma, cell_pellet, tumour or other (store and investigations).",
        ),
    ] = None,
    cell_line: Annotated[
        bool, typer.Option("--cell-line", help="The sample is a cell-line model.")
    ] = False,
    study: Annotated[str, typer.Option("--study", help="Study name for --db.")] = "interpretations",
    subject: Annotated[
        str | None, typer.Option("--subject", help="Subject label for --db (default: sample).")
    ] = None,
    html: Annotated[
        Path | None, typer.Option("--html", help="Also write a self-contained HTML report.")
    ] = None,
    fmt: FormatOpt = OutFormat.json,
    out: OutOpt = None,
    db: DbOpt = None,
) -> None:
    """Interpret a sample's findings: classification, per-drug calls with evidence, next steps."""
    from kinresist.interpret import interpret_findings
    from kinresist.interpret._kbindex import KBIndex
    from kinresist.interpret.formatting import to_text, to_tsv
    from kinresist.interpret.readers.text import parse_finding
    from kinresist.kb import load_kb
    from kinresist.provenance import file_sha256, text_sha256

    if not any([finding, vcf, maf, table, fusions, cnv]):
        msg = 'no findings given; pass --finding "ALK G1202R", --vcf FILE --genome GRCh38, --maf, --table, --fusions or --cnv'
        raise InputError(msg)
    if vcf is not None and genome is None:
        msg = f"--vcf {vcf} needs --genome GRCh37 or GRCh38 (the build of its coordinates)"
        raise InputError(msg)
    if sample_type is not None and sample_type not in {
        "tissue",
        "plasma",
        "cell_pellet",
        "tumour",
        "other",
        "cell_line",
    }:
        msg = (
            f"--sample-type {sample_type!r}: expected tissue, plasma, cell_pellet, tumour or other"
        )
        raise InputError(msg)
    kb = load_kb()
    idx = KBIndex.from_kb(kb)
    findings = []
    inputs: dict[str, str] = {}
    for text in finding or []:
        findings.append(parse_finding(text, sample=sample))
    if finding:
        inputs["--finding"] = text_sha256("\n".join(finding))
    if vcf is not None:
        from kinresist.interpret.readers.vcf import read_vcf

        findings += read_vcf(vcf, genome=genome or "", kb=idx, sample=sample)
        inputs[str(vcf)] = file_sha256(vcf)
    if maf is not None:
        from kinresist.interpret.readers.maf import read_maf

        findings += read_maf(maf, genome=genome, kb=idx)
        inputs[str(maf)] = file_sha256(maf)
    if table is not None:
        from kinresist.interpret.readers.tables import read_findings_table

        findings += read_findings_table(table)
        inputs[str(table)] = file_sha256(table)
    if fusions is not None:
        from kinresist.interpret.readers.tables import read_fusions

        findings += read_fusions(fusions)
        inputs[str(fusions)] = file_sha256(fusions)
    if cnv is not None:
        from kinresist.interpret.readers.tables import read_cnv

        findings += read_cnv(cnv)
        inputs[str(cnv)] = file_sha256(cnv)

    groups = _group_by_sample(findings, sample)
    results = [
        interpret_findings(
            fs,
            kb=idx,
            prior_therapy=prior_therapy,
            sample_type="cell_line" if cell_line else sample_type,
            cell_line=cell_line,
            sample=name,
            inputs=inputs,
        )
        for name, fs in groups.items()
    ]

    if html is not None:
        from kinresist.reports.interpretation import write_interpretation_report

        write_interpretation_report(results, html)

    location = resolve_db(db)
    if db is not None and location:
        from kinresist.interpret.recording import record_interpretation
        from kinresist.store import open_store

        store_kind = (
            sample_type
            if sample_type in {"tissue", "plasma", "cell_pellet", "tumour", "other"}
            else None
        )
        with open_store(location) as store:
            for res in results:
                name = res.sample or "sample"
                record_interpretation(
                    store,
                    res,
                    study=study,
                    subject=subject or name,
                    sample=name,
                    subject_kind="cell_line" if cell_line else "patient",
                    sample_kind=store_kind or ("cell_pellet" if cell_line else "tissue"),
                    inputs=inputs,
                )

    if fmt == OutFormat.json:
        if len(results) == 1:
            emit(results[0].to_dict(), out=out)
        else:
            head = dict(results[0].header)
            head["cases"] = [r.to_dict() for r in results]
            emit(head, out=out)
    elif fmt == OutFormat.tsv:
        emit_text(to_tsv(results), out=out)
    else:
        emit_text("\n".join(to_text(r) for r in results), out=out)


def register(app: typer.Typer) -> None:
    """Add the top-level ``interpret`` command."""
    app.command(
        "interpret",
        help="Interpret a sample's findings (VCF, MAF, tables, --finding): resistance mechanism, "
        "per-drug calls with evidence, next-line options and investigations. Research use only.",
    )(interpret_command)
