"""Registry declaration of ``kinresist interpret`` (a top-level command)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kinresist.core.registry import InputSpec, Param, Workflow

if TYPE_CHECKING:
    from kinresist.interpret.contract import InterpretationResult
    from kinresist.interpret.finding import Finding

__all__ = ["WORKFLOWS", "group_samples", "run_interpret"]


def group_samples(
    findings: Sequence[Finding], default: str | None
) -> dict[str | None, list[Finding]]:
    """One invocation is one sample unless the files name several.

    Findings without a sample name join the sample the other inputs (or ``--sample``) name; only
    two or more distinct names in the files make several cases.
    """
    from dataclasses import replace

    named = list(dict.fromkeys(f.sample for f in findings if f.sample))
    if default is not None and len(named) <= 1:
        return {default: [replace(f, sample=default) for f in findings]}
    if len(named) <= 1:
        name = named[0] if named else default
        return {name: [replace(f, sample=name) if f.sample is None else f for f in findings]}
    groups: dict[str | None, list[Finding]] = {n: [] for n in named}
    unnamed = [f for f in findings if not f.sample]
    if unnamed:
        from kinresist.errors import InputError

        msg = (
            f"the inputs name {len(named)} samples ({', '.join(map(str, named[:5]))}) and "
            f"{len(unnamed)} finding(s) name none; add a sample column to every table or pass "
            "one sample's files per run"
        )
        raise InputError(msg)
    for f in findings:
        groups[f.sample].append(f)
    return groups


def run_interpret(
    *,
    finding: list[str] | None = None,
    vcf: Path | None = None,
    genome: str | None = None,
    maf: Path | None = None,
    table: Path | None = None,
    fusions: Path | None = None,
    cnv: Path | None = None,
    prior_therapy: str | None = None,
    sample_name: str | None = None,
    cell_line: bool = False,
    context: str | None = None,
) -> InterpretationResult:
    """Interpret one sample's findings (or several samples when the files name them)."""
    import warnings

    from kinresist.errors import InputError, KinresistWarning
    from kinresist.interpret import interpret_findings
    from kinresist.interpret._kbindex import KBIndex
    from kinresist.interpret.contract import interpretation_result
    from kinresist.interpret.readers.text import parse_finding
    from kinresist.kb import load_kb

    if not any([finding, vcf, maf, table, fusions, cnv]):
        msg = (
            'no findings given; pass --finding "ALK G1202R", --vcf FILE --genome GRCh38, --maf, '
            "--table, --fusions or --cnv"
        )
        raise InputError(msg)
    if vcf is not None and genome is None:
        msg = f"--vcf {vcf} needs --genome GRCh37 or GRCh38 (the build of its coordinates)"
        raise InputError(msg)
    idx = KBIndex.from_kb(load_kb())
    findings: list[Finding] = [parse_finding(t, sample=sample_name) for t in finding or []]
    inputs: dict[str, Any] = {}
    if finding:
        inputs["--finding"] = "\n".join(finding).encode()
    with warnings.catch_warnings(record=True) as caught:
        # the readers' data-quality warnings (duplicates kept once) become the result's warnings
        warnings.simplefilter("always", KinresistWarning)
        if vcf is not None:
            from kinresist.interpret.readers.vcf import read_vcf

            findings += read_vcf(vcf, genome=genome or "", kb=idx, sample=sample_name)
            inputs[str(vcf)] = vcf
        if maf is not None:
            from kinresist.interpret.readers.maf import read_maf

            findings += read_maf(maf, genome=genome, kb=idx)
            inputs[str(maf)] = maf
        for path, reader in (
            (table, "read_findings_table"),
            (fusions, "read_fusions"),
            (cnv, "read_cnv"),
        ):
            if path is not None:
                from kinresist.interpret.readers import tables

                findings += getattr(tables, reader)(path)
                inputs[str(path)] = path
    reader_warnings = [str(w.message) for w in caught if issubclass(w.category, KinresistWarning)]
    context = "cell_line" if cell_line else context
    cases = [
        interpret_findings(
            fs,
            kb=idx,
            prior_therapy=prior_therapy,
            sample_type=context,
            cell_line=cell_line,
            sample=name,
            inputs={},
        )
        for name, fs in group_samples(findings, sample_name).items()
    ]
    result = interpretation_result(
        cases,
        inputs=inputs,
        parameters={
            "prior_therapy": prior_therapy,
            "genome": genome,
            "sample_type": context,
            "cell_line": cell_line,
        },
    )
    for message in reader_warnings:
        result.add_warning(message)
    return result


WORKFLOWS = [
    Workflow(
        group="interpret",
        command="interpret",
        toplevel=True,
        help="Interpret a sample's findings (VCF, MAF, tables, --finding): resistance mechanism, "
        "per-drug calls with evidence, next-line options and investigations. Research use only.",
        run=run_interpret,
        inputs=[
            InputSpec(
                "vcf",
                "VCF 4.x (plain or .gz), VEP/snpEff-annotated or not.",
                option=True,
                required=False,
            ),
            InputSpec("maf", "MAF file (GDC/cBioPortal columns).", option=True, required=False),
            InputSpec(
                "table",
                "CSV/TSV with gene, alteration[, vaf, copy_number, sample].",
                option=True,
                required=False,
            ),
            InputSpec(
                "fusions",
                "CSV/TSV of fusion calls (partner, gene, variant or exons).",
                option=True,
                required=False,
            ),
            InputSpec(
                "cnv",
                "CSV/TSV of copy-number calls (gene, copy_number or log2, call).",
                option=True,
                required=False,
            ),
        ],
        params=[
            Param(
                "finding",
                str,
                multiple=True,
                help='A finding such as "ALK G1202R", "ALK amplification", "EML4-ALK v3" (repeatable).',
            ),
            Param("genome", str, help="Genome build of the VCF/MAF coordinates: GRCh37 or GRCh38."),
            Param("prior_therapy", str, help="Drug(s) the sample progressed on, e.g. alectinib."),
            Param(
                "sample_name",
                str,
                flag="--sample",
                help="Sample name (and the VCF sample column); all findings belong to it.",
            ),
            Param("cell_line", bool, default=False, help="The sample is a cell-line model."),
        ],
        report="kinresist.reports.interpretation:render",
        text="kinresist.reports.interpretation:text",
        default_format="json",
        extra={"sample_type_param": "context", "subject_from_sample": True},
    ),
]
