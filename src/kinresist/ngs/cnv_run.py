"""Run the copy-number workflow end to end (``kinresist ngs cnv``).

:func:`run_cnv` reads a BAM (+ normals and targets) or a CNVkit ``.cnr``/``.cns``, calls
genes and returns a :class:`~kinresist.ngs.result.CnvResult` (table ``genes``, log2-ratio and
copy-number measurements keyed ``"<GENE> amplification"``, amplification findings). Recording
in the store goes through :func:`kinresist.core.record` like every other result.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from kinresist.errors import InputError
from kinresist.ngs.cnv import (
    CnvParameters,
    GeneCopyNumber,
    TargetCounts,
    call_copy_number,
)
from kinresist.ngs.cnv_cnvkit import call_copy_number_from_bins, call_copy_number_from_segments
from kinresist.ngs.cnv_io import (
    cnv_findings,
    count_target_molecules,
    read_cnvkit,
    read_targets,
)
from kinresist.ngs.result import SCHEMA_VERSION, CnvResult, cnv_measurements

__all__ = ["GENE_COLUMNS", "genes_frame", "run_cnv"]

#: Column contract of the ``genes`` table (in this order; ``copy_number_ci`` split in two).
GENE_COLUMNS = (
    "gene",
    "chrom",
    "start",
    "end",
    "n_targets",
    "log2",
    "ci_low",
    "ci_high",
    "z",
    "p_value",
    "threshold_log2",
    "copy_number",
    "call",
    "min_detectable_cn",
    "min_purity_for_amplification",
    "sd",
    "copy_number_ci_low",
    "copy_number_ci_high",
    "copy_number_is_lower_bound",
    "method",
    "reason",
)


def genes_frame(genes: Sequence[GeneCopyNumber]) -> pd.DataFrame:
    """The gene calls as a tidy table with the :data:`GENE_COLUMNS` contract."""
    rows = []
    for g in genes:
        d = g.to_dict()
        del d["copy_number_ci"]
        lo, hi = g.copy_number_ci
        rows.append({**d, "copy_number_ci_low": lo, "copy_number_ci_high": hi})
    return pd.DataFrame(rows, columns=list(GENE_COLUMNS))


def run_cnv(
    sample: Path,
    *,
    normals: Sequence[Path] = (),
    targets: Path | None = None,
    params: CnvParameters | None = None,
    genes: Sequence[str] | None = None,
    unit: Literal["molecules", "reads"] = "molecules",
    min_mapq: int = 20,
) -> CnvResult:
    """Gene-level copy number of ``sample`` (BAM with normals and targets, or CNVkit file)."""
    from kinresist.core.result import Provenance

    params = params or CnvParameters()
    sample = Path(sample)
    suffix = sample.suffix.lower()
    inputs: dict[str, Path] = {str(sample): sample}
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
        inputs[str(targets)] = Path(targets)
        counts = TargetCounts(
            sample.name, count_target_molecules(sample, tg, unit=unit, min_mapq=min_mapq)
        )
        normal_counts = []
        for n in normals:
            inputs[str(n)] = Path(n)
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
    warnings = []
    if params.tumour_fraction is None:
        warnings.append(
            "tumour fraction unknown: copy numbers are computed at purity 1 and are lower bounds"
        )
    return CnvResult(
        workflow="ngs.cnv",
        schema_version=SCHEMA_VERSION,
        provenance=Provenance.build(inputs=inputs, parameters=parameters),
        body={
            "source": source,
            "tumour_fraction": params.tumour_fraction,
            "genes": [g.to_dict() for g in calls],
        },
        tables={"genes": genes_frame(calls)},
        measurements=cnv_measurements(calls),
        findings=cnv_findings(calls, source=f"ngs-cnv:{sample.name}"),
        warnings=warnings,
        gene_calls=tuple(calls),
    )
