"""Result type of the batch engine: :class:`BatchFit` and the flag bits."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from kinresist.dose.models import ModelSpec

__all__ = ["FLAG_BITS", "STATUS_LABELS", "BatchFit", "param_dict", "unique_small"]

#: curve status labels, indexed by :meth:`BatchFit.status_codes`
STATUS_LABELS = ("ok", "flagged", "non_identifiable", "not_converged")

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

    @cached_property
    def flags(self) -> list[tuple[str, ...]]:
        """Flag names per curve (computed once, vectorised over the distinct bitmasks)."""
        codes, inverse = unique_small(np.asarray(self.flag_bits, dtype=np.int64))
        names = [tuple(nm for nm, bit in FLAG_BITS.items() if int(c) & bit) for c in codes]
        return [names[i] for i in inverse.reshape(-1)]

    @cached_property
    def status(self) -> list[str]:
        """``ok``, ``not_converged``, ``non_identifiable`` or ``flagged`` per curve
        (computed once)."""
        return self.status_array().tolist()

    def status_array(self) -> np.ndarray:
        """:attr:`status` as an array of str (vectorised)."""
        return np.asarray(STATUS_LABELS, dtype=object)[self.status_codes()]

    def status_codes(self) -> np.ndarray:
        """:attr:`status` as indices into :data:`STATUS_LABELS` (int8, vectorised)."""
        b = np.asarray(self.flag_bits, dtype=np.int64)
        failed = (b & (FLAG_BITS["not_converged"] | FLAG_BITS["too_few_points"])) != 0
        nonid = (b & FLAG_BITS["non_identifiable"]) != 0
        return np.select([failed, nonid, b != 0], [3, 2, 1], 0).astype(np.int8)

    def param(self, name: str) -> np.ndarray:
        """One parameter's estimates, ``(n_curves,)``."""
        return self.params[:, self.param_names.index(name)]

    def param_map(self) -> dict[str, np.ndarray]:
        """Parameters as a mapping name -> ``(n_curves, 1)`` (model-function input)."""
        return {n: self.params[:, i : i + 1] for i, n in enumerate(self.param_names)}

    def t_quantile(self, level: float = 0.95) -> np.ndarray:
        """Two-sided t quantile with the residual df of each curve (NaN where df <= 0;
        one quantile per distinct df)."""
        df = np.asarray(self.df, dtype=float)
        udf, inv = unique_small(np.maximum(np.asarray(self.df), 1))
        udf = udf.astype(float)
        from scipy import special

        with np.errstate(invalid="ignore"):
            q = special.stdtrit(udf, 0.5 + level / 2)[inv.reshape(-1)]  # = stats.t.ppf
        return np.where(df > 0, q, np.nan)

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


def unique_small(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(a, return_inverse=True)`` (flattened inverse), by counting when the values
    are small non-negative integers (residual df, flag bits): the same result without a sort."""
    arr = np.asarray(a).ravel()
    if arr.size and arr.dtype.kind in "iu" and arr.min() >= 0 and arr.max() < 1 << 16:
        seen = np.bincount(arr) > 0
        return np.flatnonzero(seen).astype(arr.dtype), (np.cumsum(seen) - 1)[arr]
    uniq, inverse = np.unique(arr, return_inverse=True)
    return uniq, inverse.reshape(-1)
