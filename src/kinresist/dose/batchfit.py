"""Result type of the batch engine: :class:`BatchFit` and the flag bits."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from kinresist.dose.models import ModelSpec

__all__ = ["FLAG_BITS", "BatchFit", "param_dict"]

#: flag name -> bit in :attr:`BatchFit.flag_bits`
FLAG_BITS: dict[str, int] = {
    "not_converged": 1,
    "non_identifiable": 2,
    "ec50_outside_tested_range": 4,
    "asymptote_outside_data_range": 8,
    "no_residual_df": 16,
    "too_few_points": 32,
    "parameter_at_limit": 64,
}


@dataclass(frozen=True, eq=False)
class BatchFit:
    """Result of :func:`fit_batch` (all arrays have ``n_curves`` rows).

    Attributes
    ----------
    model
        Model name (``"LL.4"``).
    param_names
        Column names of :attr:`params` (fixed parameters included).
    params, se
        Estimates and standard errors, ``(n_curves, n_params)``; SE is NaN for fixed
        parameters and where the covariance could not be computed.
    cov
        Covariance matrices ``(n_curves, n_params, n_params)`` (NaN rows/columns for
        fixed parameters).
    free
        Which parameters were estimated.
    rss, df, n_obs
        Residual sum of squares (weighted), residual degrees of freedom, points used.
    converged, n_iter
        Convergence status and LM iterations of the kept start.
    flag_bits, flags
        Flags as a bitmask (:data:`FLAG_BITS`) and as tuples of names per curve.
    se_method
        ``"jtj"`` or ``"hessian"``.
    dose_min, dose_max
        Lowest positive and highest observed dose of each curve.
    backend
        Engine backend that produced the fit (``"numpy"`` or ``"numba"``).
    """

    model: str
    spec: ModelSpec
    param_names: tuple[str, ...]
    params: np.ndarray
    se: np.ndarray
    cov: np.ndarray
    free: tuple[bool, ...]
    rss: np.ndarray
    df: np.ndarray
    n_obs: np.ndarray
    converged: np.ndarray
    n_iter: np.ndarray
    flag_bits: np.ndarray
    se_method: str
    dose_min: np.ndarray
    dose_max: np.ndarray
    backend: str = "numpy"

    @property
    def n_curves(self) -> int:
        return int(self.params.shape[0])

    @property
    def flags(self) -> list[tuple[str, ...]]:
        return [
            tuple(name for name, bit in FLAG_BITS.items() if int(b) & bit) for b in self.flag_bits
        ]

    @property
    def status(self) -> list[str]:
        """``ok``, ``not_converged``, ``non_identifiable`` or ``flagged`` per curve."""
        out = []
        for b in self.flag_bits:
            b = int(b)
            if b & FLAG_BITS["not_converged"] or b & FLAG_BITS["too_few_points"]:
                out.append("not_converged")
            elif b & FLAG_BITS["non_identifiable"]:
                out.append("non_identifiable")
            elif b:
                out.append("flagged")
            else:
                out.append("ok")
        return out

    def param(self, name: str) -> np.ndarray:
        """One parameter's estimates, ``(n_curves,)``."""
        return self.params[:, self.param_names.index(name)]

    def param_map(self) -> dict[str, np.ndarray]:
        """Parameters as a mapping name -> ``(n_curves, 1)`` (model-function input)."""
        return {n: self.params[:, i : i + 1] for i, n in enumerate(self.param_names)}

    def t_quantile(self, level: float = 0.95) -> np.ndarray:
        """Two-sided t quantile with the residual df of each curve (NaN where df <= 0)."""
        df = self.df.astype(float)
        with np.errstate(invalid="ignore"):
            return np.where(df > 0, stats.t.ppf(0.5 + level / 2, np.maximum(df, 1)), np.nan)

    def ci(self, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
        """Wald t intervals θ̂ ± t(df)·SE, each ``(n_curves, n_params)``."""
        t = self.t_quantile(level)[:, None]
        return self.params - t * self.se, self.params + t * self.se

    def predict(self, dose: np.ndarray) -> np.ndarray:
        """Fitted responses at ``dose`` (``(n_points,)`` shared or ``(n_curves, n_points)``)."""
        x = np.asarray(dose, dtype=float)
        if x.ndim == 1:
            x = np.broadcast_to(x, (self.n_curves, x.size))
        return self.spec.family.f(x, self.param_map())

    def subset(self, rows: np.ndarray | slice) -> BatchFit:
        """The fits of some curves only."""
        return BatchFit(
            self.model,
            self.spec,
            self.param_names,
            self.params[rows],
            self.se[rows],
            self.cov[rows],
            self.free,
            self.rss[rows],
            self.df[rows],
            self.n_obs[rows],
            self.converged[rows],
            self.n_iter[rows],
            self.flag_bits[rows],
            self.se_method,
            self.dose_min[rows],
            self.dose_max[rows],
            self.backend,
        )


def param_dict(names: tuple[str, ...], values: np.ndarray) -> dict[str, np.ndarray]:
    """``(n, k)`` array -> mapping name -> ``(n, 1)`` column."""
    return {n: values[:, i : i + 1] for i, n in enumerate(names)}
