"""Run the copy-number workflow end to end (used by ``kinresist ngs cnv``).

:func:`run_cnv` reads a BAM (+ normals and targets) or a CNVkit ``.cnr``/``.cns``, calls
genes and returns the stamped payload together with the gene records; :func:`record_cnv`
stores the result against a sample in the project store.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from kinresist.errors import InputError
from kinresist.ngs.cnv import (
    CnvParameters,
    GeneCopyNumber,
    TargetCounts,
    call_copy_number,
)
from kinresist.ngs.cnv_cnvkit import call_copy_number_from_bins, call_copy_number_from_segments
from kinresist.ngs.cnv_io import (
    CNV_SCHEMA_VERSION,
    cnv_payload,
    count_target_molecules,
    read_cnvkit,
    read_targets,
)
from kinresist.provenance import file_sha256, stamp

__all__ = ["CnvRun", "record_cnv", "run_cnv"]


@dataclass(frozen=True, slots=True)
class CnvRun:
    """Gene calls and the JSON payload of one ``ngs cnv`` run."""

    genes: tuple[GeneCopyNumber, ...]
    payload: dict[str, Any]


def run_cnv(
    sample: Path,
    *,
    normals: Sequence[Path] = (),
    targets: Path | None = None,
    params: CnvParameters | None = None,
    genes: Sequence[str] | None = None,
    unit: Literal["molecules", "reads"] = "molecules",
    min_mapq: int = 20,
) -> CnvRun:
    """Gene-level copy number of ``sample`` (BAM with normals and targets, or CNVkit file)."""
    params = params or CnvParameters()
    suffix = sample.suffix.lower()
    inputs: dict[str, str] = {str(sample): file_sha256(sample)}
    parameters: dict[str, Any] = {
        "tumour_fraction": params.tumour_fraction,
        "z_crit": params.z_crit,
        "amplification_cn": params.amplification_cn,
        "min_abs_log2": params.min_abs_log2,
        "confidence": params.confidence,
        "genes": list(genes) if genes else None,
    }
    if suffix in {".cnr", ".cns"}:
        if normals:
            msg = "--normals applies to BAM input; a CNVkit file already holds log2 ratios against its reference"
            raise InputError(msg, path=sample)
        kind, table = read_cnvkit(sample)
        if kind == "cnr":
            calls = call_copy_number_from_bins(table, params=params, only=genes)
        else:
            calls = call_copy_number_from_segments(table, params=params, only=genes)
        source = f"cnvkit.{kind}"
    elif suffix in {".bam", ".cram"}:
        if targets is None:
            msg = "BAM input needs --targets BED (chrom, start, end, gene)"
            raise InputError(msg, path=sample)
        if len(normals) < 3:
            msg = (
                f"BAM input needs at least 3 --normals BAMs for the noise model, got {len(normals)}"
            )
            raise InputError(msg, path=sample)
        tg = read_targets(targets)
        inputs[str(targets)] = file_sha256(targets)
        counts = TargetCounts(
            sample.name, count_target_molecules(sample, tg, unit=unit, min_mapq=min_mapq)
        )
        normal_counts = []
        for n in normals:
            inputs[str(n)] = file_sha256(n)
            normal_counts.append(
                TargetCounts(n.name, count_target_molecules(n, tg, unit=unit, min_mapq=min_mapq))
            )
        calls = call_copy_number(
            counts,
            normal_counts,
            genes=tg.genes,
            chroms=tg.chroms,
            starts=tg.starts,
            ends=tg.ends,
            params=params,
            only=genes,
        )
        parameters.update(unit=unit, min_mapq=min_mapq, n_normals=len(normals))
        source = f"bam.{unit}"
    else:
        msg = f"unsupported input type {suffix!r}; expected a .bam (with --normals/--targets) or a CNVkit .cnr/.cns"
        raise InputError(msg, path=sample)
    if genes:
        missing = sorted(set(genes) - {g.gene for g in calls})
        if missing:
            msg = f"gene(s) {', '.join(missing)} have no targets/bins in the input"
            raise InputError(msg, path=sample)
    header = stamp("kinresist.ngs.cnv", CNV_SCHEMA_VERSION, inputs=inputs, parameters=parameters)
    payload = cnv_payload(calls, header=header, source=source)
    payload["tumour_fraction"] = params.tumour_fraction
    return CnvRun(tuple(calls), payload)


def record_cnv(
    db: str | None,
    run: CnvRun,
    *,
    study: str,
    subject: str,
    sample: str,
    sample_kind: str = "plasma",
) -> int:
    """Store gene log2 ratios (measurements) and amplifications (findings); return the run id."""
    from kinresist.store import open_store

    call_map = {
        "amplification": "detected",
        "gain": "detected",
        "loss": "detected",
        "neutral": "not_detected",
        "indeterminate": "indeterminate",
    }
    with open_store(db) as store, store.transaction() as tx:
        st = tx.get_or_create_study(study)
        subj = tx.get_or_create_subject(st, subject)
        smp = tx.get_or_create_sample(subj, sample, kind=sample_kind)
        ar = tx.add_run(
            kind="ngs.cnv",
            parameters=run.payload.get("parameters", {}),
            inputs=run.payload.get("inputs", {}),
            outputs=run.payload,
            kb_version=run.payload.get("kb_version"),
            sample=smp,
        )
        for g in run.genes:
            tx.add_measurement(
                smp,
                run=ar,
                assay="ngs",
                target=f"{g.gene} copy number",
                quantity="log2_ratio",
                value=g.log2,
                unit="log2",
                ci_low=_finite(g.ci_low),
                ci_high=_finite(g.ci_high),
                call=call_map[g.call],
                lod=_finite(g.threshold_log2),
                attributes={
                    "call": g.call,
                    "copy_number": _finite(g.copy_number),
                    "method": g.method,
                },
            )
            if g.call == "amplification":
                tx.add_finding(
                    smp,
                    run=ar,
                    gene=g.gene,
                    alteration="AMPLIFICATION",
                    kind="amplification",
                    copy_number=_finite(g.copy_number),
                    source_assay="ngs",
                )
        return int(ar.id)


def _finite(x: float) -> float | None:
    import math

    return float(x) if x is not None and math.isfinite(x) else None
