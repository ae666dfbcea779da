"""Compiled (numba) batch fit of the log-dose models: one curve per loop iteration,
curves in parallel (``prange`` over blocks of curves; each curve's result depends on
its own data only, so the output is deterministic and independent of the thread count).

Per curve: self-start, variable-projection start grid, (multi-start) Levenberg-Marquardt
with the engine's damping, convergence tests and divergence limits, start selection and
the covariance (``jtj`` or ``hessian``) with the ill-conditioning test. It is a scalar
transcription of :mod:`kinresist.dose.lm`, :mod:`kinresist.dose.covariance` and
:meth:`kinresist.dose.engine._fit_chunk`; the flags are set by the shared NumPy code.
Internal module: :func:`kinresist.dose.engine.fit_batch` (``backend="numba"``) is the API.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from kinresist.dose.lm import FTOL, GTOL, XTOL
from kinresist.dose.nb_cov import covariance_one
from kinresist.dose.nb_model import (
    divergence_bounds,
    log_range,
    logaddexp0,
    ninf_u,
    nmax,
    nmin,
    refine_start,
    self_start,
)

__all__ = ["fit_curves"]

_BLOCK = 128


@njit(cache=True, error_model="numpy", inline="always")
def _fmax(a: float, b: float) -> float:
    """``np.fmax`` (NaN ignored unless both are NaN)."""
    if a != a:
        return b
    if b != b:
        return a
    return a if a >= b else b


@njit(cache=True, error_model="numpy", inline="always")
def _natural(theta, free_idx, logmask, fixrow, p):  # type: ignore[no-untyped-def]
    for j in range(5):
        p[j] = fixrow[j]
    for i in range(free_idx.size):
        q = free_idx[i]
        p[q] = math.exp(theta[i]) if logmask[q] else theta[i]


@njit(cache=True, error_model="numpy", inline="always")
def _residual(model, x, lx, y, sw, m, p, res, cu, ch, cx):  # type: ignore[no-untyped-def]
    """Weighted residuals and RSS (inf if not finite); caches u, h and exp(u) / log(1+e^u)
    per point for the Jacobian at the same parameters (bit-identical to recomputing)."""
    b, c, d, f = p[0], p[1], p[2], p[4]
    le = math.log(p[3])
    u0 = ninf_u(b)
    span = d - c
    s = 0.0
    for i in range(m):
        u = b * (lx[i] - le) if x[i] > 0 else u0
        if model == 0:
            h = 1.0 / (1.0 + math.exp(u))
            ex = 0.0
        elif model == 1:
            ex = logaddexp0(u)
            h = math.exp(-f * ex)
        elif model == 2:
            ex = math.exp(nmin(u, 700.0))
            h = math.exp(-ex)
        else:
            ex = math.exp(nmin(u, 700.0))
            h = -math.expm1(-ex)
        cu[i] = u
        ch[i] = h
        cx[i] = ex
        r = sw[i] * (y[i] - (c + span * h))
        res[i] = r
        s += r * r
    return s if math.isfinite(s) else np.inf


@njit(cache=True, error_model="numpy", inline="always")
def _normal_eq(model, x, lx, sw, m, p, free_idx, logmask, cu, ch, cx, res, a, g, jv, full4):  # type: ignore[no-untyped-def]
    """JᵀJ (``a``) and Jᵀr (``g``) of the weighted internal-parameter Jacobian, from the
    residual's per-point cache (same expressions as
    :func:`kinresist.dose.nb_model.jac_point`; every sum runs over the points in order,
    as the NumPy path's reductions)."""
    b, c, d, e, f = p[0], p[1], p[2], p[3], p[4]
    le = math.log(e)
    span = d - c
    k = free_idx.size
    j0 = j1 = j2 = j3 = j4 = 0.0
    a00 = a10 = a11 = a20 = a21 = a22 = a30 = a31 = a32 = a33 = 0.0
    g0 = g1 = g2 = g3 = 0.0
    for i in range(k):
        g[i] = 0.0
        for j in range(k):
            a[i, j] = 0.0
    for i in range(m):
        dl = lx[i] - le if x[i] > 0 else 0.0
        u = cu[i]
        h = ch[i]
        if model == 0:
            du = -span * (h * (1.0 - h))
            j0 = du * dl
            j1 = 1.0 - h
            j2 = h
            j3 = du * (-b / e)
        else:
            finite = math.isfinite(u)
            if model == 1:
                dh = -f * h * (1.0 / (1.0 + math.exp(-u)))
            elif model == 2:
                dh = -cx[i] * h
            else:
                dh = cx[i] * math.exp(-cx[i])
            du = span * dh if finite else 0.0
            j0 = du * dl
            j1 = 1.0 - h
            j2 = h
            j3 = -du * b / e
            if model == 1:
                if finite:
                    lq = cx[i]
                elif u > 0:
                    lq = np.inf
                else:
                    lq = 0.0
                j4 = -span * h * lq if math.isfinite(lq) else 0.0
        if full4:  # b, c, d, log e free: the same products, summed in registers
            sv_ = sw[i]
            v0 = sv_ * j0
            v1 = sv_ * j1
            v2 = sv_ * j2
            v3 = sv_ * (j3 * e)
            ri = res[i]
            a00 += v0 * v0
            a10 += v1 * v0
            a11 += v1 * v1
            a20 += v2 * v0
            a21 += v2 * v1
            a22 += v2 * v2
            a30 += v3 * v0
            a31 += v3 * v1
            a32 += v3 * v2
            a33 += v3 * v3
            g0 += v0 * ri
            g1 += v1 * ri
            g2 += v2 * ri
            g3 += v3 * ri
            continue
        for q in range(k):
            idx = free_idx[q]
            if idx == 0:
                v = j0
            elif idx == 1:
                v = j1
            elif idx == 2:
                v = j2
            elif idx == 3:
                v = j3
            else:
                v = j4
            if logmask[idx]:
                v = v * p[idx]
            jv[q] = sw[i] * v
        ri = res[i]
        for q in range(k):
            vq = jv[q]
            for j in range(q + 1):
                a[q, j] += vq * jv[j]
            g[q] += vq * ri
    if full4:
        a[0, 0], a[1, 1], a[2, 2], a[3, 3] = a00, a11, a22, a33
        a[1, 0] = a[0, 1] = a10
        a[2, 0] = a[0, 2] = a20
        a[2, 1] = a[1, 2] = a21
        a[3, 0] = a[0, 3] = a30
        a[3, 1] = a[1, 3] = a31
        a[3, 2] = a[2, 3] = a32
        g[0], g[1], g[2], g[3] = g0, g1, g2, g3
        return
    for q in range(k):
        for j in range(q):
            a[j, q] = a[q, j]


@njit(cache=True, error_model="numpy")
def _lm(
    model, x, lx, y, sw, m, theta, free_idx, logmask, fixrow, lo, hi, max_iter, ws, sm, sv, full4
):  # type: ignore[no-untyped-def]
    """LM from ``theta`` (updated in place). Returns rss, converged, n_iter, at_limit.

    ``ws`` (>= 8 + k rows of >= m), ``sm`` (3, k, k), ``sv`` (5, k): scratch."""
    k = free_idx.size
    p, res, cres = ws[0], ws[1], ws[2]
    cu, ch, cx = ws[3], ws[4], ws[5]
    nu_, nh, nx = ws[6], ws[7], ws[8]
    jv = ws[9]
    pn = ws[10]
    a, mm, low = sm[0], sm[1], sm[2]
    g, damp, z, step, cand = sv[0], sv[1], sv[2], sv[3], sv[4]
    _natural(theta, free_idx, logmask, fixrow, p)
    rss = _residual(model, x, lx, y, sw, m, p, res, cu, ch, cx)
    if not math.isfinite(rss):
        return np.inf, False, 0, False
    lam = 1e-3
    nu = 2.0
    it = 0
    while True:
        it += 1
        # p holds natural(theta): set initially and copied from pn on acceptance
        _normal_eq(model, x, lx, sw, m, p, free_idx, logmask, cu, ch, cx, res, a, g, jv, full4)
        cosang = abs(g[0]) / math.sqrt(a[0, 0] * rss)
        dmax = a[0, 0]
        for i in range(1, k):
            cosang = _fmax(cosang, abs(g[i]) / math.sqrt(a[i, i] * rss))
            dmax = _fmax(dmax, a[i, i])
        if cosang != cosang:
            cosang = 0.0
        elif cosang == np.inf:
            cosang = 1.7976931348623157e308
        gconv = (cosang <= GTOL) or (rss <= 1e-300)
        floor = 1e-12 * nmax(dmax, 1e-300)
        for i in range(k):
            damp[i] = lam * nmax(a[i, i], floor)
            for j in range(k):
                mm[i, j] = a[i, j] + damp[i] if i == j else a[i, j]
        # Cholesky solve of mm·step = g (as lm._chol_solve)
        bad = False
        for j in range(k):
            acc = mm[j, j]
            for q in range(j):
                acc -= low[j, q] * low[j, q]
            if not acc > 0:
                bad = True
            ljj = math.sqrt(acc if acc > 0 else 1.0)
            low[j, j] = ljj
            for i in range(j + 1, k):
                acc2 = mm[i, j]
                for q in range(j):
                    acc2 -= low[i, q] * low[j, q]
                low[i, j] = acc2 / ljj
        for i in range(k):
            acc = g[i]
            for q in range(i):
                acc -= low[i, q] * z[q]
            z[i] = acc / low[i, i]
        for i in range(k - 1, -1, -1):
            acc = z[i]
            for q in range(i + 1, k):
                acc -= low[q, i] * step[q]
            step[i] = acc / low[i, i]
        for i in range(k):
            if bad or not math.isfinite(step[i]):
                step[i] = 0.0
            cand[i] = theta[i] + step[i]
        _natural(cand, free_idx, logmask, fixrow, pn)
        new_rss = _residual(model, x, lx, y, sw, m, pn, cres, nu_, nh, nx)
        accept = new_rss < rss
        pred = step[0] * (g[0] + damp[0] * step[0])
        snorm = step[0] * step[0]
        for i in range(1, k):
            pred += step[i] * (g[i] + damp[i] * step[i])
            snorm += step[i] * step[i]
        rho = (rss - new_rss) / pred
        if not math.isfinite(rho):
            rho = 0.0
        old_rss = rss
        if accept:
            for i in range(k):
                theta[i] = cand[i]
            for t in range(5):
                p[t] = pn[t]
            for t in range(m):
                res[t] = cres[t]
                cu[t] = nu_[t]
                ch[t] = nh[t]
                cx[t] = nx[t]
            rss = new_rss
        tq = 2.0 * rho - 1.0
        shrink = max(1.0 / 3.0, 1.0 - tq * tq * tq)
        if accept:
            lam = max(lam * shrink, 1e-15)
            nu = 2.0
        else:
            lam = lam * nu
            nu = nu * 2.0
        decrease = old_rss - new_rss if accept else 0.0
        tnorm = 0.0
        for i in range(k):
            tnorm += theta[i] * theta[i]
        small_step = math.sqrt(snorm) <= XTOL * (math.sqrt(tnorm) + XTOL)
        small_f = decrease <= FTOL * old_rss
        done_ok = gconv or (accept and (small_step or small_f))
        stalled = (not accept) and lam > 1e14
        stall_ok = stalled and cosang <= 1e-6
        runaway = False
        for i in range(k):
            if theta[i] < lo[i] or theta[i] > hi[i]:
                runaway = True
        done_ok = done_ok and not runaway
        if done_ok or stalled or runaway or it >= max_iter:
            return rss, done_ok or stall_ok, it, runaway


@njit(cache=True, error_model="numpy", parallel=True)
def fit_curves(  # type: ignore[no-untyped-def]
    model, x, y, w, fixmask, fixvals, free_idx, logmask, fracs, slopes,
    multistart, max_iter, hessian,
    out_p, out_rss, out_conv, out_iter, out_lim, out_cov, out_ill,
):  # fmt: skip
    """Fit every curve (rows of x, y, w); results into the ``out_*`` arrays."""
    n, m = y.shape
    k = free_idx.size
    n_starts = 1
    if multistart:
        n_starts = 6 if model == 1 else 4
    full4 = k == 4 and not logmask[0] and not logmask[1] and not logmask[2] and logmask[3]
    if full4:
        for i in range(4):
            full4 = full4 and free_idx[i] == i
    n_blocks = (n + _BLOCK - 1) // _BLOCK
    for blk in prange(n_blocks):
        ws = np.empty((11, max(m, 5)))
        sm = np.empty((3, k, k))
        sv = np.empty((5, k))
        cs = np.empty((6, k, 2 * k))
        lx = np.empty(max(m, 1))
        hs = np.empty((slopes.size, max(m, 1)))
        sw = np.empty(max(m, 1))
        tmp = np.empty((4, max(m, 1)))
        starts = np.empty((n_starts, 5))
        thetas = np.empty((n_starts, k))
        rs = np.empty(n_starts)
        cv = np.zeros(n_starts, dtype=np.bool_)
        its = np.zeros(n_starts, dtype=np.int32)
        lims = np.zeros(n_starts, dtype=np.bool_)
        lo5 = np.empty(5)
        hi5 = np.empty(5)
        lo = np.empty(k)
        hi = np.empty(k)
        srt = np.empty(max(m, 1))
        for c in range(blk * _BLOCK, min(n, (blk + 1) * _BLOCK)):
            xc, yc, wc = x[c], y[c], w[c]
            fixrow = fixvals[c]
            for t in range(m):
                sw[t] = math.sqrt(wc[t])
            for t in range(m):
                lx[t] = math.log(xc[t]) if xc[t] > 0 else 0.0
            n_obs = 0
            for t in range(m):
                if wc[t] > 0:
                    n_obs += 1
            enough = n_obs >= max(k, 1)
            st = starts[0]
            self_start(model, xc, lx, yc, wc, m, tmp, st)
            refine_start(model, xc, lx, yc, wc, m, st, fixmask, fixrow, fracs, slopes, hs)
            if multistart:
                lmin, lmax = log_range(xc, wc, lx, m)
                alts = ((0.25, 0.5), (0.75, 2.0), (0.5, 1.0))
                for s in range(3):
                    starts[s + 1, :] = st
                    starts[s + 1, 3] = math.exp(lmin + alts[s][0] * (lmax - lmin))
                    starts[s + 1, 0] = st[0] * alts[s][1]
                if model == 1:
                    starts[4, :] = st
                    starts[4, 4] = 0.5
                    starts[5, :] = st
                    starts[5, 4] = 2.0
            divergence_bounds(xc, lx, wc, m, srt, lo5, hi5)
            for i in range(k):
                q = free_idx[i]
                if q == 0 or q == 3 or (q == 4 and model == 1):
                    lo[i] = math.log(lo5[q]) if logmask[q] else lo5[q]
                    hi[i] = math.log(hi5[q]) if logmask[q] else hi5[q]
                else:
                    lo[i] = -np.inf
                    hi[i] = np.inf
            for s in range(n_starts):
                for i in range(k):
                    q = free_idx[i]
                    v = starts[s, q]
                    thetas[s, i] = math.log(nmax(v, 1e-300)) if logmask[q] else v
                if enough:
                    r, ok, it, lim = _lm(
                        model, xc, lx, yc, sw, m, thetas[s], free_idx, logmask, fixrow, lo, hi,
                        max_iter, ws, sm, sv, full4,
                    )  # fmt: skip
                    rs[s], cv[s], its[s], lims[s] = r, ok, it, lim
                else:
                    thetas[s, :] = np.nan
                    rs[s], cv[s], its[s], lims[s] = np.inf, False, 0, False
            # best start: converged first, then lowest RSS (first on ties, as argmin)
            best = -1
            for s in range(n_starts):
                if cv[s] and (best < 0 or rs[s] < rs[best]):
                    best = s
            if best < 0:
                best = 0
                for s in range(1, n_starts):
                    if rs[s] < rs[best]:
                        best = s
            th = thetas[best]
            for i in range(k):
                v = th[i]
                if v != v:
                    th[i] = 1.0
                elif v == np.inf:
                    th[i] = 1.7976931348623157e308
                elif v == -np.inf:
                    th[i] = -1.7976931348623157e308
            p = out_p[c]
            _natural(th, free_idx, logmask, fixrow, p)
            rss = rs[best]
            out_rss[c] = rss
            out_conv[c] = cv[best] and enough
            out_iter[c] = its[best]
            out_lim[c] = lims[best]
            df = max(n_obs - k, 0)
            s2 = rss / max(df, 1) if df > 0 else np.nan
            out_ill[c] = covariance_one(
                model, xc, lx, yc, wc, m, p, free_idx, hessian, s2, ws, cs, out_cov[c]
            )
