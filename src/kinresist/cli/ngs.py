"""``kinresist ngs``: UMI-aware low-VAF calling from BAM (thin adapter over kinresist.ngs)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from kinresist.cli._common import DbOpt, FormatOpt, OutFormat, OutOpt, emit, emit_text, resolve_db
from kinresist.errors import InputError

app = typer.Typer(no_args_is_help=True)


@app.command("call")
def call_cmd(
    bams: Annotated[
        list[Path],
        typer.Argument(
            help="Coordinate-sorted, indexed BAM with UMIs (RX tag or read-name suffix). "
            "Further BAMs are taken as normals when --normals is given (--normals N1.bam N2.bam)."
        ),
    ],
    regions: Annotated[Path, typer.Option("--regions", help="Panel BED (0-based).")],
    reference: Annotated[
        Path, typer.Option("--reference", help="Indexed reference FASTA the reads were aligned to.")
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="VCF 4.3 output path.")],
    normals: Annotated[
        list[Path] | None, typer.Option("--normals", help="Normal BAM(s) for the background.")
    ] = None,
    pon: Annotated[
        Path | None, typer.Option("--pon", help="Panel-of-normals TSV (instead of --normals).")
    ] = None,
    fmt: FormatOpt = OutFormat.json,
    genome: Annotated[
        str | None, typer.Option("--genome", help="GRCh37 or GRCh38 (default: match either).")
    ] = None,
    method: Annotated[
        str, typer.Option("--method", help="UMI grouping: identity, edit, adjacency, directional.")
    ] = "directional",
    strategy: Annotated[
        str, typer.Option("--strategy", help="single, or paired for duplex A-B UMIs.")
    ] = "single",
    min_family_size: Annotated[
        int, typer.Option("--min-family-size", help="Reads per molecule to count it.")
    ] = 3,
    family_key: Annotated[
        str,
        typer.Option(
            "--family-key", help="position (template start) or region (amplicon protocols)."
        ),
    ] = "position",
    tsv: Annotated[Path | None, typer.Option("--tsv", help="Also write the calls as TSV.")] = None,
    report: Annotated[
        Path | None, typer.Option("--report", help="Also write a self-contained HTML report.")
    ] = None,
    interpret: Annotated[
        bool, typer.Option("--interpret", help="Interpret PASS calls with the knowledge base.")
    ] = False,
    sample: Annotated[
        str | None, typer.Option("--sample", help="Sample name (store, VCF column).")
    ] = None,
    subject: Annotated[
        str | None, typer.Option("--subject", help="Subject (patient) for the store.")
    ] = None,
    study: Annotated[str, typer.Option("--study", help="Study name for the store.")] = "default",
    db: DbOpt = None,
) -> None:
    """Call low-VAF SNVs/indels on consensus molecules; write a VCF and print calls[]."""
    bam, extra = bams[0], list(bams[1:])
    if extra and not normals:
        msg = (f"one sample BAM expected, got {len(bams)} ({', '.join(map(str, bams))}); "
               "pass normals with --normals")  # fmt: skip
        raise InputError(msg)
    normals = [*(normals or []), *extra] or None
    from rich.progress import Progress

    from kinresist.ngs import (
        CallParams,
        ConsensusParams,
        GroupingParams,
        call_variants,
        count_molecules,
    )
    from kinresist.provenance import file_sha256, stamp

    params = CallParams(
        grouping=GroupingParams(method=method, strategy=strategy, family_key=family_key),  # type: ignore[arg-type]
        consensus=ConsensusParams(min_family_size=min_family_size),
    )
    with Progress(transient=True, disable=not _is_tty()) as progress:
        task = progress.add_task("counting molecules", total=None)
        mc = count_molecules(
            bam, regions=regions, reference=reference, grouping=params.grouping, consensus=params.consensus,
            progress=lambda done, total: progress.update(task, completed=done, total=total),
        )  # fmt: skip
    calls = call_variants(
        bam,
        regions=regions,
        reference=reference,
        normals=normals,
        pon=pon,
        params=params,
        genome=genome,
        counts=mc,
    )
    inputs = {
        "bam": file_sha256(bam),
        "regions": file_sha256(regions),
        "reference": file_sha256(reference),
    }
    for i, n in enumerate(normals or []):
        inputs[f"normal_{i + 1}"] = file_sha256(n)
    if pon is not None:
        inputs["pon"] = file_sha256(pon)
    calls.inputs = inputs
    name = sample or bam.name.removesuffix(".bam")
    calls.to_vcf(out, reference=str(reference), sample=name)
    if tsv is not None:
        calls.to_tsv(tsv)
    payload = calls.to_dict(
        stamp=stamp("kinresist.ngs.calls", "1.0", inputs=inputs, parameters=calls.parameters)
    )
    payload["vcf"] = str(out)
    if interpret:
        payload["interpretation"] = _interpret(calls, name)
    store_db = resolve_db(db)
    if store_db is not None:
        payload["store"] = _store(
            store_db, calls, payload, study=study, subject=subject or name, sample=name
        )
    if report is not None:
        from kinresist.reports.ngs import write_ngs_report

        payload["report"] = str(
            write_ngs_report(report, payload, calls.counts.family_sizes, sample=name)
        )
    if fmt == OutFormat.json:
        emit(payload)
    elif fmt == OutFormat.tsv:
        emit_text(calls.to_tsv())
    else:
        lines = [f"{len(calls.passed())} PASS call(s) of {len(calls.calls)} tested; VCF: {out}"]
        for r in calls.passed().to_dict(orient="records"):
            lines.append(f"  {r['gene']} {r['alteration']}  VAF {100 * r['af']:.2f}% ({r['alt_molecules']}/"
                         f"{r['depth_molecules']} molecules; LoD {100 * r['lod']:.2f}%)")  # fmt: skip
        emit_text("\n".join(lines))


@app.command("count")
def count_cmd(
    bam: Annotated[Path, typer.Argument(help="Coordinate-sorted, indexed BAM with UMIs.")],
    regions: Annotated[Path, typer.Option("--regions", help="Panel BED (0-based).")],
    reference: Annotated[Path, typer.Option("--reference", help="Indexed reference FASTA.")],
    out: OutOpt = None,
    method: Annotated[str, typer.Option("--method", help="UMI grouping method.")] = "directional",
    strategy: Annotated[
        str, typer.Option("--strategy", help="single or paired (duplex).")
    ] = "single",
    min_family_size: Annotated[int, typer.Option("--min-family-size")] = 3,
) -> None:
    """Molecule (and raw read) counts per panel position as TSV, with the family-size histogram."""
    from kinresist.ngs import ConsensusParams, GroupingParams, count_molecules
    from kinresist.provenance import file_sha256, stamp, tsv_header

    gp = GroupingParams(method=method, strategy=strategy)  # type: ignore[arg-type]
    mc = count_molecules(bam, regions=regions, reference=reference, grouping=gp,
                         consensus=ConsensusParams(min_family_size=min_family_size))  # fmt: skip
    head = stamp("kinresist.ngs.molecule_counts", "1.0",
                 inputs={"bam": file_sha256(bam), "regions": file_sha256(regions), "reference": file_sha256(reference)},
                 parameters={"method": method, "strategy": strategy, "min_family_size": min_family_size})  # fmt: skip
    hist = mc.family_size_histogram()
    text = tsv_header(head) + "".join(
        f"## family_size {s}: {n}\n"
        for s, n in zip(hist["family_size"], hist["families"], strict=True)
    )
    emit_text(text + mc.to_frame().to_csv(sep="\t", index=False), out=out)


@app.command("pon")
def pon_cmd(
    normals: Annotated[list[Path], typer.Argument(help="Normal BAMs (same panel and chemistry).")],
    regions: Annotated[Path, typer.Option("--regions", help="Panel BED (0-based).")],
    reference: Annotated[Path, typer.Option("--reference", help="Indexed reference FASTA.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Panel-of-normals TSV to write.")],
    min_family_size: Annotated[int, typer.Option("--min-family-size")] = 3,
) -> None:
    """Build a per-site beta-binomial background (panel of normals) TSV for ``ngs call --pon``."""
    from kinresist.ngs import ConsensusParams, build_panel_of_normals
    from kinresist.provenance import file_sha256, stamp, tsv_header

    pon = build_panel_of_normals(normals, regions=regions, reference=reference,
                                 consensus=ConsensusParams(min_family_size=min_family_size))  # fmt: skip
    inputs = {f"normal_{i + 1}": file_sha256(p) for i, p in enumerate(normals)}
    head = stamp(
        "kinresist.ngs.pon", "1.0", inputs=inputs, parameters={"min_family_size": min_family_size}
    )
    pon.to_tsv(out, header=tsv_header(head))
    emit_text(
        f"panel of normals: {len(normals)} normal(s), {len(pon.table)} site x allele rows -> {out}"
    )


def _is_tty() -> bool:
    import sys

    return sys.stderr.isatty()


def _interpret(calls: Any, sample: str) -> Any:
    try:
        from kinresist.interpret import interpret_findings  # type: ignore[attr-defined]
    except ImportError:
        return {
            "status": "unavailable",
            "reason": "the interpretation engine (kinresist.interpret) is not installed",
        }
    findings = calls.findings(sample=sample)
    if not findings:
        return {"status": "no_findings", "reason": "no PASS calls to interpret"}
    return interpret_findings(findings).to_dict()


def _store(
    db: str, calls: Any, payload: dict[str, Any], *, study: str, subject: str, sample: str
) -> dict[str, Any]:
    try:
        from kinresist.store import open_store  # type: ignore[attr-defined]
    except ImportError:
        msg = "--db given but the project store (kinresist.store) is not available"
        raise InputError(msg) from None
    with open_store(db) as store, store.transaction() as tx:
        st = tx.get_or_create_study(study)
        subj = tx.get_or_create_subject(st, subject, kind="patient")
        smp = tx.get_or_create_sample(subj, sample, kind="plasma")
        run = tx.add_run(kind="ngs.call", parameters=payload.get("parameters", {}), inputs=payload.get("inputs", {}),
                         outputs={"calls": payload["calls"]}, kb_version=payload.get("kb_version"), sample=smp)  # fmt: skip
        n = 0
        for r in calls.passed().to_dict(orient="records"):
            tx.add_finding(smp, gene=r["gene"], alteration=r["alteration"], kind=r["kind"], vaf=float(r["af"]),
                           source_assay="ngs", run=run)  # fmt: skip
            tx.add_measurement(smp, run=run, assay="ngs", target=f"{r['gene']} {r['alteration']}",
                               quantity="allele_fraction", value=100 * float(r["af"]), unit="%",
                               ci_low=100 * float(r["af_ci_low"]), ci_high=100 * float(r["af_ci_high"]),
                               call="detected", lod=100 * float(r["lod"]))  # fmt: skip
            n += 1
        for r in calls.hotspot_sites.to_dict(orient="records"):
            if r["status"] != "detected":
                tx.add_measurement(smp, run=run, assay="ngs", target=f"{r['genomic_chrom']}:{r['genomic_pos']}",
                                   quantity="allele_fraction", value=None, unit="%", ci_low=None, ci_high=None,
                                   call="not_detected" if r["status"] == "not_detected" else "indeterminate",
                                   lod=None if r["lod"] != r["lod"] else 100 * float(r["lod"]))  # fmt: skip
    return {"db": db, "sample": sample, "findings": n}


from kinresist.cli.ngs_extra import register_extra  # noqa: E402 - `ngs align` and `ngs cnv`

register_extra(app)
