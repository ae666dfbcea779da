"""Chou–Talalay combination index (CI) and dose-reduction index (DRI).

Median-effect equation (Chou & Talalay 1984): ``fa/fu = (D/Dm)^m``, fitted by least
squares on its linearisation ``log(fa/fu) = m·log D − m·log Dm`` using the points with
D > 0 and 0 < fa < 1 (others are dropped and counted in ``n_dropped``). The dose giving
effect fa is ``Dx = Dm·(fa/(1 − fa))^(1/m)``.

* **Fixed ratio** (diagonals of a checkerboard with a constant d1:d2 = P:Q): the mixture
  is fitted as one "drug" on its total dose; at effect fa, ``(D)1 = Dx,c·P/(P+Q)``,
  ``(D)2 = Dx,c·Q/(P+Q)``, ``CI = (D)1/(Dx)1 + (D)2/(Dx)2`` (mutually exclusive; the
  non-exclusive variant adds ``(D)1(D)2/((Dx)1(Dx)2)``), ``DRI_i = (Dx)i/(D)i``.
  Reported at fa = 0.5, 0.75, 0.9 and as an Fa–CI curve.
* **Non-constant ratio**: every combination cell with 0 < fa < 1:
  ``CI = d1/(Dx)1(fa) + d2/(Dx)2(fa)`` at the observed fa.

CI < 1 synergy, = 1 additive, > 1 antagonism. fa = % inhibition / 100.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from kinresist.synergy.block import Block

__all__ = ["CIResult", "MedianEffect", "combination_index", "fit_median_effect"]

FA_LEVELS = (0.5, 0.75, 0.9)


@dataclass(frozen=True)
class MedianEffect:
    """Median-effect fit: slope ``m``, median-effect dose ``dm``, linear correlation ``r``."""

    m: float
    dm: float
    r: float
    n: int
    n_dropped: int

    def dose_for(self, fa: np.ndarray | float) -> np.ndarray:
        f = np.asarray(fa, dtype=float)
        with np.errstate(all="ignore"):
            return self.dm * (f / (1.0 - f)) ** (1.0 / self.m)

    @property
    def ok(self) -> bool:
        return self.n >= 2 and math.isfinite(self.m) and self.m != 0 and math.isfinite(self.dm)


def fit_median_effect(dose: np.ndarray, fa: np.ndarray) -> MedianEffect:
    """Least-squares median-effect fit of (dose, fraction affected)."""
    d = np.asarray(dose, dtype=float)
    f = np.asarray(fa, dtype=float)
    use = (d > 0) & (f > 0) & (f < 1) & np.isfinite(f)
    n = int(use.sum())
    dropped = int(((d > 0) & ~use).sum())
    if n < 2:
        return MedianEffect(math.nan, math.nan, math.nan, n, dropped)
    x = np.log(d[use])
    y = np.log(f[use] / (1.0 - f[use]))
    xm, ym = x.mean(), y.mean()
    sxx = float(np.sum((x - xm) ** 2))
    if sxx == 0:
        return MedianEffect(math.nan, math.nan, math.nan, n, dropped)
    m = float(np.sum((x - xm) * (y - ym)) / sxx)
    syy = float(np.sum((y - ym) ** 2))
    r = float(np.sum((x - xm) * (y - ym)) / math.sqrt(sxx * syy)) if syy > 0 else math.nan
    dm = math.exp(xm - ym / m) if m != 0 else math.nan
    return MedianEffect(m, dm, r, n, dropped)


@dataclass(frozen=True)
class CIResult:
    """Combination index of one block.

    Attributes
    ----------
    drug1, drug2
        Single-agent median-effect fits.
    fixed_ratio
        One row per constant-ratio ray with >= 2 usable points: ratio d2/d1, the
        mixture fit, and CI, CI (non-exclusive), DRI1, DRI2 at each fa level.
    cells
        Non-constant-ratio CI per combination cell: conc1, conc2, fa, ci, dri1, dri2.
    fa_levels
        The fa levels of ``fixed_ratio``.
    """

    drug1: MedianEffect
    drug2: MedianEffect
    fixed_ratio: list[dict[str, object]]
    cells: list[dict[str, float]]
    fa_levels: tuple[float, ...]

    def fa_ci_curve(self, ray: int, fa: np.ndarray) -> np.ndarray:
        """CI (mutually exclusive) of ray ``ray`` over a grid of fa (Fa–CI plot)."""
        row = self.fixed_ratio[ray]
        mix = row["mixture"]
        assert isinstance(mix, MedianEffect)
        p = float(row["p"])  # type: ignore[arg-type]
        dxc = mix.dose_for(fa)
        return dxc * p / self.drug1.dose_for(fa) + dxc * (1 - p) / self.drug2.dose_for(fa)


def _rays(block: Block, rtol: float) -> list[tuple[float, list[tuple[int, int]]]]:
    cells = [(i, j) for i in range(1, block.shape[0]) for j in range(1, block.shape[1])]
    ratios = np.array([block.conc2[j] / block.conc1[i] for i, j in cells])
    order = np.argsort(ratios)
    groups: list[tuple[float, list[tuple[int, int]]]] = []
    for k in order:
        if groups and abs(ratios[k] / groups[-1][0] - 1) <= rtol:
            groups[-1][1].append(cells[k])
        else:
            groups.append((float(ratios[k]), [cells[k]]))
    return groups


def combination_index(
    block: Block, *, fa_levels: Sequence[float] = FA_LEVELS, ratio_rtol: float = 1e-3
) -> CIResult:
    """Chou–Talalay CI and DRI of a checkerboard (fixed-ratio rays and every cell)."""
    fa_all = block.inhibition / 100.0
    me1 = fit_median_effect(block.conc1, fa_all[:, 0])
    me2 = fit_median_effect(block.conc2, fa_all[0, :])
    levels = tuple(float(f) for f in fa_levels)
    fixed: list[dict[str, object]] = []
    for ratio, members in _rays(block, ratio_rtol):
        d1 = np.array([block.conc1[i] for i, _ in members])
        d2 = np.array([block.conc2[j] for _, j in members])
        fa = np.array([fa_all[i, j] for i, j in members])
        mix = fit_median_effect(d1 + d2, fa)
        if not mix.ok:
            continue
        p = float(np.mean(d1 / (d1 + d2)))
        row: dict[str, object] = {"ratio": ratio, "p": p, "n_points": mix.n, "mixture": mix}
        for f in levels:
            dxc = float(mix.dose_for(f))
            dd1, dd2 = dxc * p, dxc * (1 - p)
            dx1, dx2 = float(me1.dose_for(f)), float(me2.dose_for(f))
            row[f"ci_{f:g}"] = dd1 / dx1 + dd2 / dx2
            row[f"ci_nonexclusive_{f:g}"] = dd1 / dx1 + dd2 / dx2 + dd1 * dd2 / (dx1 * dx2)
            row[f"dri1_{f:g}"] = dx1 / dd1
            row[f"dri2_{f:g}"] = dx2 / dd2
        fixed.append(row)
    cells = []
    for i in range(1, block.shape[0]):
        for j in range(1, block.shape[1]):
            f = float(fa_all[i, j])
            x1, x2 = float(block.conc1[i]), float(block.conc2[j])
            if 0 < f < 1 and me1.ok and me2.ok:
                dx1, dx2 = float(me1.dose_for(f)), float(me2.dose_for(f))
                cells.append(
                    {
                        "conc1": x1,
                        "conc2": x2,
                        "fa": f,
                        "ci": x1 / dx1 + x2 / dx2,
                        "dri1": dx1 / x1,
                        "dri2": dx2 / x2,
                    }
                )
            else:
                cells.append(
                    {
                        "conc1": x1,
                        "conc2": x2,
                        "fa": f,
                        "ci": math.nan,
                        "dri1": math.nan,
                        "dri2": math.nan,
                    }
                )
    return CIResult(me1, me2, fixed, cells, levels)
