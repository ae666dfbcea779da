"""Pointwise confidence band of a fitted curve (delta method, t quantile on the residual df)."""

from __future__ import annotations

import numpy as np

from kinresist.dose.engine import BatchFit

__all__ = ["curve_band"]


def curve_band(
    fit: BatchFit, i: int, grid: np.ndarray, level: float = 0.95
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fitted curve of fit row ``i`` on ``grid`` with its pointwise delta-method band.

    ``se(x) = sqrt(g(x)ᵀ Σ g(x))`` with ``g`` the model's gradient in the free parameters and
    ``Σ`` their covariance; band = ``ŷ ± t(level, df) · se``. NaN bands when Σ is not finite.
    """
    fam = fit.spec.family
    p = {n: np.array([[fit.params[i, j]]]) for j, n in enumerate(fit.param_names)}
    x = grid[None, :]
    with np.errstate(all="ignore"):
        yhat = fam.f(x, p)[0]
        jac = fam.jacobian(x, p)
    free = [j for j, f in enumerate(fit.free) if f]
    if not free:
        return yhat, yhat, yhat
    jm = np.column_stack([np.broadcast_to(jac[fit.param_names[j]], x.shape)[0] for j in free])
    cov = fit.cov[i][np.ix_(free, free)]
    if not np.isfinite(cov).all():
        return yhat, np.full_like(yhat, np.nan), np.full_like(yhat, np.nan)
    se = np.sqrt(np.maximum(np.einsum("gi,ij,gj->g", jm, cov, jm), 0))
    t = float(fit.t_quantile(level)[i])
    return yhat, yhat - t * se, yhat + t * se
