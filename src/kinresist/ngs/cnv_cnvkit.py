"""Gene-level copy number from CNVkit output: ``.cnr`` bins (noise-aware) and ``.cns`` segments.

Same :class:`~kinresist.ngs.cnv.GeneCopyNumber` records and calling rules as the BAM route
(:func:`kinresist.ngs.cnv.call_copy_number`); see that module for the tumour-fraction
arithmetic.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
from scipy import stats

from kinresist.ngs.cnv import (
    CnvCall,
    CnvParameters,
    GeneCopyNumber,
    _gene_record,
    _gene_spans,
    copy_number_from_log2,
    min_purity_for_copy_number,
)

__all__ = ["call_copy_number_from_bins", "call_copy_number_from_segments"]


def call_copy_number_from_bins(
    bins: Mapping[str, np.ndarray],
    *,
    params: CnvParameters | None = None,
    only: Sequence[str] | None = None,
    method: str = "CNVkit .cnr bins",
) -> list[GeneCopyNumber]:
    """Gene-level calls from CNVkit-style bins (no normals: bin spread gives the SE).

    Parameters
    ----------
    bins
        Columns ``chromosome``, ``start``, ``end``, ``gene`` (one gene per row; split
        comma lists first), ``log2`` and optional ``weight``.
    params, only
        As in :func:`call_copy_number`.

    Notes
    -----
    Gene log2 = weighted mean of its bins (CNVkit ``genemetrics``); SD of the mean =
    weighted bin SD / sqrt(n); interval from Student's t with n - 1 degrees of freedom.
    Genes with a single bin get an infinite SD and are ``indeterminate``.
    """
    params = params or CnvParameters()
    genes = list(bins["gene"])
    log2 = np.asarray(bins["log2"], dtype=float)
    weight = np.asarray(bins["weight"], dtype=float) if "weight" in bins else np.ones_like(log2)
    weight = np.where(np.isfinite(weight) & (weight > 0), weight, 0.0)
    spans = _gene_spans(genes, list(bins["chromosome"]), list(bins["start"]), list(bins["end"]))
    out = []
    for gene, (idx, chrom, start, end) in spans.items():
        if only is not None and gene not in only:
            continue
        x, w = log2[idx], weight[idx]
        if w.sum() <= 0:
            w = np.ones_like(x)
        m = float(np.average(x, weights=w))
        n = idx.size
        if n >= 2:
            var = float(np.average((x - m) ** 2, weights=w)) * n / (n - 1)
            sd = math.sqrt(var / n)
            tq = float(stats.t.ppf(0.5 + params.confidence / 2, n - 1))
            zc = float(stats.t.ppf(stats.norm.cdf(params.z_crit), n - 1))
            p = float(2.0 * stats.t.sf(abs(m / sd), n - 1)) if sd > 0 else 0.0
            # the call uses the t quantile matching z_crit's one-sided level
            sd_eff = sd * zc / params.z_crit
        else:
            sd, tq, p, sd_eff = math.inf, math.inf, math.nan, math.inf
        out.append(
            _gene_record(
                gene,
                chrom,
                start,
                end,
                n,
                m,
                sd_eff,
                tq * sd,
                p,
                params.z_crit * sd_eff,
                method,
                params,
            )
        )
    return out


def call_copy_number_from_segments(
    segments: Mapping[str, np.ndarray],
    *,
    params: CnvParameters | None = None,
    only: Sequence[str] | None = None,
    gain_log2: float = 0.2,
    loss_log2: float = -0.25,
) -> list[GeneCopyNumber]:
    """Gene-level calls from CNVkit segments (``.cns``) without a noise estimate.

    The gene log2 is the probe-weighted mean of the segments naming the gene. A ``.cns``
    carries no bin spread, so there is no z or CI (reported as NaN) and calls use fixed
    thresholds as CNVkit ``call -m threshold`` does: ``log2 >= gain_log2`` is a gain
    (an amplification when the estimated CN >= ``amplification_cn``), ``log2 <= loss_log2``
    a loss, otherwise neutral. Give the ``.cnr`` for noise-aware calls.
    """
    params = params or CnvParameters()
    genes = list(segments["gene"])
    log2 = np.asarray(segments["log2"], dtype=float)
    weight = np.asarray(segments["weight"], dtype=float)
    spans = _gene_spans(
        genes, list(segments["chromosome"]), list(segments["start"]), list(segments["end"])
    )
    purity = params.tumour_fraction if params.tumour_fraction is not None else 1.0
    out = []
    for gene, (idx, chrom, start, end) in spans.items():
        if only is not None and gene not in only:
            continue
        w = weight[idx] if weight[idx].sum() > 0 else np.ones(idx.size)
        m = float(np.average(log2[idx], weights=w))
        cn = copy_number_from_log2(m, purity)
        call: CnvCall
        if m >= gain_log2:
            call = "amplification" if cn >= params.amplification_cn else "gain"
        elif m <= loss_log2:
            call = "loss"
        else:
            call = "neutral"
        out.append(
            GeneCopyNumber(
                gene=gene,
                chrom=chrom,
                start=start,
                end=end,
                n_targets=int(w.sum()),
                log2=m,
                ci_low=math.nan,
                ci_high=math.nan,
                sd=math.nan,
                z=math.nan,
                p_value=math.nan,
                threshold_log2=gain_log2,
                copy_number=cn,
                copy_number_ci=(math.nan, math.nan),
                copy_number_is_lower_bound=params.tumour_fraction is None,
                call=call,
                min_detectable_cn=2.0 + 2.0 * (2.0**gain_log2 - 1.0) / purity,
                min_purity_for_amplification=min_purity_for_copy_number(
                    params.amplification_cn, gain_log2
                ),
                method="CNVkit .cns segments, fixed thresholds (no noise estimate; give the .cnr for CI-based calls)",
                reason=f"log2 {m:+.3f} vs thresholds gain >= {gain_log2:+.2f}, loss <= {loss_log2:+.2f}",
            )
        )
    return out
