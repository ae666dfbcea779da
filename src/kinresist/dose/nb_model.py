"""Compiled (numba) per-curve pieces of the log-dose models: the model function and
its Jacobian, the drc-style self-start, the variable-projection start grid and the
divergence limits. Internal module of the numba backend (:mod:`kinresist.dose.nb_fit`).

Every function here is a scalar transcription of the NumPy code in
:mod:`kinresist.dose.log_dose_models` (same formulas, same operation order where it
matters, NaN propagation as ``np.maximum``/``np.minimum``), so that both backends reach
the same optimum. Model ids: 0 LL.4, 1 LL.5, 2 W1.4, 3 W2.4. Parameter vector
``p = (b, c, d, e, f)`` (``f`` unused except by LL.5).

Developers: numba's on-disk cache (``cache=True``) is keyed on the source file of the
compiled entry point (:mod:`kinresist.dose.nb_fit`) only; after editing this module or
:mod:`kinresist.dose.nb_cov` in a source checkout, delete ``src/kinresist/dose/__pycache__/*.nbi`` and ``*.nbc`` (installed
packages are unaffected: a reinstall rewrites both files).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

__all__ = ["LL4_ID", "LL5_ID", "W14_ID", "W24_ID"]

LL4_ID, LL5_ID, W14_ID, W24_ID = 0, 1, 2, 3
_INF = np.inf


@njit(cache=True, error_model="numpy", inline="always")
def nmax(a: float, b: float) -> float:
    """``np.maximum`` semantics (NaN propagates)."""
    if a != a or b != b:
        return np.nan
    return a if a >= b else b


@njit(cache=True, error_model="numpy", inline="always")
def nmin(a: float, b: float) -> float:
    """``np.minimum`` semantics (NaN propagates)."""
    if a != a or b != b:
        return np.nan
    return a if a <= b else b


@njit(cache=True, error_model="numpy", inline="always")
def ninf_u(b: float) -> float:
    """``-sign(b)·inf``: u at dose 0 (NaN for b = 0 or NaN, as NumPy)."""
    if b > 0:
        return -_INF
    if b < 0:
        return _INF
    return np.nan


@njit(cache=True, error_model="numpy", inline="always")
def logaddexp0(u: float) -> float:
    """``np.logaddexp(0, u)`` (NumPy's branch structure)."""
    if u == 0.0:
        return math.log(2.0)
    tmp = -u
    if tmp > 0:
        return math.log1p(math.exp(-tmp))
    if tmp <= 0:
        return u + math.log1p(math.exp(tmp))
    return tmp


@njit(cache=True, error_model="numpy", inline="always")
def hfun(model: int, u: float, f: float) -> float:
    if model == 0:
        return 1.0 / (1.0 + math.exp(u))
    if model == 1:
        return math.exp(-f * logaddexp0(u))
    if model == 2:
        return math.exp(-math.exp(nmin(u, 700.0)))
    return -math.expm1(-math.exp(nmin(u, 700.0)))


@njit(cache=True, error_model="numpy", inline="always")
def jac_point(
    model: int, posi: bool, lxi: float, p: np.ndarray, le: float, out: np.ndarray
) -> None:
    """Natural-parameter Jacobian at one dose (``out[0..4]`` = d/db, dc, dd, de, df)."""
    b, c, d, e, f = p[0], p[1], p[2], p[3], p[4]
    if posi:
        dl = lxi - le
        u = b * dl
    else:
        dl = 0.0
        u = ninf_u(b)
    span = d - c
    if model == 0:
        s = 1.0 / (1.0 + math.exp(u))
        du = -span * (s * (1.0 - s))
        out[0] = du * dl
        out[1] = 1.0 - s
        out[2] = s
        out[3] = du * (-b / e)
        return
    h = hfun(model, u, f)
    finite = math.isfinite(u)
    if model == 1:
        expit = 1.0 / (1.0 + math.exp(-u))
        dh = -f * h * expit
    elif model == 2:
        eu = math.exp(nmin(u, 700.0))
        dh = -eu * math.exp(-eu)
    else:
        eu = math.exp(nmin(u, 700.0))
        dh = eu * math.exp(-eu)
    du = span * dh if finite else 0.0
    out[0] = du * dl
    out[1] = 1.0 - h
    out[2] = h
    out[3] = -du * b / e
    if model == 1:
        if finite:
            lq = logaddexp0(u)
        elif u > 0:
            lq = _INF
        else:
            lq = 0.0
        out[4] = -span * h * lq if math.isfinite(lq) else 0.0


@njit(cache=True, error_model="numpy")
def _psum_big(a: np.ndarray, n: int) -> float:
    """Pairwise summation for n > 128 (NumPy's recursive split)."""
    if n <= 128:
        return psum(a, n)
    n2 = (n // 2) - ((n // 2) % 8)
    return _psum_big(a[:n2], n2) + _psum_big(a[n2:], n - n2)


@njit(cache=True, error_model="numpy", inline="always")
def psum(a: np.ndarray, n: int) -> float:
    """NumPy's pairwise summation of ``a[:n]`` (``.sum`` along a contiguous axis)."""
    if n < 8:
        s = 0.0
        for i in range(n):
            s += a[i]
        return s
    if n > 128:
        return _psum_big(a, n)
    r0, r1, r2, r3 = a[0], a[1], a[2], a[3]
    r4, r5, r6, r7 = a[4], a[5], a[6], a[7]
    i = 8
    while i < n - (n % 8):
        r0 += a[i]
        r1 += a[i + 1]
        r2 += a[i + 2]
        r3 += a[i + 3]
        r4 += a[i + 4]
        r5 += a[i + 5]
        r6 += a[i + 6]
        r7 += a[i + 7]
        i += 8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < n:
        res += a[i]
        i += 1
    return res


@njit(cache=True, error_model="numpy")
def log_range(x: np.ndarray, w: np.ndarray, lx: np.ndarray, m: int) -> tuple[float, float]:
    """Lowest and highest log dose among observed positive doses (0 if none)."""
    lmin, lmax = _INF, -_INF
    for i in range(m):
        if w[i] > 0 and x[i] > 0:
            v = lx[i]
            lmin = min(lmin, v)
            lmax = max(lmax, v)
    if not math.isfinite(lmin):
        lmin = 0.0
    if not math.isfinite(lmax):
        lmax = 0.0
    return lmin, lmax


@njit(cache=True, error_model="numpy")
def self_start(
    model: int,
    x: np.ndarray,
    lx: np.ndarray,
    y: np.ndarray,
    w: np.ndarray,
    m: int,
    tmp: np.ndarray,
    out: np.ndarray,
) -> None:
    """drc-style self-start (``LogDoseModel.self_start``): out = (b, c, d, e, f=1)."""
    ymin, ymax = _INF, -_INF
    for i in range(m):
        if w[i] > 0:
            ymin = min(ymin, y[i])
            ymax = max(ymax, y[i])
    rng = nmax(ymax - ymin, 1e-12 * nmax(abs(ymax), 1.0))
    npos = 0
    t_lx = tmp[0]
    t_y = tmp[1]
    for i in range(m):
        pos = w[i] > 0 and x[i] > 0
        npos += 1 if pos else 0
        t_lx[i] = lx[i] if pos else 0.0
        t_y[i] = y[i] if pos else 0.0
    den = float(max(npos, 1))
    mlx = psum(t_lx, m) / den
    my = psum(t_y, m) / den
    t_c = tmp[2]
    for i in range(m):
        pos = w[i] > 0 and x[i] > 0
        t_c[i] = (t_lx[i] - mlx) * (t_y[i] - my) if pos else 0.0
    decreasing = psum(t_c, m) <= 0
    pad = 0.05 * rng
    top = ymax + pad
    bottom = ymin - pad
    fill = 0.5 * (top + bottom)
    t_lin = tmp[3]
    for i in range(m):
        yi = y[i] if w[i] > 0 else fill
        z = (yi - bottom) / (top - bottom)
        z = min(max(z, 1e-3), 1 - 1e-3) if z == z else z
        if model == 2:
            t_lin[i] = math.log(-math.log(z))
        elif model == 3:
            t_lin[i] = math.log(-math.log(1.0 - z))
        else:
            t_lin[i] = math.log((1.0 - z) / z)
    # weighted (0/1) regression of lin on log dose over the positive doses
    for i in range(m):
        t_c[i] = (1.0 if (w[i] > 0 and x[i] > 0) else 0.0) * t_lx[i]
    sw = float(npos)
    mx = psum(t_c, m) / max(sw, 1.0)
    for i in range(m):
        t_c[i] = (1.0 if (w[i] > 0 and x[i] > 0) else 0.0) * t_lin[i]
    ml = psum(t_c, m) / max(sw, 1.0)
    for i in range(m):
        wt = 1.0 if (w[i] > 0 and x[i] > 0) else 0.0
        t_c[i] = wt * (t_lx[i] - mx) ** 2
        t_y[i] = wt * (t_lx[i] - mx) * (t_lin[i] - ml)
    sxx = psum(t_c, m)
    sxl = psum(t_y, m)
    slope = sxl / sxx
    sign = (1.0 if decreasing else -1.0) * (-1.0 if model == 3 else 1.0)
    if not (math.isfinite(slope) and abs(slope) > 1e-2):
        slope = sign
    slope = min(max(slope, -20.0), 20.0)
    loge = mx - ml / slope
    lmin, lmax = log_range(x, w, lx, m)
    if not math.isfinite(loge):
        loge = 0.5 * (lmin + lmax)
    loge = min(max(loge, lmin - 1), lmax + 1)
    out[0] = slope
    out[1] = bottom
    out[2] = top
    out[3] = math.exp(loge)
    out[4] = 1.0


@njit(cache=True, error_model="numpy")
def refine_start(
    model: int,
    x: np.ndarray,
    lx: np.ndarray,
    y: np.ndarray,
    w: np.ndarray,
    m: int,
    start: np.ndarray,
    fixmask: np.ndarray,
    fixrow: np.ndarray,
    fracs: np.ndarray,
    slopes: np.ndarray,
    hs: np.ndarray,
) -> None:
    """Variable-projection start grid (``LogDoseModel.refine_start``), in place on ``start``.

    ``hs`` is (len(slopes), m) scratch. For LL.4 with the default slopes (0.5, 1, 2, 4)
    the logistic terms reuse exp(u) across slopes: u scales exactly with the slope
    multiplier (a power of 2), and exp(2u) is taken as exp(u)², exp(4u) as exp(u)⁴ (a
    few ulp from the direct exponential; same grid, same selection rule)."""
    if fixmask[0] or fixmask[3]:
        return
    lmin, lmax = log_range(x, w, lx, m)
    b0 = start[0]
    f = fixrow[4] if fixmask[4] else start[4]
    c_fixed, d_fixed = fixmask[1], fixmask[2]
    cf, df_ = fixrow[1], fixrow[2]
    syy = 0.0
    sw_ = 0.0
    swy = 0.0
    for i in range(m):
        wy = w[i] * y[i]
        syy += wy * y[i]
        sw_ += w[i]
        swy += wy
    best_rss = _INF
    le0 = math.log(start[3])
    pow_grid = model == 0 and slopes.size == 4
    if pow_grid:
        pow_grid = slopes[0] == 0.5 and slopes[1] == 1.0 and slopes[2] == 2.0 and slopes[3] == 4.0
    for fi in range(fracs.size + 1):
        le = le0 if fi == 0 else lmin + fracs[fi - 1] * (lmax - lmin)
        ns = slopes.size
        if pow_grid:
            u0 = ninf_u(b0)
            for i in range(m):
                u1 = b0 * (lx[i] - le) if x[i] > 0 else u0
                e1 = math.exp(u1)
                e2 = e1 * e1
                hs[0, i] = 1.0 / (1.0 + math.exp(0.5 * u1))
                hs[1, i] = 1.0 / (1.0 + e1)
                hs[2, i] = 1.0 / (1.0 + e2)
                hs[3, i] = 1.0 / (1.0 + e2 * e2)
        else:
            for j in range(ns):
                b = b0 * slopes[j]
                u0 = ninf_u(b)
                for i in range(m):
                    u = b * (lx[i] - le) if x[i] > 0 else u0
                    hs[j, i] = hfun(model, u, f)
        for j in range(ns):
            b = b0 * slopes[j]
            sh = 0.0
            shh = 0.0
            shy = 0.0
            for i in range(m):
                hv = hs[j, i]
                wh = w[i] * hv
                sh += wh
                shh += wh * hv
                shy += wh * y[i]
            sgh = sh - shh
            sgg = sw_ - 2 * sh + shh
            sgy = swy - shy
            if not c_fixed and not d_fixed:
                det = sgg * shh - sgh * sgh
                c = (shh * sgy - sgh * shy) / det
                d = (sgg * shy - sgh * sgy) / det
            elif c_fixed and not d_fixed:
                c = cf
                d = (shy - c * sgh) / shh
            elif d_fixed and not c_fixed:
                d = df_
                c = (sgy - d * sgh) / sgg
            else:
                c, d = cf, df_
            rss = syy - 2 * (c * sgy + d * shy) + c * c * sgg + 2 * c * d * sgh + d * d * shh
            if math.isfinite(rss) and math.isfinite(c) and math.isfinite(d) and rss < best_rss:
                best_rss = rss
                start[0] = b
                start[3] = math.exp(le)
                if not c_fixed:
                    start[1] = c
                if not d_fixed:
                    start[2] = d


@njit(cache=True, error_model="numpy")
def divergence_bounds(
    x: np.ndarray,
    lx: np.ndarray,
    w: np.ndarray,
    m: int,
    srt: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
) -> None:
    """Natural-scale limits (``LogDoseModel.divergence_bounds``) for b, e and f."""
    lmin, lmax = log_range(x, w, lx, m)
    decades = 2.0 * math.log(10.0)
    npos = 0
    for i in range(m):
        if w[i] > 0 and x[i] > 0:
            srt[npos] = lx[i]
            npos += 1
    srt[:npos].sort()
    spacing = _INF
    for i in range(npos - 1):
        g = srt[i + 1] - srt[i]
        if math.isfinite(g) and g > 1e-9:
            spacing = min(spacing, g)
    bmax = 12.0 / spacing if math.isfinite(spacing) else 1e3
    lo[0], hi[0] = -bmax, bmax
    lo[1], hi[1] = -_INF, _INF
    lo[2], hi[2] = -_INF, _INF
    lo[3], hi[3] = math.exp(lmin - decades), math.exp(lmax + decades)
    lo[4], hi[4] = 1e-4, 1e4
