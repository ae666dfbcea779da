"""Gene-level copy number for small panels: gains and amplifications at low tumour fraction.

Two routes lead to the same :class:`GeneCopyNumber` records:

* **From molecule (or read) counts per target** with a panel of normals
  (:func:`call_copy_number`). Each sample's per-target counts are median-normalised,
  the reference is the per-target median of the normals, and the sample's log2 ratio
  is centred on its median target. The gene log2 is the inverse-variance weighted mean
  of its targets; its null spread comes from the normals themselves (leave-one-out),
  so the detection threshold is derived from the panel noise, not fixed. The baseline
  of each gene is the median log2 of the *other* genes' targets, so a gene's own
  amplification does not shift it (CNVkit-style median centring over the whole panel
  biases focal gains low when they cover a large share of a small panel).
* **From CNVkit bins** (``.cnr``; :func:`kinresist.ngs.cnv_cnvkit.call_copy_number_from_bins`): the gene log2 is the
  bin-weighted mean (CNVkit ``genemetrics``); its standard error comes from the bins'
  spread with a t interval. A ``.cns`` only gives probe-weighted segment means.

Tumour-fraction arithmetic (CNVkit / PureCN convention, diploid normal):

.. math::

    \\log_2 R = \\log_2\\frac{\\rho\\,CN + 2(1-\\rho)}{2}
    \\qquad CN = 2 + \\frac{2\\,(2^{\\log_2 R} - 1)}{\\rho}

A call needs ``|z| >= z_crit`` against the gene's null spread. Gains below
``amplification_cn`` are ``gain``; a non-significant gene is ``neutral`` only when its
upper confidence bound excludes a single-copy gain at the stated tumour fraction, else
``indeterminate`` (not assessable: a CN 3 gain at 5 % tumour fraction is +0.036 log2).
Without a tumour fraction, copy numbers are computed at purity 1 and are lower bounds.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from scipy import stats

from kinresist.errors import InputError

__all__ = [
    "CNV_GENES",
    "CnvCall",
    "CnvParameters",
    "GeneCopyNumber",
    "TargetCounts",
    "call_copy_number",
    "copy_number_from_log2",
    "expected_log2",
    "min_purity_for_copy_number",
]

CNV_GENES = ("ALK", "MET", "KIT", "EGFR", "ERBB2")
CnvCall = Literal["amplification", "gain", "neutral", "loss", "indeterminate"]


def expected_log2(copy_number: float, purity: float) -> float:
    """Expected log2 ratio of a gene at ``copy_number`` in a sample of tumour fraction ``purity``."""
    ratio = (purity * copy_number + 2.0 * (1.0 - purity)) / 2.0
    return math.log2(ratio) if ratio > 0 else -math.inf


def copy_number_from_log2(log2: float, purity: float) -> float:
    """Absolute copy number implied by ``log2`` at tumour fraction ``purity`` (floored at 0)."""
    if not 0.0 < purity <= 1.0:
        msg = f"tumour fraction must be in (0, 1], got {purity!r}"
        raise InputError(msg)
    return max(0.0, 2.0 + 2.0 * (2.0**log2 - 1.0) / purity)


def min_purity_for_copy_number(copy_number: float, threshold_log2: float) -> float | None:
    """Smallest tumour fraction at which ``copy_number`` reaches ``threshold_log2``; None if > 1."""
    if copy_number <= 2.0:
        return None
    p = 2.0 * (2.0**threshold_log2 - 1.0) / (copy_number - 2.0)
    return p if p <= 1.0 else None


@dataclass(frozen=True, slots=True)
class CnvParameters:
    """Options of the gene-level caller.

    Parameters
    ----------
    tumour_fraction
        Tumour (ctDNA) fraction of the sample; None = unknown (copy numbers at purity 1,
        i.e. lower bounds).
    z_crit
        |z| needed for a call (gene log2 / its null SD).
    amplification_cn
        Estimated copy number from which a significant gain is an amplification.
    min_abs_log2
        A call also needs |log2| at least this large (guards against tiny, very precise shifts).
    confidence
        Two-sided level of the reported confidence interval.
    """

    tumour_fraction: float | None = None
    z_crit: float = 3.0
    amplification_cn: float = 5.0
    min_abs_log2: float = 0.1
    confidence: float = 0.95

    def __post_init__(self) -> None:
        if self.tumour_fraction is not None and not 0.0 < self.tumour_fraction <= 1.0:
            msg = f"tumour fraction must be in (0, 1], got {self.tumour_fraction!r}; give e.g. 0.05 for 5 %"
            raise InputError(msg)
        if self.amplification_cn <= 2.0:
            msg = f"amplification_cn must exceed 2, got {self.amplification_cn!r}"
            raise InputError(msg)


@dataclass(frozen=True, slots=True)
class GeneCopyNumber:
    """Gene-level copy-number estimate and call (one JSON ``genes[]`` record)."""

    gene: str
    chrom: str
    start: int
    end: int
    n_targets: int
    log2: float
    ci_low: float
    ci_high: float
    sd: float
    z: float
    p_value: float
    threshold_log2: float
    copy_number: float
    copy_number_ci: tuple[float, float]
    copy_number_is_lower_bound: bool
    call: CnvCall
    min_detectable_cn: float | None
    min_purity_for_amplification: float | None
    method: str
    reason: str

    def to_dict(self) -> dict[str, object]:
        """The JSON record (contract fields gene, log2, copy_number, call first)."""
        return {
            "gene": self.gene,
            "log2": self.log2,
            "copy_number": self.copy_number,
            "call": self.call,
            "chrom": self.chrom,
            "start": self.start,
            "end": self.end,
            "n_targets": self.n_targets,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "sd": self.sd,
            "z": self.z,
            "p_value": self.p_value,
            "threshold_log2": self.threshold_log2,
            "copy_number_ci": list(self.copy_number_ci),
            "copy_number_is_lower_bound": self.copy_number_is_lower_bound,
            "min_detectable_cn": self.min_detectable_cn,
            "min_purity_for_amplification": self.min_purity_for_amplification,
            "method": self.method,
            "reason": self.reason,
        }


@dataclass(frozen=True, slots=True)
class TargetCounts:
    """Per-target counts (molecules or reads) of one sample, targets in panel order."""

    name: str
    counts: np.ndarray = field(repr=False)

    def __post_init__(self) -> None:
        arr = np.asarray(self.counts, dtype=float)
        if arr.ndim != 1 or not np.all(np.isfinite(arr)) or np.any(arr < 0):
            msg = f"sample {self.name!r}: target counts must be a 1-D array of finite counts >= 0"
            raise InputError(msg)
        object.__setattr__(self, "counts", arr)


def _classify(
    log2: float, ci_low: float, ci_high: float, z: float, threshold: float, params: CnvParameters
) -> tuple[CnvCall, str]:
    purity = params.tumour_fraction if params.tumour_fraction is not None else 1.0
    cn = copy_number_from_log2(log2, purity)
    significant = abs(z) >= params.z_crit and abs(log2) >= params.min_abs_log2
    if significant and log2 > 0:
        if cn >= params.amplification_cn:
            return (
                "amplification",
                f"z={z:.1f} >= {params.z_crit}; estimated CN {cn:.1f} >= {params.amplification_cn:g}",
            )
        return (
            "gain",
            f"z={z:.1f} >= {params.z_crit}; estimated CN {cn:.1f} < {params.amplification_cn:g}",
        )
    if significant and log2 < 0:
        return "loss", f"z={z:.1f} <= -{params.z_crit}"
    gain_log2 = expected_log2(3.0, purity)
    if ci_high < gain_log2 and ci_low > expected_log2(1.0, purity):
        return "neutral", (
            f"not significant (z={z:.1f}); CI excludes a single-copy change "
            f"(CN 3 = {gain_log2:+.3f} log2 at tumour fraction {purity:g})"
        )
    return "indeterminate", (
        f"not significant (z={z:.1f}) but a single-copy gain at tumour fraction {purity:g} "
        f"({gain_log2:+.3f} log2) is within the CI [{ci_low:+.3f}, {ci_high:+.3f}]: not assessable"
    )


def _gene_record(
    gene: str,
    chrom: str,
    start: int,
    end: int,
    n: int,
    log2: float,
    sd: float,
    half_width: float,
    p_value: float,
    threshold: float,
    method: str,
    params: CnvParameters,
) -> GeneCopyNumber:
    z = log2 / sd if sd > 0 else math.copysign(math.inf, log2) if log2 else 0.0
    lo, hi = log2 - half_width, log2 + half_width
    call, reason = _classify(log2, lo, hi, z, threshold, params)
    purity = params.tumour_fraction if params.tumour_fraction is not None else 1.0
    return GeneCopyNumber(
        gene=gene,
        chrom=chrom,
        start=start,
        end=end,
        n_targets=n,
        log2=float(log2),
        ci_low=float(lo),
        ci_high=float(hi),
        sd=float(sd),
        z=float(z),
        p_value=float(p_value),
        threshold_log2=float(threshold),
        copy_number=copy_number_from_log2(log2, purity),
        copy_number_ci=(copy_number_from_log2(lo, purity), copy_number_from_log2(hi, purity)),
        copy_number_is_lower_bound=params.tumour_fraction is None,
        call=call,
        min_detectable_cn=(2.0 + 2.0 * (2.0**threshold - 1.0) / purity)
        if math.isfinite(threshold)
        else None,
        min_purity_for_amplification=min_purity_for_copy_number(params.amplification_cn, threshold),
        method=method,
        reason=reason,
    )


def _gene_spans(
    genes: Sequence[str], chroms: Sequence[str], starts: Sequence[int], ends: Sequence[int]
) -> dict[str, tuple[np.ndarray, str, int, int]]:
    out: dict[str, tuple[np.ndarray, str, int, int]] = {}
    garr = np.asarray(genes, dtype=object)
    for gene in dict.fromkeys(genes):
        idx = np.flatnonzero(garr == gene)
        out[gene] = (
            idx,
            str(chroms[idx[0]]),
            int(np.min(np.asarray(starts)[idx])),
            int(np.max(np.asarray(ends)[idx])),
        )
    return out


def _normalised_log2(counts: np.ndarray) -> np.ndarray:
    """log2 of counts / median (pseudo-count 0.5 keeps empty targets finite)."""
    med = np.median(counts[counts > 0]) if np.any(counts > 0) else 0.0
    if med <= 0:
        msg = "a sample has no on-target molecules: check the BAM and the target BED"
        raise InputError(msg)
    return np.log2((counts + 0.5) / med)


def call_copy_number(
    sample: TargetCounts,
    normals: Sequence[TargetCounts],
    *,
    genes: Sequence[str],
    chroms: Sequence[str],
    starts: Sequence[int],
    ends: Sequence[int],
    params: CnvParameters | None = None,
    only: Sequence[str] | None = None,
) -> list[GeneCopyNumber]:
    """Gene-level calls from per-target counts against a panel of normals.

    Parameters
    ----------
    sample, normals
        Per-target counts (same target order as ``genes``/``chroms``/``starts``/``ends``).
        At least 3 normals are required for an empirical null.
    genes, chroms, starts, ends
        Target annotation (one entry per target).
    params
        Caller options (tumour fraction, z threshold, amplification CN).
    only
        Restrict the output to these genes (default: every gene with targets).

    Returns
    -------
    list of GeneCopyNumber
        In panel order. ``sd`` is the gene log2's null SD from leave-one-out normals
        (floored by the analytic SE of the weighted target mean and of the baseline median);
        ``threshold_log2 = z_crit * sd``; the CI uses Student's t with n_normals - 1 d.f.
    """
    params = params or CnvParameters()
    n_t = len(genes)
    if len(normals) < 3:
        msg = f"copy number needs at least 3 normal samples for a noise model, got {len(normals)}"
        raise InputError(msg)
    for s in (sample, *normals):
        if s.counts.shape != (n_t,):
            msg = (
                f"sample {s.name!r} has {s.counts.size} target counts, the panel has {n_t} targets"
            )
            raise InputError(msg)
    xn = np.vstack([_normalised_log2(s.counts) for s in normals])
    ref = np.median(xn, axis=0)
    resid = xn - ref
    mad = 1.4826 * np.median(np.abs(resid - np.median(resid, axis=0)), axis=0)
    counting = 1.0 / (math.log(2) * np.sqrt(np.maximum(sample.counts, 1.0)))
    tsd = np.maximum(np.maximum(mad, np.std(resid, axis=0, ddof=1)), counting)
    w = 1.0 / tsd**2
    lr = _normalised_log2(sample.counts) - ref

    # leave-one-out log2 of each normal: the empirical null
    loo = np.empty_like(xn)
    for j in range(len(normals)):
        loo[j] = xn[j] - np.median(np.delete(xn, j, axis=0), axis=0)
    spans = _gene_spans(genes, chroms, starts, ends)
    dof = len(normals) - 1
    tq = float(stats.t.ppf(0.5 + params.confidence / 2, dof))
    out = []
    for gene, (idx, chrom, start, end) in spans.items():
        if only is not None and gene not in only:
            continue
        wg = w[idx]
        # centre on the other genes' targets, so the gene's own gain cannot shift its baseline
        rest = np.ones(n_t, dtype=bool)
        rest[idx] = False
        if not rest.any():
            rest[:] = True
        g_log2 = float(np.sum(wg * lr[idx]) / np.sum(wg) - np.median(lr[rest]))
        null = (loo[:, idx] * wg).sum(axis=1) / wg.sum() - np.median(loo[:, rest], axis=1)
        # analytic floor: weighted target noise plus the noise of the baseline median
        se_w = float(1.0 / math.sqrt(wg.sum()))
        se_centre = 1.2533 * float(np.median(tsd[rest])) / math.sqrt(int(rest.sum()))
        sd = max(float(np.sqrt(np.mean(null**2))), math.hypot(se_w, se_centre))
        z = g_log2 / sd
        p = float(2.0 * stats.t.sf(abs(z), dof))
        out.append(
            _gene_record(
                gene,
                chrom,
                start,
                end,
                idx.size,
                g_log2,
                sd,
                tq * sd,
                p,
                params.z_crit * sd,
                f"molecule counts vs {len(normals)} normals (leave-one-out null, t{dof})",
                params,
            )
        )
    return out
