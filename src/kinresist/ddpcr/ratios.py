"""Two-channel quantities as QuantaSoft computes them: ratio, fractional abundance, CNV, linkage.

Math (spec §1.4; channel 1 = target, channel 2 = reference)::

    R   = lambda1 / lambda2
    sd  = R sqrt( p1 / (N (1 - p1) lambda1^2) + p2 / (N (1 - p2) lambda2^2) )   (delta method)
    R ± z sd;  FA = 100 R/(1 + R),  FA ± 100 z sd/(1 + R)^2;  CNV = ReferenceCopies x R (CI likewise)
    linkage = max(0, ln(N N-- / (N1- N2-))) / V,  N1- = N-+ + N--,  N2- = N+- + N--

When any channel has fewer than 100 positive or negative droplets QuantaSoft adjusts these too
(unpublished). kinresist then uses a documented conservative interval: each concentration's exact
interval (:func:`kinresist.ddpcr.poisson.poisson_ci`) at level 1 - alpha/2 (Bonferroni), and
R in [c1_low / c2_high, c1_high / c2_low]; FA and CNV follow from R monotonically.
"""

from __future__ import annotations

import numpy as np

from kinresist.ddpcr.poisson import LOW_COUNT, Z

__all__ = ["linkage", "ratio_fa"]


def _a(x: object) -> np.ndarray:
    return np.asarray(x, dtype=np.float64)


def ratio_fa(
    p1: object,
    p2: object,
    n: object,
    *,
    volume_ul: float,
    level: float = 0.95,
    reference_copies: object = 2.0,
) -> dict[str, np.ndarray]:
    """Ratio, fractional abundance (%) and CNV with their Poisson CIs.

    Returns a dict of 1-D arrays (scalars become length-1 arrays): ratio, ratio_low, ratio_high, fa, fa_low, fa_high, cnv, cnv_low,
    cnv_high, method ('delta' or 'exact_bonferroni').
    """
    p1a, p2a, na = (np.atleast_1d(x).copy() for x in np.broadcast_arrays(_a(p1), _a(p2), _a(n)))
    z = Z[level]
    with np.errstate(divide="ignore", invalid="ignore"):
        q1, q2 = p1a / na, p2a / na
        l1, l2 = -np.log1p(-q1), -np.log1p(-q2)
        r = l1 / l2
        sd = r * np.sqrt(q1 / (na * (1 - q1) * l1**2) + q2 / (na * (1 - q2) * l2**2))
        r_lo, r_hi = r - z * sd, r + z * sd
        fa = 100 * l1 / (l1 + l2)
        fa_sd = 100 * sd / (1 + r) ** 2
        fa_lo, fa_hi = fa - z * fa_sd, fa + z * fa_sd
    low = (np.minimum.reduce([p1a, na - p1a, p2a, na - p2a]) < LOW_COUNT) & (na > 0)
    method = np.where(low, "exact_bonferroni", "delta")
    if low.any():
        lvl = 1 - (1 - level) / 2
        # exact intervals at the Bonferroni level; V cancels in the ratio
        c1lo, c1hi = _exact_level(p1a[low], na[low], lvl)
        c2lo, c2hi = _exact_level(p2a[low], na[low], lvl)
        with np.errstate(divide="ignore", invalid="ignore"):
            rl, rh = c1lo / c2hi, c1hi / c2lo
        r_lo[low], r_hi[low] = rl, rh
        with np.errstate(invalid="ignore"):
            fa_lo[low] = 100 * rl / (1 + rl)
            fa_hi[low] = np.where(np.isinf(rh), 100.0, 100 * rh / (1 + rh))
    ref = _a(reference_copies)
    return {
        "ratio": r,
        "ratio_low": r_lo,
        "ratio_high": r_hi,
        "fa": fa,
        "fa_low": fa_lo,
        "fa_high": fa_hi,
        "cnv": ref * r,
        "cnv_low": ref * r_lo,
        "cnv_high": ref * r_hi,
        "method": method,
    }


def _exact_level(p: np.ndarray, n: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Exact-method concentration bounds (V = 1) at an arbitrary level (via the 95 % machinery)."""
    from kinresist.ddpcr.poisson import _exact, _wald

    lo, hi = _exact(p, n, 1.0, level)
    wald = (p >= LOW_COUNT) & (n - p >= LOW_COUNT)
    if wald.any():
        from scipy.stats import norm

        wl, wh = _wald(p[wald], n[wald], 1.0, float(norm.ppf(1 - (1 - level) / 2)))
        lo[wald], hi[wald] = wl, wh
    return lo, hi


def linkage(pp: object, pn: object, np_: object, nn: object, *, volume_ul: float) -> np.ndarray:
    """QuantaSoft 'Linkage' (copies/µL of linked molecules), clipped at 0."""
    a, b, c, d = (_a(x) for x in (pp, pn, np_, nn))
    n = a + b + c + d
    n1neg, n2neg = c + d, b + d
    with np.errstate(divide="ignore", invalid="ignore"):
        val = np.log(n * d / (n1neg * n2neg)) / volume_ul
    return np.where(np.isfinite(val), np.maximum(val, 0.0), np.nan)
