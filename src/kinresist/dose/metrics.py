"""Metrics derived from a :class:`~kinresist.dose.engine.BatchFit` (vectorised over curves).

* effective doses: relative EDp and absolute ICx (response level y*), with
  delta-method SEs (Var g = ∇gᵀ V ∇g, V the fit's covariance, gradient by central
  differences of the closed form) and Wald t intervals (df = n − p) — spec §4;
* goodness of fit: R², log-likelihood, AIC / AICc / BIC (σ counted, as drc) — §5.3;
* tests: extra-sum-of-squares F (nested models, §5.1), flat-curve F, lack of fit
  against the one-way ANOVA model (drc ``modelFit``, §5.2);
* curve summaries over the tested range: normalised AUC, activity area, Emax.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from kinresist.dose.engine import BatchFit
from kinresist.errors import InputError

__all__ = [
    "EDResult",
    "FTest",
    "auc_metrics",
    "delta_method",
    "ed",
    "f_test",
    "flat_test",
    "information_criteria",
    "lack_of_fit",
    "r_squared",
]

ParamFn = Callable[[dict[str, np.ndarray]], np.ndarray]


def _gradient(fit: BatchFit, fn: ParamFn) -> tuple[np.ndarray, np.ndarray]:
    """Value ``(n,)`` and gradient ``(n, n_params)`` (zero for fixed parameters)."""
    base = fit.param_map()
    val = np.asarray(fn(base), dtype=float).reshape(fit.n_curves)
    grad = np.zeros((fit.n_curves, len(fit.param_names)))
    for i, name in enumerate(fit.param_names):
        if not fit.free[i]:
            continue
        h = 1e-6 * np.maximum(np.abs(base[name]), 1e-4)
        plus, minus = dict(base), dict(base)
        plus[name] = base[name] + h
        minus[name] = base[name] - h
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            gp = np.asarray(fn(plus), dtype=float).reshape(fit.n_curves)
            gm = np.asarray(fn(minus), dtype=float).reshape(fit.n_curves)
        grad[:, i] = (gp - gm) / (2 * h[:, 0])
    return val, grad


def _cov0(fit: BatchFit) -> np.ndarray:
    """Covariance with fixed parameters' rows/columns set to 0 (not NaN)."""
    free = np.array(fit.free)
    cov = fit.cov.copy()
    cov[:, ~free, :] = 0.0
    cov[:, :, ~free] = 0.0
    return cov


def delta_method(fit: BatchFit, fn: ParamFn) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Estimate, delta-method SE and gradient of a function of the parameters."""
    val, grad = _gradient(fit, fn)
    var = np.einsum("ni,nij,nj->n", grad, _cov0(fit), grad)
    with np.errstate(invalid="ignore"):
        return val, np.sqrt(var), grad


@dataclass(frozen=True)
class EDResult:
    """Effective doses for each curve (rows) and level (columns)."""

    levels: tuple[float, ...]
    kind: str  # "relative" or "absolute"
    estimate: np.ndarray
    se: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    reached: np.ndarray  # bool: the curve attains the level
    side: np.ndarray  # "" or "> max tested dose" / "< min tested dose" / "not reached"
    grad: np.ndarray  # (n_curves, n_levels, n_params)
    se_method: str


def ed(
    fit: BatchFit,
    levels: float | list[float] | tuple[float, ...] = (50.0,),
    *,
    kind: str = "relative",
    ci_level: float = 0.95,
) -> EDResult:
    """Effective doses with delta-method Wald t CIs.

    Parameters
    ----------
    levels
        ``kind="relative"``: percent of the way from top to bottom (EDp, drc ``ED``).
        ``kind="absolute"``: response levels y* (ICx at y*, e.g. 50 for 50 % of control).
        ``kind="percent_of_top"``: y* = level/100 · fitted top (its uncertainty included).
    kind
        ``"relative"``, ``"absolute"`` or ``"percent_of_top"``. An absolute level outside (bottom, top) is
        "not reached": estimate NaN and ``side`` says which way.
    """
    lv = tuple(float(v) for v in np.atleast_1d(levels))
    fam = fit.spec.family
    n, m = fit.n_curves, len(lv)
    est = np.full((n, m), np.nan)
    se = np.full((n, m), np.nan)
    grad = np.zeros((n, m, len(fit.param_names)))
    reached = np.zeros((n, m), dtype=bool)
    side = np.full((n, m), "", dtype=object)
    t = fit.t_quantile(ci_level)
    for j, level in enumerate(lv):
        if kind == "relative":
            if not 0 < level < 100:
                msg = f"relative ED level must be in (0, 100), got {level}"
                raise InputError(msg)

            def fn(p: dict[str, np.ndarray], level: float = level) -> np.ndarray:
                return fam.ed_relative(p, level)

        elif kind == "absolute":

            def fn(p: dict[str, np.ndarray], level: float = level) -> np.ndarray:
                return fam.inverse(level, p)

        elif kind == "percent_of_top":

            def fn(p: dict[str, np.ndarray], level: float = level) -> np.ndarray:
                return fam.inverse(level / 100.0 * p["top"], p)

        else:
            msg = f"kind must be 'relative', 'absolute' or 'percent_of_top', got {kind!r}"
            raise InputError(msg)
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            val, s, g = delta_method(fit, fn)
        est[:, j], se[:, j], grad[:, j] = val, s, g
        ok = np.isfinite(val)
        reached[:, j] = ok
        with np.errstate(invalid="ignore"):
            side[:, j] = np.where(
                ~ok,
                "not reached",
                np.where(
                    val > fit.dose_max,
                    "> max tested dose",
                    np.where(val < fit.dose_min, "< min tested dose", ""),
                ),
            )
    half = t[:, None] * se
    return EDResult(lv, kind, est, se, est - half, est + half, reached, side, grad, fit.se_method)


# ---------------------------------------------------------------------------------
# goodness of fit and tests
# ---------------------------------------------------------------------------------
def _observed(dose: np.ndarray, response: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x = np.atleast_2d(np.asarray(dose, dtype=float))
    y = np.atleast_2d(np.asarray(response, dtype=float))
    x = np.broadcast_to(x, y.shape)
    ok = np.isfinite(x) & np.isfinite(y)
    return x, y, ok


def r_squared(fit: BatchFit, dose: np.ndarray, response: np.ndarray) -> np.ndarray:
    """1 − RSS/TSS (TSS about each curve's mean response)."""
    _, y, ok = _observed(dose, response)
    cnt = ok.sum(axis=1)
    mean = np.where(ok, y, 0).sum(axis=1) / np.maximum(cnt, 1)
    tss = (np.where(ok, y - mean[:, None], 0) ** 2).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return 1.0 - fit.rss / tss


def information_criteria(fit: BatchFit) -> dict[str, np.ndarray]:
    """logLik = −n/2·(log(2π·RSS/n) + 1); AIC = −2 logLik + 2k, k = p + 1 (σ counted);
    AICc = AIC + 2k(k+1)/(n−k−1); BIC = −2 logLik + k log n."""
    n = fit.n_obs.astype(float)
    k = float(sum(fit.free) + 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        loglik = -0.5 * n * (np.log(2 * np.pi * fit.rss / n) + 1.0)
        aic = -2 * loglik + 2 * k
        aicc = aic + 2 * k * (k + 1) / (n - k - 1)
        bic = -2 * loglik + k * np.log(n)
    return {"loglik": loglik, "aic": aic, "aicc": aicc, "bic": bic, "k": np.full(fit.n_curves, k)}


@dataclass(frozen=True)
class FTest:
    """Extra-sum-of-squares F test (arrays over curves, or scalars for one comparison)."""

    F: np.ndarray
    df1: np.ndarray
    df2: np.ndarray
    p: np.ndarray


def f_test(rss0: np.ndarray, df0: np.ndarray, rss1: np.ndarray, df1: np.ndarray) -> FTest:
    """F = ((RSS₀ − RSS₁)/(df₀ − df₁)) / (RSS₁/df₁); p = P(F_{df₀−df₁, df₁} > F) (spec §5.1)."""
    from scipy import special  # here, not at import: off the start-up path of a screen

    rss0, df0, rss1, df1 = (np.asarray(v, dtype=float) for v in (rss0, df0, rss1, df1))
    dnum = df0 - df1
    with np.errstate(invalid="ignore", divide="ignore"):
        f = ((rss0 - rss1) / dnum) / (rss1 / df1)
        f = np.maximum(f, 0.0)
        p = np.where(
            (dnum > 0) & (df1 > 0),
            special.fdtrc(np.maximum(dnum, 1), np.maximum(df1, 1), f),  # = stats.f.sf
            np.nan,
        )
    return FTest(f, dnum, df1, p)


def flat_test(fit: BatchFit, dose: np.ndarray, response: np.ndarray) -> FTest:
    """Flat (mean-only) model vs the fitted curve."""
    _, y, ok = _observed(dose, response)
    cnt = ok.sum(axis=1)
    mean = np.where(ok, y, 0).sum(axis=1) / np.maximum(cnt, 1)
    tss = (np.where(ok, y - mean[:, None], 0) ** 2).sum(axis=1)
    return f_test(tss, cnt - 1, fit.rss, fit.df)


def lack_of_fit(fit: BatchFit, dose: np.ndarray, response: np.ndarray) -> FTest:
    """Lack-of-fit F test against the one-way ANOVA model (one mean per dose; drc
    ``modelFit``). NaN where no dose has replicates. Vectorised over curves."""
    x, y, ok = _observed(dose, response)
    n, m = y.shape
    key = np.where(ok, x, np.inf)
    ascending = (key[:, 1:] >= key[:, :-1]).all()
    if ascending and not (key[:, 1:] == key[:, :-1])[ok[:, 1:]].any():
        # no dose replicated in any curve (a screen's usual design): every dose is its own
        # group, the pure-error RSS is 0 on 0 df, and the test is undefined (as computed below)
        n_pts = ok.sum(axis=1)
        return f_test(fit.rss, fit.df, np.where(n_pts > 0, 0.0, np.nan), np.full(n, np.nan))
    if ascending:  # doses already ascending (most tables): no sort
        oks, xs, ys = ok.ravel(), x.ravel(), y.ravel()
    else:
        order = np.argsort(key, axis=1, kind="stable")
        oks = np.take_along_axis(ok, order, axis=1).ravel()
        xs = np.take_along_axis(x, order, axis=1).ravel()
        ys = np.take_along_axis(y, order, axis=1).ravel()
    idx = np.flatnonzero(oks)
    xs, ys = xs[idx], ys[idx]
    row = idx // max(m, 1)
    start = np.ones(idx.size, dtype=bool)
    start[1:] = (row[1:] != row[:-1]) | (xs[1:] != xs[:-1])
    gid = np.cumsum(start) - 1
    g_row = row[start]
    cnt = np.bincount(gid)
    mean = np.bincount(gid, ys) / np.maximum(cnt, 1)
    dev2 = (ys - mean[gid]) ** 2
    rss_a = np.bincount(row, dev2, minlength=n).astype(float)
    n_pts = np.bincount(row, minlength=n)
    n_groups = np.bincount(g_row, minlength=n)
    df_a = (n_pts - n_groups).astype(float)
    rss_a = np.where(n_pts > 0, rss_a, np.nan)
    df_a = np.where(df_a > 0, df_a, np.nan)
    return f_test(fit.rss, fit.df, rss_a, df_a)


# ---------------------------------------------------------------------------------
# curve summaries over the tested range
# ---------------------------------------------------------------------------------
def auc_metrics(
    fit: BatchFit, *, reference: float | None = None, n_grid: int = 201
) -> dict[str, np.ndarray]:
    """Normalised AUC, activity area and Emax over the tested (positive) dose range.

    ``auc`` = (1/Δ)·∫ f d log10 x (mean fitted response over the range, response
    units); ``activity_area`` = ∫ (1 − f/ref) d log10 x in decades, with ``ref`` the
    100 %-response level (``reference``, default the fitted top); ``emax`` = f at the
    highest tested dose. Integrals exact for the log-logistic family (the antiderivative of
    its shape function), else by Simpson's rule on ``n_grid`` log-spaced points.
    """
    from kinresist.dose.fastpath import compiled_family, curve_means

    with np.errstate(invalid="ignore", divide="ignore"):
        lo = np.log10(fit.dose_min)
        hi = np.log10(fit.dose_max)
    span = hi - lo
    if compiled_family(fit.spec) and n_grid % 2 == 1:  # the model's own code, per curve
        integral = curve_means(fit.spec, fit.params, lo, hi, n_grid, fit.backend) * span
    else:
        from scipy.integrate import simpson

        grid = np.linspace(0.0, 1.0, n_grid)
        lx = lo[:, None] + (hi - lo)[:, None] * grid[None, :]
        with np.errstate(invalid="ignore", over="ignore"):
            fx = fit.predict(10.0**lx)
        integral = simpson(fx, x=grid, axis=1) * span
    ref = fit.param("top") if reference is None and "top" in fit.param_names else reference
    ref_arr = np.broadcast_to(np.asarray(ref if ref is not None else 1.0, dtype=float), lo.shape)
    with np.errstate(invalid="ignore", divide="ignore"):
        auc = np.where(span > 0, integral / span, np.nan)
        act = span - integral / ref_arr
        emax = fit.predict(np.column_stack([fit.dose_max]))[:, 0]
    return {"auc": auc, "activity_area": act, "emax": emax}
