"""``kinresist ngs align`` and ``kinresist ngs cnv``: registered on the ``ngs`` Typer app.

``kinresist.cli.ngs`` calls :func:`register_extra` on its app. Both
commands are thin adapters over :func:`kinresist.ngs.align.align_fastq` and
:func:`kinresist.ngs.cnv_run.run_cnv`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from kinresist.cli._common import DbOpt, FormatOpt, OutFormat, OutOpt, emit, emit_text, resolve_db

__all__ = ["register_extra"]


def _split(values: list[str] | None) -> list[str]:
    out: list[str] = []
    for v in values or []:
        out.extend(x.strip() for x in v.split(",") if x.strip())
    return out


def align_command(
    r1: Annotated[Path, typer.Option("--r1", help="Read-1 FASTQ (gzip allowed).")],
    reference: Annotated[
        Path, typer.Option("--reference", help="Reference FASTA (bwa index used or built).")
    ],
    umi_length: Annotated[
        int, typer.Option("--umi-length", help="In-line UMI length at the start of the read.")
    ],
    out: Annotated[
        Path, typer.Option("--out", help="Output BAM (sorted; .bai written next to it).")
    ],
    r2: Annotated[
        Path | None, typer.Option("--r2", help="Read-2 FASTQ for paired-end data.")
    ] = None,
    spacer_length: Annotated[
        int, typer.Option("--spacer-length", help="Bases after the UMI to discard.")
    ] = 0,
    umi_location: Annotated[
        str,
        typer.Option(
            "--umi-location", help="read1: UMI on read 1 only; per_read: on both reads (RX A-B)."
        ),
    ] = "read1",
    threads: Annotated[
        int, typer.Option("--threads", help="Threads for fastp, bwa, samtools.")
    ] = 2,
    adapter: Annotated[
        str | None, typer.Option("--adapter", help="Read-1 adapter (default: auto-detect).")
    ] = None,
    fmt: FormatOpt = OutFormat.text,
) -> None:
    """Extract in-line UMIs (fastp), trim, align (bwa mem), sort and index (samtools)."""
    from kinresist.errors import InputError
    from kinresist.ngs.align import align_fastq
    from kinresist.provenance import stamp

    if umi_location not in {"read1", "per_read"}:
        msg = f"--umi-location must be read1 or per_read, got {umi_location!r}"
        raise InputError(msg)
    result = align_fastq(
        r1,
        r2=r2,
        reference=reference,
        umi_length=umi_length,
        spacer_length=spacer_length,
        out=out,
        umi_location=umi_location,  # type: ignore[arg-type]
        threads=threads,
        adapter=adapter,
    )
    if fmt is OutFormat.json:
        inputs = [p for p in (r1, r2, reference) if p is not None]
        header = stamp(
            "kinresist.ngs.align",
            "1.0",
            inputs=inputs,
            parameters={
                "umi_length": umi_length,
                "spacer_length": spacer_length,
                "umi_location": umi_location,
            },
        )
        emit({
            **header, "bam": str(result.bam), "index": str(result.index), "reads_in": result.reads_in,
            "reads_after_trimming": result.reads_after_trimming, "records": result.records,
            "mapped": result.mapped, "umi_tagged": result.umi_tagged,
            "bwa_index_built": result.bwa_index_built, "commands": list(result.commands),
        })  # fmt: skip
        return
    typer.echo(
        f"{result.bam}: {result.records:,} records, {result.mapped:,} mapped, {result.umi_tagged:,} with RX "
        f"({result.reads_in:,} reads in, {result.reads_after_trimming:,} after trimming)"
    )


def cnv_command(
    sample: Annotated[
        Path, typer.Argument(help="Sample BAM, or a CNVkit .cnr (bins) / .cns (segments) file.")
    ],
    normals: Annotated[
        list[str] | None,
        typer.Option("--normals", help="Normal BAM(s) (repeat or comma-separate; >= 3)."),
    ] = None,
    targets: Annotated[
        Path | None, typer.Option("--targets", help="Target BED (chrom, start, end, gene).")
    ] = None,
    tumour_fraction: Annotated[
        float | None,
        typer.Option("--tumour-fraction", help="Tumour (ctDNA) fraction 0-1; default unknown."),
    ] = None,
    genes: Annotated[
        list[str] | None,
        typer.Option("--genes", help="Only these genes (e.g. ALK,MET,KIT,EGFR,ERBB2)."),
    ] = None,
    unit: Annotated[
        str, typer.Option("--unit", help="molecules (UMI families) or reads.")
    ] = "molecules",
    z: Annotated[float, typer.Option("--z", help="|z| needed for a call.")] = 3.0,
    amplification_cn: Annotated[
        float, typer.Option("--amplification-cn", help="CN from which a gain is an amplification.")
    ] = 5.0,
    interpret: Annotated[
        bool,
        typer.Option("--interpret", help="Interpret AMPLIFICATION calls with the knowledge base."),
    ] = False,
    db: DbOpt = None,
    study: Annotated[str | None, typer.Option("--study", help="Store: study name.")] = None,
    subject: Annotated[str | None, typer.Option("--subject", help="Store: subject label.")] = None,
    sample_label: Annotated[
        str | None, typer.Option("--sample", help="Store: sample label.")
    ] = None,
    fmt: FormatOpt = OutFormat.json,
    out: OutOpt = None,
) -> None:
    """Gene-level gains/amplifications (ALK, MET, KIT, EGFR, ERBB2...) from a BAM vs normals or CNVkit output."""
    from kinresist.errors import InputError
    from kinresist.ngs.cnv import CnvParameters
    from kinresist.ngs.cnv_io import cnv_tsv
    from kinresist.ngs.cnv_run import record_cnv, run_cnv
    from kinresist.provenance import tsv_header

    if unit not in {"molecules", "reads"}:
        msg = f"--unit must be molecules or reads, got {unit!r}"
        raise InputError(msg)
    params = CnvParameters(
        tumour_fraction=tumour_fraction, z_crit=z, amplification_cn=amplification_cn
    )
    run = run_cnv(
        sample,
        normals=[Path(p) for p in _split(normals)],
        targets=targets,
        params=params,
        genes=_split(genes) or None,
        unit=unit,  # type: ignore[arg-type]
    )
    payload = run.payload
    if interpret:
        payload["interpretation"] = _interpret(run, sample)
    if db is not None or sample_label is not None:
        if not (study and subject and sample_label):
            msg = "storing results needs --study, --subject and --sample"
            raise InputError(msg)
        payload["store_run_id"] = record_cnv(
            resolve_db(db), run, study=study, subject=subject, sample=sample_label
        )
    if fmt is OutFormat.json:
        emit(payload, out=out)
    elif fmt is OutFormat.tsv:
        emit_text(cnv_tsv(run.genes, header_lines=tsv_header(payload)), out=out)
    else:
        lines = [f"{'gene':8} {'log2':>7} {'CI95':>17} {'CN':>6}  call"]
        for g in run.genes:
            lines.append(
                f"{g.gene:8} {g.log2:+7.3f} [{g.ci_low:+7.3f},{g.ci_high:+7.3f}] {g.copy_number:6.1f}  {g.call}"
            )
        emit_text("\n".join(lines), out=out)


def _interpret(run: Any, sample: Path) -> dict[str, Any] | None:
    from kinresist.ngs.cnv_io import cnv_findings

    findings = cnv_findings(run.genes, source=f"ngs-cnv:{sample.name}")
    try:
        from kinresist.interpret import interpret_findings
    except ImportError:
        return {"available": False, "reason": "the interpretation engine (kinresist.interpret) is not installed",
                "findings": [f"{f.gene} {f.alteration}" for f in findings]}  # fmt: skip
    result = interpret_findings(findings)
    return result.to_dict() if hasattr(result, "to_dict") else dict(result)


def register_extra(app: typer.Typer) -> None:
    """Add ``align`` and ``cnv`` to the ``ngs`` command group."""
    app.command("align")(align_command)
    app.command("cnv")(cnv_command)
