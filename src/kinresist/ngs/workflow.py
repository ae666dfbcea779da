"""The sequencing workflows, declared once for the CLI and the web app
(:mod:`kinresist.core.registry`): ``kinresist ngs call|cnv|align|count|pon``.

Run functions turn options into library calls (engines are imported lazily, so importing this
module stays cheap) and return :class:`kinresist.core.Result` values.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from kinresist.core.registry import InputSpec, Param, Workflow

if TYPE_CHECKING:
    from kinresist.core.result import Result
    from kinresist.ngs.result import AlignResult, CallSet, CnvResult

__all__ = ["GROUP_HELP", "WORKFLOWS"]

GROUP_HELP = {"ngs": "Liquid-biopsy sequencing: UMI-aware calling and copy number."}

# -- shared declarations ----------------------------------------------------------------
_REGIONS = InputSpec("regions", option=True, help="Panel BED (0-based).")
_REFERENCE = InputSpec("reference", option=True, help="Indexed reference FASTA the reads were aligned to.")  # fmt: skip
_MIN_FAMILY = Param("min_family_size", int, default=3, help="Reads per UMI family to count it as a molecule.")  # fmt: skip
_METHOD = Param("method", ("identity", "edit", "adjacency", "directional"), default="directional",
                help="UMI grouping (UMI-tools methods).")  # fmt: skip
_STRATEGY = Param("strategy", ("single", "paired"), default="single",
                  help="single, or paired for duplex A-B UMIs.")  # fmt: skip
_INTERPRET = Param("interpret", bool, default=False,
                   help="Interpret the findings with the knowledge base (adds 'interpretation').")  # fmt: skip


def _interpretation(findings: list[Any]) -> dict[str, Any]:
    if not findings:
        return {"status": "no_findings", "reason": "no finding to interpret"}
    from kinresist.interpret import interpret_findings

    return interpret_findings(findings).to_dict()  # type: ignore[no-any-return]


def _count_all(
    bams: list[Path],
    *,
    regions: Path,
    reference: Path,
    grouping: Any,
    consensus: Any,
    dask: str | None = None,
) -> list[Any]:
    """Molecule counts of several BAMs, windows as one stream (here or on Dask), with a bar."""
    from kinresist.core.progress import progress_bar
    from kinresist.ngs.pileup import count_molecules_many, merge_regions
    from kinresist.ngs.regions import read_regions

    # the bar moves by panel base pairs (windows differ in width); the count shown is windows
    widths = [e - s for _c, s, e, _m in merge_regions(read_regions(regions))] * len(bams)
    with progress_bar("counting molecules", total=sum(widths), unit="windows") as bar:
        return count_molecules_many(
            bams, regions=regions, reference=reference, grouping=grouping, consensus=consensus,
            dask=dask, progress=lambda done, _total: bar.advance(widths[done - 1], done=done),
            on_connect=bar.note, notice=bar.note,
        )  # fmt: skip


def _run_call(
    bams: list[Path],
    *,
    regions: Path,
    reference: Path,
    normals: list[Path] | None = None,
    pon: Path | None = None,
    genome: str | None = None,
    method: str = "directional",
    strategy: str = "single",
    min_family_size: int = 3,
    family_key: str = "position",
    interpret: bool = False,
    dask: str | None = None,
) -> CallSet:
    from kinresist.errors import InputError
    from kinresist.ngs import CallParams, ConsensusParams, GroupingParams, call_variants

    bam, extra = bams[0], list(bams[1:])
    if extra and not normals:
        msg = (f"one sample BAM expected, got {len(bams)} ({', '.join(map(str, bams))}); "
               "pass normals with --normals")  # fmt: skip
        raise InputError(msg)
    params = CallParams(
        grouping=GroupingParams(method=method, strategy=strategy, family_key=family_key),  # type: ignore[arg-type]
        consensus=ConsensusParams(min_family_size=min_family_size),
    )
    normal_bams = [*(normals or []), *extra]
    if pon is not None and normal_bams:
        msg = "give either normal BAMs or a panel-of-normals table, not both"
        raise InputError(msg)
    # the sample's and the normals' windows in one stream (per sample and region on Dask)
    counts = _count_all([bam, *normal_bams], regions=regions, reference=reference,
                        grouping=params.grouping, consensus=params.consensus, dask=dask)  # fmt: skip
    result = call_variants(bam, regions=regions, reference=reference, pon=pon,
                           normals=normal_bams or None, normal_counts=counts[1:] or None,
                           params=params, genome=genome, counts=counts[0])  # fmt: skip
    if interpret:
        result.body["interpretation"] = _interpretation(result.findings)
    return result


def _run_cnv(
    input: Path,
    *,
    normals: list[Path] | None = None,
    targets: Path | None = None,
    tumour_fraction: float | None = None,
    genes: list[str] | None = None,
    unit: str = "molecules",
    z: float = 3.0,
    amplification_cn: float = 5.0,
    interpret: bool = False,
) -> CnvResult:
    from kinresist.ngs.cnv import CnvParameters
    from kinresist.ngs.cnv_run import run_cnv

    only = [g.strip() for v in genes or [] for g in v.split(",") if g.strip()]
    params = CnvParameters(tumour_fraction=tumour_fraction, z_crit=z, amplification_cn=amplification_cn)  # fmt: skip
    result = run_cnv(input, normals=normals or [], targets=targets, params=params,
                     genes=only or None, unit=unit)  # type: ignore[arg-type]  # fmt: skip
    if interpret:
        result.body["interpretation"] = _interpretation(result.findings)
    return result


def _run_align(
    *,
    r1: Path,
    reference: Path,
    umi_length: int,
    out: Path,
    r2: Path | None = None,
    spacer_length: int = 0,
    umi_location: str = "read1",
    threads: int = 2,
    adapter: str | None = None,
) -> AlignResult:
    from kinresist.ngs.align import align_fastq

    return align_fastq(r1, r2=r2, reference=reference, umi_length=umi_length, out=out,
                       spacer_length=spacer_length, umi_location=umi_location,  # type: ignore[arg-type]
                       threads=threads, adapter=adapter)  # fmt: skip


def _run_count(
    bam: Path,
    *,
    regions: Path,
    reference: Path,
    method: str = "directional",
    strategy: str = "single",
    min_family_size: int = 3,
) -> Result:
    from kinresist.core.result import Provenance
    from kinresist.ngs import ConsensusParams, GroupingParams
    from kinresist.ngs.result import counts_result

    (mc,) = _count_all([bam], regions=regions, reference=reference,
                       grouping=GroupingParams(method=method, strategy=strategy),  # type: ignore[arg-type]
                       consensus=ConsensusParams(min_family_size=min_family_size))  # fmt: skip
    prov = Provenance.build(
        inputs={"bam": bam, "regions": regions, "reference": reference},
        parameters={"method": method, "strategy": strategy, "min_family_size": min_family_size},
    )
    return counts_result(mc, provenance=prov)


def _run_pon(
    normals: list[Path], *, regions: Path, reference: Path, min_family_size: int = 3
) -> Result:
    from kinresist.core.result import Provenance
    from kinresist.ngs import ConsensusParams, GroupingParams, build_panel_of_normals
    from kinresist.ngs.result import pon_result

    counts = _count_all(list(normals), regions=regions, reference=reference,
                        grouping=GroupingParams(),
                        consensus=ConsensusParams(min_family_size=min_family_size))  # fmt: skip
    pon = build_panel_of_normals(counts)
    prov = Provenance.build(
        inputs={f"normal_{i + 1}": p for i, p in enumerate(normals)},
        parameters={"min_family_size": min_family_size},
    )
    return pon_result(pon.table, n_normals=len(normals), provenance=prov)


WORKFLOWS = [
    Workflow(
        group="ngs",
        command="call",
        help="Call low-VAF SNVs/indels on consensus molecules of a UMI BAM: molecule VAF, "
        "per-site LoD and filters; hotspot bases force-called. --out X.vcf writes VCF 4.3. "
        "Further BAMs are normals when --normals is given (--normals N1.bam N2.bam).",
        run=_run_call,
        inputs=[
            InputSpec(
                "bams",
                multiple=True,
                help="Coordinate-sorted, indexed BAM with UMIs (RX tag or read-name suffix).",
            ),
            _REGIONS,
            _REFERENCE,
            InputSpec(
                "normals",
                option=True,
                multiple=True,
                required=False,
                help="Normal BAM(s) for the background.",
            ),
            InputSpec(
                "pon",
                option=True,
                required=False,
                help="Panel-of-normals TSV (ngs pon) instead of --normals.",
            ),
        ],
        params=[
            Param("genome", ("GRCh37", "GRCh38"), help="Genome build (default: match either)."),
            _METHOD,
            _STRATEGY,
            _MIN_FAMILY,
            Param(
                "family_key",
                ("position", "region"),
                default="position",
                help="position (template start) or region (amplicon protocols).",
            ),
            _INTERPRET,
            Param("vcf", Path, output="writer:vcf", help="Also write the calls as VCF 4.3 here."),
            Param("tsv", Path, output="table", help="Also write the calls table (TSV) here."),
        ],
        writers={"vcf": "kinresist.ngs.vcf_out:write_vcf"},
        report="kinresist.reports.ngs:render_calls",
        text="kinresist.reports.ngs:calls_text",
        figures="kinresist.ngs.plots:add_call_figures",
        default_format="json",
        long_running=True,
        distributable=True,
    ),
    Workflow(
        group="ngs",
        command="cnv",
        help="Gene-level gains/amplifications (ALK, MET, KIT, EGFR, ERBB2...) from a BAM against "
        "normals, or from CNVkit .cnr/.cns output.",
        run=_run_cnv,
        inputs=[
            InputSpec("input", help="Sample BAM, or a CNVkit .cnr (bins) / .cns (segments) file."),
            InputSpec(
                "normals",
                option=True,
                multiple=True,
                required=False,
                help="Normal BAM (repeat; >= 3) for BAM input.",
            ),
            InputSpec(
                "targets",
                option=True,
                required=False,
                help="Target BED (chrom, start, end, gene) for BAM input.",
            ),
        ],
        params=[
            Param("tumour_fraction", float, help="Tumour (ctDNA) fraction 0-1; default unknown."),
            Param(
                "genes",
                str,
                multiple=True,
                help="Only these genes (repeat or comma-separate: ALK,MET,KIT,EGFR,ERBB2).",
            ),
            Param(
                "unit",
                ("molecules", "reads"),
                default="molecules",
                help="Count UMI families (molecules) or reads.",
            ),
            Param("z", float, default=3.0, help="|z| needed for a call."),
            Param(
                "amplification_cn",
                float,
                default=5.0,
                help="Copy number from which a gain is an amplification.",
            ),
            _INTERPRET,
        ],
        report="kinresist.reports.ngs:render_cnv",
        text="kinresist.reports.ngs:cnv_text",
        default_format="json",
    ),
    Workflow(
        group="ngs",
        command="align",
        help="Extract in-line UMIs (fastp), trim, align (bwa mem), sort and index (samtools).",
        run=_run_align,
        params=[
            Param("r1", Path, required=True, help="Read-1 FASTQ (gzip allowed)."),
            Param(
                "reference",
                Path,
                required=True,
                help="Reference FASTA (its bwa index is used, or built for small references).",
            ),
            Param("umi_length", int, required=True, help="In-line UMI length at the read start."),
            Param("out", Path, required=True, help="Output BAM (sorted; .bai written beside it)."),
            Param("r2", Path, help="Read-2 FASTQ for paired-end data."),
            Param("spacer_length", int, default=0, help="Bases after the UMI to discard."),
            Param(
                "umi_location",
                ("read1", "per_read"),
                default="read1",
                help="read1: UMI on read 1 only; per_read: on both reads (RX A-B).",
            ),
            Param("threads", int, default=2, help="Threads for fastp, bwa, samtools."),
            Param("adapter", str, help="Read-1 adapter (default: auto-detect)."),
        ],
        text="kinresist.reports.ngs:align_text",
        records=False,
        long_running=True,
        extra={"writes": ("out",)},  # its folder is created (web: inside the data folder)
    ),
    Workflow(
        group="ngs",
        command="count",
        help="Molecule (and raw read) counts per panel position, with the family-size histogram.",
        run=_run_count,
        inputs=[
            InputSpec("bam", help="Coordinate-sorted, indexed BAM with UMIs."),
            _REGIONS,
            _REFERENCE,
        ],
        params=[_METHOD, _STRATEGY, _MIN_FAMILY],
        records=False,
        default_format="tsv",
    ),
    Workflow(
        group="ngs",
        command="pon",
        help="Build a per-site beta-binomial background (panel of normals) TSV for ngs call --pon.",
        run=_run_pon,
        inputs=[
            InputSpec("normals", multiple=True, help="Normal BAMs (same panel and chemistry)."),
            _REGIONS,
            _REFERENCE,
        ],
        params=[_MIN_FAMILY],
        records=False,
        default_format="tsv",
    ),
]
