"""SynergyFinder-compatible single-curve fits: an arithmetic replica of drc's ``drm``.

SynergyFinder 3 (``FitDoseResponse``) fits every curve with ``drc::drm(response ~ dose,
fct = LL.4(fixed = c(NA, Emin, Emax, NA)))`` inside ``tryCatch(error = ...)`` and refits
with ``drm(response ~ log(dose), fct = L.4(...))`` (dose 0 replaced by 1e-10) when drm
signals an R error *or* returns something that is not a fitted model (drm's
``errorm = FALSE``: optim failed). A *warning* does not trigger the fallback (drc sets
``options(warn = -1)``; e.g. ``log10`` of a negative median response when choosing the
response scaling only yields scaling 1).

drm minimises the residual sum of squares with R's ``optim(method = "BFGS")``
(``vmmin``), numerical central-difference gradients (``ndeps = 1e-3`` on the
``parscale``-scaled parameters), ``reltol = 1e-7``, ``maxit = 500``, then computes the
Hessian (``optimhess``); a non-finite function value at the start or a non-finite
finite difference is an error inside optim (``try``), i.e. "not fitted". BFGS stops
early, and on flat likelihoods (plateaus never reached, steep steps) it runs to
``maxit`` along a path that depends on the last bit of every intermediate number: a
1-ulp change of a start value, or a different order of the data rows, moves such a
fit by whole percentage points in R itself. SynergyFinder's numbers are therefore
reproduced only by replaying drm *operation for operation*, which this module does:

* the data in SynergyFinder's row order (the caller passes them in that order);
* drm's scaling: dose by ``10^floor(log10(median dose))``, response by
  ``10^floor(log10(median response))`` (1 when that is NaN, i.e. a median <= 0, or
  below 1e-15); L.4 has no scaling;
* the self-starters ``llogistic.ssf``/``logistic.ssf`` method 1: c, d = range ∓ 0.1 %
  of the range (computed even when c or d is fixed), (b, e) from
  ``lm(log((d − y)/(y − c)) ~ log(x))`` over x > 0 (``~ x`` for L.4), solved by R's
  Householder QR (LINPACK ``dqrdc2``/``dqrsl`` with reference-BLAS ``dnrm2``/``ddot``);
* the objective ``sum((y − f(x))^2)`` with R's long-double accumulation of ``sum`` and
  C-library ``exp``/``log`` (Python's :mod:`math`, the same libm R calls);
* ``optim``'s BFGS = ``vmmin`` (src/appl/optim.c) loop by loop, with ``parscale =
  |start|`` (values < 1e-4 -> 1) and ``fmingr``'s central differences;
* ``hessian = TRUE``: ``optimhess`` evaluates gradients at ``par/parscale ±
  ndeps/parscale``; a non-finite value there is an optim error (not fitted).

This is *only* for ``mode="synergyfinder"``. The default ``mode="exact"`` fits the
least-squares optimum with the batch engine :func:`kinresist.dose.engine.fit_batch`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

__all__ = ["DrcFit", "fit_drc", "r_log", "r_pow", "r_sum"]

_ABSTOL = -math.inf
_RELTOL = 1e-7
_MAXIT = 500
_NDEPS = 1e-3
_STEPREDN = 0.2
_ACCTOL = 1e-4
_RELTEST = 10.0
_LM_TOL = 1e-7  # lm.fit's tol for the QR rank decision
_SCALE_THRES = 1e-15  # drmc dscaleThres / rscaleThres
_INF = math.inf
_NAN = math.nan


class _DrcFailure(ArithmeticError):
    """drm raised an R error (``kind="error"``) or returned an unfitted object because
    optim failed inside drc's ``try`` (``kind="unfitted"``)."""

    def __init__(self, msg: str, kind: Literal["error", "unfitted"] = "unfitted") -> None:
        super().__init__(msg)
        self.kind = kind


# --- R's scalar arithmetic ---------------------------------------------------------


def r_log(v: float) -> float:
    """R's ``log``: libm log, −Inf at 0, NaN below 0 (no exception)."""
    if v > 0.0:
        return math.log(v)
    if v == 0.0:
        return -_INF
    return _NAN


def r_pow(x: float, y: float) -> float:
    """R's ``x ^ y`` (``R_pow``): IEEE results instead of Python exceptions."""
    if y == 2.0:
        return x * x
    if x == 1.0 or y == 0.0:
        return 1.0
    if x == 0.0:
        return 0.0 if y > 0 else (_INF if y < 0 else y)
    if x != x or y != y:
        return x + y
    if math.isfinite(x) and math.isfinite(y):
        try:
            return math.pow(x, y)
        except ValueError:  # negative base, non-integer exponent
            return _NAN
        except OverflowError:
            return _INF if (x > 0 or (float(y).is_integer() and y % 2 == 0)) else -_INF
    if not math.isfinite(x):
        if x > 0:
            return 0.0 if y < 0 else _INF
        if math.isfinite(y) and y == math.floor(y):
            return 0.0 if y < 0 else (x if math.fmod(y, 2.0) != 0 else -x)
    if not math.isfinite(y) and x >= 0:
        if y > 0:
            return _INF if x >= 1 else 0.0
        return _INF if x < 1 else 0.0
    return _NAN


def _exp(v: float) -> float:
    try:
        return math.exp(v)
    except OverflowError:
        return _INF


def _div(a: float, b: float) -> float:
    """IEEE division (Inf/NaN instead of ZeroDivisionError)."""
    if b != 0.0:
        return a / b
    if a != a or a == 0.0:
        return _NAN
    return math.copysign(_INF, a) * math.copysign(1.0, b)


def r_sum(values: Sequence[float] | np.ndarray) -> float:
    """R's ``sum`` of doubles: sequential accumulation in long double, then rounded."""
    arr = np.asarray(values, dtype=float)
    if arr.size == 0:
        return 0.0
    return float(np.cumsum(arr, dtype=np.longdouble)[-1])


def _r_median(v: np.ndarray) -> float:
    s = np.sort(v)
    n = s.size
    if n == 0:
        return _NAN
    h = n // 2
    if n % 2:
        return float(s[h])
    return float((np.longdouble(s[h - 1]) + np.longdouble(s[h])) / 2)


def _r_pow10_floor_log10(m: float) -> float:
    """``10^(floor(log10(m)))`` as R evaluates it (NaN for m < 0, 0 for m = 0)."""
    if m != m or m < 0:
        return _NAN
    if m == 0:
        return 0.0
    return float(10.0 ** math.floor(math.log10(m)))


# --- lm(): LINPACK QR with reference BLAS --------------------------------------------


def _dnrm2(x: list[float]) -> float:
    """Reference BLAS ``dnrm2`` (LAPACK >= 3.10, Blue's algorithm)."""
    tsml = 2.0**-511
    tbig = 2.0**486
    ssml = 2.0**537
    sbig = 2.0**-538
    notbig = True
    asml = amed = abig = 0.0
    for v in x:
        ax = abs(v)
        if ax > tbig:
            abig = abig + (ax * sbig) ** 2
            notbig = False
        elif ax < tsml:
            if notbig:
                asml = asml + (ax * ssml) ** 2
        else:
            amed = amed + ax * ax
    if abig > 0.0:
        if amed > 0.0 or amed != amed:
            abig = abig + (amed * sbig) * sbig
        return (1.0 / sbig) * math.sqrt(abig)
    if asml > 0.0:
        if amed > 0.0 or amed != amed:
            amed = math.sqrt(amed)
            asml = math.sqrt(asml) / ssml
            ymin, ymax = (amed, asml) if asml > amed else (asml, amed)
            return 1.0 * math.sqrt(ymax**2 * (1.0 + (ymin / ymax) ** 2))
        return (1.0 / ssml) * math.sqrt(asml)
    return 1.0 * math.sqrt(amed)


def _ddot(x: list[float], y: list[float]) -> float:
    s = 0.0
    for a, b in zip(x, y, strict=True):
        s = s + a * b
    return s


def _lm_line(tx: np.ndarray, ty: np.ndarray) -> tuple[float, float]:
    """``coef(lm(ty ~ tx))`` with NA rows dropped: R's ``dqrls`` (dqrdc2 + dqrsl).

    Raises :class:`_DrcFailure` where R fails: no complete row ("0 (non-NA) cases") or
    a rank-deficient design (NA slope, which later stops drm).
    """
    ok = np.isfinite(tx) & np.isfinite(ty)
    xs = [float(v) for v in tx[ok]]
    y = [float(v) for v in ty[ok]]
    n = len(xs)
    if n == 0:
        msg = "0 (non-NA) cases"
        raise _DrcFailure(msg, "error")
    cols = [[1.0] * n, xs]  # column-major design [1, x]
    p = 2
    qraux = [_dnrm2(c) for c in cols]
    work1 = list(qraux)
    work2 = [q if q != 0.0 else 1.0 for q in qraux]
    k = p + 1
    lup = min(n, p)
    for l_ in range(lup):
        while not (l_ >= k - 1 or qraux[l_] >= work2[l_] * _LM_TOL):
            cols.append(cols.pop(l_))  # limited pivoting: negligible column to the end
            qraux.append(qraux.pop(l_))
            work1.append(work1.pop(l_))
            work2.append(work2.pop(l_))
            k -= 1
        if l_ == n - 1:
            continue
        cl = cols[l_]
        nrmxl = _dnrm2(cl[l_:])
        if nrmxl == 0.0:
            continue
        if cl[l_] != 0.0:
            nrmxl = math.copysign(nrmxl, cl[l_])
        inv = 1.0 / nrmxl
        for i in range(l_, n):
            cl[i] = inv * cl[i]
        cl[l_] = 1.0 + cl[l_]
        for j in range(l_ + 1, p):
            cj = cols[j]
            t = -_ddot(cl[l_:], cj[l_:]) / cl[l_]
            for i in range(l_, n):
                cj[i] = cj[i] + t * cl[i]
            if qraux[j] != 0.0:
                tt = 1.0 - (abs(cj[l_]) / qraux[j]) ** 2
                tt = max(tt, 0.0)
                if abs(tt) >= 1e-6:
                    qraux[j] = qraux[j] * math.sqrt(tt)
                else:
                    qraux[j] = _dnrm2(cj[l_ + 1 :])
                    work1[j] = qraux[j]
        qraux[l_] = cl[l_]
        cl[l_] = -nrmxl
    rank = min(k - 1, n)
    if rank < p:  # R: NA coefficient -> NA start value -> error in drm
        msg = "self-starter regression is rank deficient"
        raise _DrcFailure(msg, "error")
    # dqrsl job 1110: qty = Q'y, then b by back substitution
    qty = list(y)
    ju = min(rank, n - 1)
    for j in range(ju):
        if qraux[j] == 0.0:
            continue
        cj = cols[j]
        temp = cj[j]
        cj[j] = qraux[j]
        t = -_ddot(cj[j:], qty[j:]) / cj[j]
        for i in range(j, n):
            qty[i] = qty[i] + t * cj[i]
        cj[j] = temp
    b = qty[:rank]
    for j in range(rank - 1, -1, -1):
        if cols[j][j] == 0.0:
            msg = "singular self-starter regression"
            raise _DrcFailure(msg, "error")
        b[j] = b[j] / cols[j][j]
        if j > 0:
            t = -b[j]
            for i in range(j):
                b[i] = b[i] + t * cols[j][i]
    return b[0], b[1]


# --- optim(method = "BFGS") ----------------------------------------------------------


def _fmingr(fn: Callable[[list[float]], float], p: list[float]) -> list[float]:
    """optim's numerical gradient (``fmingr``): central differences, ndeps 1e-3."""
    g = []
    x = list(p)
    for i in range(len(p)):
        x[i] = p[i] + _NDEPS
        v1 = fn(x)
        x[i] = p[i] - _NDEPS
        v2 = fn(x)
        gi = (v1 - v2) / (2.0 * _NDEPS)
        if not math.isfinite(gi):
            msg = "non-finite finite-difference value"
            raise _DrcFailure(msg)
        g.append(gi)
        x[i] = p[i]
    return g


def _vmmin(fn: Callable[[list[float]], float], b0: list[float]) -> list[float]:
    """R's ``vmmin`` (src/appl/optim.c), loop for loop."""
    n = len(b0)
    b = list(b0)
    f = fn(b)
    if not math.isfinite(f):
        msg = "initial value in 'vmmin' is not finite"
        raise _DrcFailure(msg)
    fmin = f
    gradcount = 1
    g = _fmingr(fn, b)
    it = 1
    ilast = gradcount
    bm = [[0.0] * (i + 1) for i in range(n)]  # lower triangle
    t = [0.0] * n
    xv = [0.0] * n
    c = [0.0] * n
    count = 0
    while True:
        if ilast == gradcount:
            for i in range(n):
                for j in range(i):
                    bm[i][j] = 0.0
                bm[i][i] = 1.0
        for i in range(n):
            xv[i] = b[i]
            c[i] = g[i]
        gradproj = 0.0
        for i in range(n):
            s = 0.0
            for j in range(i + 1):
                s -= bm[i][j] * g[j]
            for j in range(i + 1, n):
                s -= bm[j][i] * g[j]
            t[i] = s
            gradproj += s * g[i]
        if gradproj < 0.0:
            steplength = 1.0
            accpoint = False
            while True:
                count = 0
                for i in range(n):
                    b[i] = xv[i] + steplength * t[i]
                    if _RELTEST + xv[i] == _RELTEST + b[i]:
                        count += 1
                if count < n:
                    f = fn(b)
                    accpoint = math.isfinite(f) and f <= fmin + gradproj * steplength * _ACCTOL
                    if not accpoint:
                        steplength *= _STEPREDN
                if count == n or accpoint:
                    break
            enough = f > _ABSTOL and abs(f - fmin) > _RELTOL * (abs(fmin) + _RELTOL)
            if not enough:
                count = n
                fmin = f
            if count < n:
                fmin = f
                g = _fmingr(fn, b)
                gradcount += 1
                it += 1
                d1 = 0.0
                for i in range(n):
                    t[i] = steplength * t[i]
                    c[i] = g[i] - c[i]
                    d1 += t[i] * c[i]
                if d1 > 0:
                    d2 = 0.0
                    for i in range(n):
                        s = 0.0
                        for j in range(i + 1):
                            s += bm[i][j] * c[j]
                        for j in range(i + 1, n):
                            s += bm[j][i] * c[j]
                        xv[i] = s
                        d2 += s * c[i]
                    d2 = 1.0 + d2 / d1
                    for i in range(n):
                        for j in range(i + 1):
                            bm[i][j] += (d2 * t[i] * t[j] - xv[i] * t[j] - t[i] * xv[j]) / d1
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
        if not (count != n or ilast != gradcount):
            break
    return b


def _optimhess_finite(
    fn: Callable[[list[float]], float], par: list[float], ps: list[float]
) -> bool:
    """``optimhess``: gradients at ``par/parscale ± ndeps/parscale`` must be finite."""
    dpar = [v / s for v, s in zip(par, ps, strict=True)]
    for i in range(len(dpar)):
        eps = _NDEPS / ps[i]
        for shift in (eps, -2.0 * eps):
            dpar[i] = dpar[i] + shift
            try:
                _fmingr(fn, dpar)
            except _DrcFailure:
                return False
        dpar[i] = dpar[i] + eps
    return True


# --- drm -----------------------------------------------------------------------------


def _ll4_value(x: float, b: float, c: float, d: float, e: float) -> float:
    """drc ``llogistic`` fct with f = 1: ``c + (d − c)/(1 + exp(b·log(x/e)))^1``."""
    return c + _div(d - c, 1.0 + _exp(b * r_log(_div(x, e))))


def _l4_value(u: float, b: float, c: float, d: float, e: float) -> float:
    """drc ``logistic`` fct with f = 1: ``c + (d − c)/(1 + exp(b·(u − e)))^1``."""
    return c + _div(d - c, 1.0 + _exp(b * (u - e)))


def _drm(
    u: np.ndarray,
    y: np.ndarray,
    fixed: tuple[float | None, float | None],
    *,
    model: Literal["LL.4", "L.4"],
) -> np.ndarray:
    """One ``drm`` call on data in R's row order; (b, c, d, e) or :class:`_DrcFailure`."""
    func = _ll4_value if model == "LL.4" else _l4_value
    if model == "LL.4":
        ds = _r_pow10_floor_log10(_r_median(u))
        rs = _r_pow10_floor_log10(_r_median(y))
        ds = ds if (ds == ds and ds >= _SCALE_THRES) else 1.0
        rs = rs if (rs == rs and rs >= _SCALE_THRES) else 1.0
    else:
        ds = rs = 1.0
    xs = [float(v) / ds for v in u]
    ys = [float(v) / rs for v in y]
    # self-starter (method "1"): c, d from the range, (b, e) from a line fit
    lo, hi = min(ys), max(ys)
    span = 0.001 * (hi - lo)
    c0, d0 = lo - span, hi + span
    ty = np.array([r_log(_div(d0 - v, v - c0)) for v in ys])
    if model == "LL.4":
        tx = np.array([r_log(v) if (v > 0 and math.isfinite(v)) else _NAN for v in xs])
    else:
        tx = np.array(xs)
    icpt, slope = _lm_line(tx, ty)
    e0 = _exp(_div(-icpt, slope)) if model == "LL.4" else _div(-icpt, slope)
    start = [slope, c0, d0, e0]
    scale = [1.0, rs, rs, ds]
    free = [True, fixed[0] is None, fixed[1] is None, True]
    base = [0.0, 0.0, 0.0, 0.0]
    for k, fx in ((1, fixed[0]), (2, fixed[1])):
        if fx is not None:
            base[k] = float(fx) / scale[k]
    sv = [s for s, f in zip(start, free, strict=True) if f]
    if any(v != v for v in sv):  # NA start: `psVec[psVec < 1e-4] <- 1` is an R error
        msg = "NA start values"
        raise _DrcFailure(msg, "error")
    ps = [abs(v) if abs(v) >= 1e-4 else 1.0 for v in sv]  # Inf start: NaN at optim's start
    free_idx = [k for k in range(4) if free[k]]
    n_obs = len(xs)

    def objective(p: list[float]) -> float:
        par = list(base)
        for k, pk, sk in zip(free_idx, p, ps, strict=True):
            par[k] = pk * sk
        b, c, d, e = par
        sq = [0.0] * n_obs
        for i in range(n_obs):
            r = ys[i] - func(xs[i], b, c, d, e)
            sq[i] = r * r
        return r_sum(sq)

    p0 = [v / s for v, s in zip(sv, ps, strict=True)]
    p = _vmmin(objective, p0)
    par_opt = [pk * sk for pk, sk in zip(p, ps, strict=True)]
    if not _optimhess_finite(objective, par_opt, ps):
        msg = "non-finite finite-difference value (Hessian)"
        raise _DrcFailure(msg)
    # drm: coefficients = par * longScaleVec; FindModelPar puts the fixed values back as given
    res = [0.0, float(fixed[0] or 0.0), float(fixed[1] or 0.0), 0.0]
    for k, v in zip(free_idx, par_opt, strict=True):
        res[k] = v * scale[k]
    return np.array(res, dtype=float)


@dataclass(frozen=True)
class DrcFit:
    """A drc LL.4 (``model="LL.4"``) or L.4-on-log-dose fit, parameters (b, c, d, e).

    ``failed`` is True when both drm calls failed: SynergyFinder then stops with an R
    error (``predict`` on an unfitted object), so there is no SynergyFinder value.
    """

    model: Literal["LL.4", "L.4"]
    params: np.ndarray
    failed: bool = False
    log_base: float = math.e

    def _u(self, x: float) -> float:
        v = x if x != 0 else 1e-10
        if self.log_base == 10.0:
            return math.log10(v) if v > 0 else _NAN
        return r_log(v) if self.log_base == math.e else r_log(v) / math.log(self.log_base)

    def predict(self, dose: np.ndarray | float) -> np.ndarray:
        """Fitted values as drc's ``predict`` computes them (dose 0 -> 1e-10 for L.4)."""
        x = np.asarray(dose, dtype=float)
        b, c, d, e = (float(v) for v in self.params)
        if self.model == "LL.4":
            vals = [_ll4_value(float(v), b, c, d, e) for v in x.ravel()]
        else:
            vals = [_l4_value(self._u(float(v)), b, c, d, e) for v in x.ravel()]
        return np.array(vals, dtype=float).reshape(x.shape)

    def inverse(self, y: np.ndarray | float) -> np.ndarray:
        """Dose giving effect ``y`` as SynergyFinder's ``.SolveExpDose`` (NaN outside)."""
        yy = np.asarray(y, dtype=float)
        b, c, d, e = (float(v) for v in self.params)
        out = []
        for v in yy.ravel():
            v = float(v)
            if self.model == "LL.4":  # e * (((y - d)/(c - y))^(1/b))
                out.append(e * r_pow(_div(v - d, c - v), _div(1.0, b)))
            else:  # exp(e + log((d - y)/(y - c))/b)
                z = e + _div(r_log(_div(d - v, v - c)), b)
                out.append(_exp(z) if self.log_base == math.e else r_pow(self.log_base, z))
        return np.array(out, dtype=float).reshape(yy.shape)

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
    caller: Literal["FitDoseResponse", "CalculateRI"] = "FitDoseResponse",
) -> DrcFit:
    """SynergyFinder's LL.4 fit with its L.4-on-log-dose fallback.

    Parameters
    ----------
    dose, response
        One curve in SynergyFinder's row order (dose 0 allowed); NaNs are dropped
        (``na.omit``). If all responses are equal, 1e-10 is added to the last one.
    emin, emax
        Fixed lower (c) / upper (d) asymptote, or None (free).
    log_base
        Base of the log-dose axis of the L.4 fallback (e; 10 in ``CalculateRI``).
    caller
        ``"FitDoseResponse"`` falls back to L.4 when drm raises an error or returns an
        unfitted object; ``"CalculateRI"`` only on an error (an unfitted LL.4 leaves
        SynergyFinder without coefficients: ``failed``).
    """
    x = np.asarray(dose, dtype=float)
    y = np.asarray(response, dtype=float).copy()
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    if y.size > 1 and np.all(y == y[0]):  # var(response) == 0
        y[-1] = y[-1] + 1e-10
    failed = DrcFit("L.4", np.full(4, np.nan), failed=True, log_base=log_base)
    try:
        return DrcFit("LL.4", _drm(x, y, (emin, emax), model="LL.4"))
    except _DrcFailure as exc:
        if caller == "CalculateRI" and exc.kind == "unfitted":
            return failed
    log_fn = math.log10 if log_base == 10.0 else r_log
    u = np.array([log_fn(v if v != 0 else 1e-10) if v >= 0 else _NAN for v in x])
    try:
        return DrcFit("L.4", _drm(u, y, (emin, emax), model="L.4"), log_base=log_base)
    except _DrcFailure:
        return failed
