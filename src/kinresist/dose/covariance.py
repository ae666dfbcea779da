"""Covariance of fitted curves, written once in the engine's dialect
(:mod:`kinresist.dose._dialect`): ``jtj`` (Gauss-Newton, s²(JᵀWJ)⁻¹) or ``hessian``
(observed information, 2s²H⁻¹ with H the Hessian of the RSS in the natural parameters,
as R drc ``vcov``; second derivatives by central differences of the analytic Jacobian),
and the ill-conditioning test that makes a fit ``non_identifiable``: the covariance
scaled to unit diagonal is not positive definite, or its smallest/largest eigenvalue is
< 1e-10. With the Cholesky inverse S⁻¹ the eigenvalue ratio lies in
[1/(tr S·tr S⁻¹), k²/(tr S·tr S⁻¹)]; only when that bracket straddles 1e-10 are the
eigenvalues computed. Internal module of the batch engine.
"""

from __future__ import annotations

import numpy as np

from kinresist.dose._dialect import any_true, dot, eig_minmax, full, gram, kernel, lnot, sel
from kinresist.dose.lm import natural

__all__ = ["covariance_curve", "finish_curve", "spd_inverse"]


@kernel
def spd_inverse(a, k, low, inv):  # type: ignore[no-untyped-def]
    """Inverse of a symmetric positive-definite k×k matrix by Cholesky into ``inv``;
    returns the positive-definite mask (``inv`` is meaningless where it is False)."""
    bad = full(a[0, 0], False)
    for j in range(k):
        acc = a[j, j]
        for q in range(j):
            acc = acc - low[j, q] * low[j, q]
        bad = bad | lnot(acc > 0)
        ljj = np.sqrt(sel(acc > 0, acc, 1.0))
        low[j, j] = ljj
        for i in range(j + 1, k):
            acc2 = a[i, j]
            for q in range(j):
                acc2 = acc2 - low[i, q] * low[j, q]
            low[i, j] = acc2 / ljj
    # L⁻¹ into the lower triangle of inv, then inv = L⁻ᵀL⁻¹
    for i in range(k):
        inv[i, i] = 1.0 / low[i, i]
        for j in range(i):
            acc = full(a[0, 0], 0.0)
            for q in range(j, i):
                acc = acc - low[i, q] * inv[q, j]
            inv[i, j] = acc / low[i, i]
    for i in range(k):
        for j in range(i + 1):
            acc = full(a[0, 0], 0.0)
            for q in range(i, k):
                acc = acc + inv[q, i] * inv[q, j]
            low[i, j] = acc
    for i in range(k):
        for j in range(i + 1):
            inv[i, j] = low[i, j]
            inv[j, i] = low[i, j]
    return lnot(bad)


@kernel
def covariance_curve(  # type: ignore[no-untyped-def]
    resid_fn, jac_fn, ctx, x, lx, y, sw, p, free_idx, hessian, s2,
    rows, r0, jac, jac2, pp, dvec, wm, cov,
):  # fmt: skip
    """Covariance (k×k, free parameters, natural scale) into ``cov``; returns the
    ill-conditioned mask (``cov`` NaN there). ``rows``, ``r0``, ``jac``, ``jac2`` (slots,
    points), ``pp``, ``dvec`` (k), ``wm`` (5, k, k): scratch."""
    k = free_idx.shape[0]
    a, hc, sc, inv, eb = wm[0], wm[1], wm[2], wm[3], wm[4]
    resid_fn(ctx, x, lx, y, sw, p, rows)
    jac_fn(ctx, x, lx, sw, p, rows, free_idx, jac)
    gram(jac, rows[0], free_idx, a, dvec)
    if hessian:
        for t in range(r0.shape[0]):
            r0[t] = rows[0, t]
        for j in range(k):
            q = free_idx[j]
            h = 1e-5 * np.maximum(np.abs(p[q]), 1e-3)
            for t in range(p.shape[0]):
                pp[t] = p[t]
            pp[q] = p[q] + h
            resid_fn(ctx, x, lx, y, sw, pp, rows)
            jac_fn(ctx, x, lx, sw, pp, rows, free_idx, jac2)
            for i in range(k):
                hc[i, j] = dot(r0, jac2[free_idx[i]])
            pp[q] = p[q] - h
            resid_fn(ctx, x, lx, y, sw, pp, rows)
            jac_fn(ctx, x, lx, sw, pp, rows, free_idx, jac2)
            for i in range(k):
                hc[i, j] = (hc[i, j] - dot(r0, jac2[free_idx[i]])) / (2.0 * h)
        for i in range(k):
            for j in range(i + 1):
                v = 0.5 * (hc[i, j] + hc[j, i])
                a[i, j] = a[i, j] - v
                if i != j:
                    a[j, i] = a[j, i] - v
    finite = full(s2, True)
    for i in range(k):
        for j in range(k):
            finite = finite & np.isfinite(a[i, j])
    for i in range(k):
        di = np.sqrt(np.abs(a[i, i]))
        dvec[i] = sel(di > 0, di, 1.0)
    for i in range(k):
        for j in range(k):
            sc[i, j] = sel(finite, a[i, j] / dvec[i] / dvec[j], 1.0 if i == j else 0.0)
    pd = spd_inverse(sc, k, eb, inv)
    tr_s = full(s2, 0.0)
    tr_i = full(s2, 0.0)
    for i in range(k):
        tr_s = tr_s + sc[i, i]
        tr_i = tr_i + inv[i, i]
    r_lo = 1.0 / (tr_s * tr_i)
    r_hi = k * k / (tr_s * tr_i)
    ill = lnot(finite) | lnot(pd) | (r_hi < 1e-10 * (1 - 1e-6))
    need = lnot(ill) & lnot(r_lo > 1e-10 * (1 + 1e-6))
    if any_true(need):
        e_lo, e_hi = eig_minmax(sc, k, eb)
        ill = ill | (need & ((e_lo <= 0) | (e_lo < 1e-10 * e_hi)))
    for i in range(k):
        for j in range(k):
            cov[i, j] = sel(ill, np.nan, inv[i, j] / dvec[i] / dvec[j] * s2)
    return ill


_MAXF = 1.7976931348623157e308


@kernel
def finish_curve(  # type: ignore[no-untyped-def]
    resid_fn, jac_fn, ctx, x, lx, y, sw, theta, rss, n_obs, free_idx, logmask, fixrow,
    hessian, p, rows, r0, jac, jac2, pp, dvec, wm, cov,
):  # fmt: skip
    """The reported parameters ``p`` (non-finite optimiser values made finite: NaN -> 1,
    ±inf -> ±max) and their covariance (s² = RSS/(n − k)); returns the ill-conditioned mask."""
    k = free_idx.shape[0]
    for q in range(k):
        v = theta[q]
        theta[q] = sel(v != v, 1.0, np.minimum(np.maximum(v, -_MAXF), _MAXF))
    natural(theta, free_idx, logmask, fixrow, p)
    df = n_obs - k
    s2 = sel(df > 0, rss / np.maximum(df, 1), np.nan)
    return covariance_curve(
        resid_fn, jac_fn, ctx, x, lx, y, sw, p, free_idx, hessian, s2,
        rows, r0, jac, jac2, pp, dvec, wm, cov,
    )  # fmt: skip
