"""SynergyFinder-compatible single-curve fits: a numerical replica of drc's ``drm``.

SynergyFinder 3 fits every curve with ``drc::drm(response ~ dose, fct = LL.4(fixed =
c(NA, Emin, Emax, NA)))`` and, when drm signals a warning or an error, refits with
``drm(response ~ log(dose), fct = L.4(...))`` with dose 0 replaced by 1e-10. drm
minimises the residual sum of squares with R's ``optim(method = "BFGS")``
(``vmmin``), numerical central-difference gradients (``ndeps = 1e-3`` on the
``parscale``-scaled parameters), ``reltol = 1e-7``, ``maxit = 500``, and computes
the Hessian afterwards (``optimhess``); any non-finite finite difference is an error,
which SynergyFinder turns into the L.4 fallback. Because BFGS stops early, and on
flat likelihoods at a point that depends on its path, SynergyFinder's numbers are
reproduced only by replaying that path: this module does so, step for step
(drc 3.0-1 self-starters ``llogistic.ssf``/``logistic.ssf`` method 1, drm's dose and
response scaling, ``psVec = |start|``).

This is *only* for ``mode="synergyfinder"``. The default ``mode="exact"`` fits the
least-squares optimum with the batch engine :func:`kinresist.dose.engine.fit_batch`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np

__all__ = ["DrcFit", "fit_drc"]

_ABSTOL = -math.inf
_RELTOL = 1e-7
_MAXIT = 500
_NDEPS = 1e-3


class _DrcFailure(ArithmeticError):
    """drm would signal a warning or an error (SynergyFinder then falls back to L.4)."""


def _vmmin(fn: Callable[[np.ndarray], float], b0: np.ndarray) -> np.ndarray:
    """R's ``vmmin`` (src/appl/optim.c) with optim's numerical gradient."""
    n = b0.size
    b = b0.astype(float).copy()

    def grad(p: np.ndarray) -> np.ndarray:
        g = np.empty(n)
        x = p.copy()
        for i in range(n):
            x[i] = p[i] + _NDEPS
            v1 = fn(x)
            x[i] = p[i] - _NDEPS
            v2 = fn(x)
            g[i] = (v1 - v2) / (2.0 * _NDEPS)
            if not math.isfinite(g[i]):
                msg = "non-finite finite-difference value"
                raise _DrcFailure(msg)
            x[i] = p[i]
        return g

    f = fn(b)
    if not math.isfinite(f):
        msg = "initial value in 'vmmin' is not finite"
        raise _DrcFailure(msg)
    fmin = f
    g = grad(b)
    gradcount = 1
    it = 1
    ilast = gradcount
    bmat = np.eye(n)
    t = np.zeros(n)
    while True:
        if ilast == gradcount:
            bmat = np.eye(n)
        x0 = b.copy()
        c = g.copy()
        full = np.tril(bmat) + np.tril(bmat, -1).T
        t = -(full @ g)
        gradproj = float(t @ g)
        count = 0
        if gradproj < 0.0:
            steplength = 1.0
            accpoint = False
            while True:
                b = x0 + steplength * t
                count = int(np.sum(10.0 + x0 == 10.0 + b))
                if count < n:
                    f = fn(b)
                    accpoint = math.isfinite(f) and f <= fmin + gradproj * steplength * 1e-4
                    if not accpoint:
                        steplength *= 0.2
                if count == n or accpoint:
                    break
            enough = f > _ABSTOL and abs(f - fmin) > _RELTOL * (abs(fmin) + _RELTOL)
            if not enough:
                count = n
                fmin = f
            if count < n:
                fmin = f
                g = grad(b)
                gradcount += 1
                it += 1
                t = steplength * t
                c = g - c
                d1 = float(t @ c)
                if d1 > 0:
                    full = np.tril(bmat) + np.tril(bmat, -1).T
                    xv = full @ c
                    d2 = 1.0 + float(xv @ c) / d1
                    upd = (d2 * np.outer(t, t) - np.outer(xv, t) - np.outer(t, xv)) / d1
                    bmat = bmat + np.tril(upd)
                else:
                    ilast = gradcount
            elif ilast < gradcount:
                count = 0
                ilast = gradcount
        else:
            count = 0
            if ilast == gradcount:
                count = n
            else:
                ilast = gradcount
        if it >= _MAXIT:
            break
        if gradcount - ilast > 2 * n:
            ilast = gradcount
        if count == n and ilast == gradcount:
            break
    return b


def _hessian_finite(fn: Callable[[np.ndarray], float], p: np.ndarray, ps: np.ndarray) -> bool:
    """optim(hessian = TRUE): optimhess evaluates gradients at p ± ndeps/parscale."""
    n = p.size
    for i in range(n):
        for s in (1.0, -1.0):
            x = p.copy()
            x[i] += s * _NDEPS / ps[i]
            for k in range(n):
                for s2 in (1.0, -1.0):
                    y = x.copy()
                    y[k] += s2 * _NDEPS
                    if not math.isfinite(fn(y)):
                        return False
    return True


def _ll4(x: np.ndarray, b: float, c: float, d: float, e: float) -> np.ndarray:
    with np.errstate(all="ignore"):
        return c + (d - c) / (1.0 + np.exp(b * np.log(x / e)))


def _l4(u: np.ndarray, b: float, c: float, d: float, e: float) -> np.ndarray:
    with np.errstate(all="ignore"):
        return c + (d - c) / (1.0 + np.exp(b * (u - e)))


def _lm_line(tx: np.ndarray, ty: np.ndarray) -> tuple[float, float]:
    """Intercept and slope of ``lm(ty ~ tx)`` (rows with non-finite values dropped)."""
    ok = np.isfinite(tx) & np.isfinite(ty)
    tx, ty = tx[ok], ty[ok]
    if tx.size < 2 or np.ptp(tx) == 0:
        msg = "self-starter regression is singular"
        raise _DrcFailure(msg)
    xm, ym = tx.mean(), ty.mean()
    slope = float(np.sum((tx - xm) * (ty - ym)) / np.sum((tx - xm) ** 2))
    return float(ym - slope * xm), slope


def _drm(
    u: np.ndarray,
    y: np.ndarray,
    fixed: tuple[float | None, float | None],
    *,
    model: Literal["LL.4", "L.4"],
    warning_fails: bool = True,
) -> np.ndarray:
    """One ``drm`` call; returns (b, c, d, e) or raises :class:`_DrcFailure`.

    ``warning_fails``: a warning inside drm (log10 of a negative median response when
    choosing the response scaling) counts as failure, as in SynergyFinder's
    ``tryCatch(warning = ...)``; otherwise drm goes on with scaling 1.
    """
    if model == "LL.4":
        with np.errstate(all="ignore"):
            med_x = float(np.median(u))
            med_y = float(np.median(y))
            if med_y < 0 and warning_fails:  # log10(negative): "NaNs produced" warning
                msg = "NaNs produced"
                raise _DrcFailure(msg)
            ds = 10.0 ** math.floor(math.log10(med_x)) if med_x > 0 else math.nan
            rs = 10.0 ** math.floor(math.log10(med_y)) if med_y > 0 else math.nan
        ds = ds if (math.isfinite(ds) and ds >= 1e-10) else 1.0
        rs = rs if (math.isfinite(rs) and rs >= 1e-10) else 1.0
        xs, ys = u / ds, y / rs
        func: Callable[[np.ndarray, float, float, float, float], np.ndarray] = _ll4
    else:
        ds = rs = 1.0
        xs, ys = u, y
        func = _l4
    lo, hi = float(ys.min()), float(ys.max())
    span = 0.001 * (hi - lo)
    c0, d0 = lo - span, hi + span
    with np.errstate(all="ignore"):
        ty = np.log((d0 - ys) / (ys - c0))
        tx = np.where(xs > 0, np.log(xs), np.nan) if model == "LL.4" else xs
    icpt, slope = _lm_line(tx, ty)
    if slope == 0:
        msg_0 = "self-starter slope is 0 (flat transformed response)"
        raise _DrcFailure(msg_0)
    with np.errstate(all="ignore"):
        e0 = float(np.exp(-icpt / slope)) if model == "LL.4" else -icpt / slope
    start = np.array([slope, c0, d0, e0])
    scale = np.array([1.0, rs, rs, ds])
    free = np.array([True, fixed[0] is None, fixed[1] is None, True])
    base = np.array([0.0, fixed[0] or 0.0, fixed[1] or 0.0, 0.0]) / scale
    sv = start[free]
    if not np.all(np.isfinite(sv)):
        msg = "non-finite start values"
        raise _DrcFailure(msg)
    ps = np.abs(sv)
    ps[ps < 1e-4] = 1.0

    def objective(p: np.ndarray) -> float:
        par = base.copy()
        par[free] = p * ps
        r = ys - func(xs, *par)
        return float(np.sum(r * r))

    p = _vmmin(objective, sv / ps)
    if not _hessian_finite(objective, p, ps):
        msg = "non-finite finite-difference value (Hessian)"
        raise _DrcFailure(msg)
    par = base.copy()
    par[free] = p * ps
    return par * scale


@dataclass(frozen=True)
class DrcFit:
    """A drc LL.4 (``model="LL.4"``) or L.4-on-log-dose fit, parameters (b, c, d, e).

    ``failed`` is True when both drm calls failed (SynergyFinder then has no curve).
    """

    model: Literal["LL.4", "L.4"]
    params: np.ndarray
    failed: bool = False
    log_base: float = math.e

    def _u(self, x: np.ndarray) -> np.ndarray:
        return np.log(np.where(x == 0, 1e-10, x)) / math.log(self.log_base)

    def predict(self, dose: np.ndarray | float) -> np.ndarray:
        x = np.asarray(dose, dtype=float)
        b, c, d, e = (float(v) for v in self.params)
        if self.model == "LL.4":
            return _ll4(x, b, c, d, e)
        return _l4(self._u(x), b, c, d, e)

    def inverse(self, y: np.ndarray | float) -> np.ndarray:
        """Dose giving effect ``y`` (NaN outside the curve's range)."""
        yy = np.asarray(y, dtype=float)
        b, c, d, e = (float(v) for v in self.params)
        with np.errstate(all="ignore"):
            ratio = (d - yy) / (yy - c)
            if self.model == "LL.4":
                return e * ratio ** (1.0 / b)
            return self.log_base ** (e + np.log(ratio) / math.log(self.log_base) / b)

    @property
    def ec50(self) -> float:
        """The dose at the curve's midpoint (drc e; exponentiated for L.4)."""
        e = float(self.params[3])
        return e if self.model == "LL.4" else float(self.log_base**e)

    @property
    def lower(self) -> float:
        return float(min(self.params[1], self.params[2]))

    @property
    def upper(self) -> float:
        return float(max(self.params[1], self.params[2]))


def fit_drc(
    dose: np.ndarray,
    response: np.ndarray,
    *,
    emin: float | None = None,
    emax: float | None = None,
    log_base: float = math.e,
    warning_fails: bool = True,
) -> DrcFit:
    """SynergyFinder 3 ``FitDoseResponse``: LL.4, else L.4 on log dose.

    Parameters
    ----------
    dose, response
        One curve (dose 0 allowed); NaNs are dropped (``na.omit``).
    emin, emax
        Fixed lower (c) / upper (d) asymptote, or None (free).
    log_base
        Base of the log-dose axis of the L.4 fallback (e; 10 in ``CalculateRI``).
    warning_fails
        Whether a drm warning triggers the fallback (True in ``FitDoseResponse``, False
        in ``CalculateRI``, which only catches errors).
    """
    x = np.asarray(dose, dtype=float)
    y = np.asarray(response, dtype=float).copy()
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    if y.size > 1 and np.var(y) == 0:
        y[-1] += 1e-10
    with np.errstate(all="ignore"):  # R evaluates Inf/NaN silently; failures are handled below
        try:
            return DrcFit(
                "LL.4", _drm(x, y, (emin, emax), model="LL.4", warning_fails=warning_fails)
            )
        except _DrcFailure:
            pass
        try:
            u = np.log(np.where(x == 0, 1e-10, x)) / math.log(log_base)
            return DrcFit("L.4", _drm(u, y, (emin, emax), model="L.4"), log_base=log_base)
        except _DrcFailure:
            return DrcFit("L.4", np.full(4, np.nan), failed=True, log_base=log_base)
