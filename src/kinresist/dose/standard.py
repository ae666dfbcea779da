"""Standard-curve mode (ELISA and similar): fit 4PL/5PL to standards, interpolate unknowns.

Inverse prediction x̂ = f⁻¹(ȳ) for the mean ȳ of m replicate readings of an
unknown; its variance combines the curve's parameter uncertainty and the reading
noise: Var x̂ ≈ ∇θx̂ᵀ V ∇θx̂ + (∂x̂/∂y)²·s²/m (delta method, s² the residual
variance of the standards); CI x̂ ± t·SE with the standards' residual df. Unknowns
below the lowest or above the highest standard are flagged, and those outside
the fitted asymptotes are "not reached" (no value).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from kinresist.dose.engine import BatchFit, fit_batch
from kinresist.dose.metrics import delta_method
from kinresist.errors import InputError

__all__ = ["StandardCurve", "fit_standard", "interpolate"]


@dataclass(frozen=True)
class StandardCurve:
    """A fitted standard curve."""

    fit: BatchFit
    conc: np.ndarray
    signal: np.ndarray

    @property
    def range(self) -> tuple[float, float]:
        pos = self.conc[self.conc > 0]
        return float(pos.min()), float(pos.max())


def fit_standard(
    conc: Sequence[float] | np.ndarray,
    signal: Sequence[float] | np.ndarray,
    *,
    model: str = "LL.4",
    se: str = "jtj",
) -> StandardCurve:
    """Fit the standards (``model`` LL.4 = 4PL or LL.5 = 5PL)."""
    if model not in ("LL.4", "LL.5"):
        msg = f"standard curves use LL.4 (4PL) or LL.5 (5PL), got {model!r}"
        raise InputError(msg)
    x = np.asarray(conc, dtype=float)
    y = np.asarray(signal, dtype=float)
    fit = fit_batch(x, y, model=model, se=se)  # type: ignore[arg-type]
    return StandardCurve(fit, x, y)


def interpolate(
    curve: StandardCurve,
    signals: Sequence[float] | np.ndarray | pd.Series,
    *,
    names: Sequence[str] | None = None,
    ci_level: float = 0.95,
) -> pd.DataFrame:
    """Concentrations of unknowns (replicates share a name and are averaged)."""
    sig = np.asarray(signals, dtype=float)
    labels = [str(n) for n in (names if names is not None else range(len(sig)))]
    frame = pd.DataFrame({"name": labels, "signal": sig}).groupby("name", sort=False)["signal"]
    means = frame.mean()
    counts = frame.count()
    fit = curve.fit
    fam = fit.spec.family
    s2 = float(fit.rss[0] / fit.df[0]) if fit.df[0] > 0 else np.nan
    t = float(fit.t_quantile(ci_level)[0])
    lo_std, hi_std = curve.range
    rows = []
    count_of = {str(k): int(v) for k, v in counts.items()}
    for name, ybar_ in means.items():
        ybar = float(ybar_)
        m = count_of[str(name)]

        def inv(p: dict[str, np.ndarray], yb: float = ybar) -> np.ndarray:
            return fam.inverse(yb, p)

        val, se_theta, _ = delta_method(fit, inv)
        x = float(val[0])
        h = 1e-6 * max(abs(ybar), 1e-9)
        p = fit.param_map()
        with np.errstate(invalid="ignore"):
            dxdy = float(
                (fam.inverse(ybar + h, p)[0, 0] - fam.inverse(ybar - h, p)[0, 0]) / (2 * h)
            )
        se = float(np.sqrt(se_theta[0] ** 2 + dxdy**2 * s2 / m)) if np.isfinite(x) else np.nan
        if not np.isfinite(x):
            flag = "outside_asymptotes"
        elif x < lo_std:
            flag = "below_lowest_standard"
        elif x > hi_std:
            flag = "above_highest_standard"
        else:
            flag = ""
        rows.append(
            {
                "name": name,
                "signal_mean": float(ybar),
                "n_replicates": m,
                "concentration": x if np.isfinite(x) else np.nan,
                "se": se,
                "ci_low": x - t * se if np.isfinite(x) else np.nan,
                "ci_high": x + t * se if np.isfinite(x) else np.nan,
                "flag": flag,
            }
        )
    return pd.DataFrame(rows)
