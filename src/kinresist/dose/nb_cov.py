"""Compiled (numba) covariance of one fitted curve: ``jtj`` (s²(JᵀWJ)⁻¹) or ``hessian``
(2s²H⁻¹, H the Hessian of the RSS in the natural parameters by central differences of the
analytic Jacobian, as drc ``vcov``), with the ill-conditioning test of
:func:`kinresist.dose.covariance.covariance` (scaled matrix not positive definite, or
smallest/largest eigenvalue < 1e-10). Internal module of :mod:`kinresist.dose.nb_fit`.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from kinresist.dose.nb_model import hfun, jac_point, ninf_u, nmax

__all__ = ["covariance_one"]


@njit(cache=True, error_model="numpy")
def _eig_minmax(a, k, b):  # type: ignore[no-untyped-def]
    """Smallest and largest eigenvalue of a small symmetric matrix (cyclic Jacobi;
    ``b`` is (k, k) scratch)."""
    for i in range(k):
        for j in range(k):
            b[i, j] = a[i, j]
    for _sweep in range(100):
        off = 0.0
        tot = 0.0
        for i in range(k):
            tot += b[i, i] * b[i, i]
            for j in range(i + 1, k):
                off += b[i, j] * b[i, j]
        if off <= 1e-36 * tot or off == 0.0:
            break
        for pp in range(k - 1):
            for qq in range(pp + 1, k):
                apq = b[pp, qq]
                if apq == 0.0:
                    continue
                theta = (b[qq, qq] - b[pp, pp]) / (2.0 * apq)
                t = 1.0 / (abs(theta) + math.sqrt(theta * theta + 1.0))
                if theta < 0:
                    t = -t
                c = 1.0 / math.sqrt(t * t + 1.0)
                s = t * c
                b[pp, pp] -= t * apq
                b[qq, qq] += t * apq
                b[pp, qq] = 0.0
                b[qq, pp] = 0.0
                for r in range(k):
                    if r != pp and r != qq:
                        brp = b[r, pp]
                        brq = b[r, qq]
                        b[r, pp] = c * brp - s * brq
                        b[pp, r] = b[r, pp]
                        b[r, qq] = s * brp + c * brq
                        b[qq, r] = b[r, qq]
    lo = b[0, 0]
    hi = b[0, 0]
    for i in range(1, k):
        lo = min(lo, b[i, i])
        hi = max(hi, b[i, i])
    return lo, hi


@njit(cache=True, error_model="numpy")
def _inverse(a, k, out, w):  # type: ignore[no-untyped-def]
    """Gauss-Jordan inverse with partial pivoting (``w`` is (k, 2k) scratch)."""
    for i in range(k):
        for j in range(k):
            w[i, j] = a[i, j]
            w[i, k + j] = 1.0 if i == j else 0.0
    for col in range(k):
        piv = col
        for r in range(col + 1, k):
            if abs(w[r, col]) > abs(w[piv, col]):
                piv = r
        if piv != col:
            for j in range(2 * k):
                w[col, j], w[piv, j] = w[piv, j], w[col, j]
        d = w[col, col]
        for j in range(2 * k):
            w[col, j] /= d
        for r in range(k):
            if r != col:
                fac = w[r, col]
                if fac != 0.0:
                    for j in range(2 * k):
                        w[r, j] -= fac * w[col, j]
    for i in range(k):
        for j in range(k):
            out[i, j] = w[i, k + j]


@njit(cache=True, error_model="numpy")
def _spd_inverse(a, k, low, inv):  # type: ignore[no-untyped-def]
    """Inverse of a symmetric positive-definite matrix by Cholesky; False if not PD."""
    for j in range(k):
        acc = a[j, j]
        for q in range(j):
            acc -= low[j, q] * low[j, q]
        if not acc > 0:
            return False
        ljj = math.sqrt(acc)
        low[j, j] = ljj
        for i in range(j + 1, k):
            acc2 = a[i, j]
            for q in range(j):
                acc2 -= low[i, q] * low[j, q]
            low[i, j] = acc2 / ljj
    # inv = L⁻ᵀ L⁻¹: invert L in place (lower triangle of inv), then multiply
    for i in range(k):
        inv[i, i] = 1.0 / low[i, i]
        for j in range(i):
            acc = 0.0
            for q in range(j, i):
                acc -= low[i, q] * inv[q, j]
            inv[i, j] = acc / low[i, i]
    for i in range(k):
        for j in range(i + 1):
            acc = 0.0
            for q in range(i, k):
                acc += inv[q, i] * inv[q, j]
            low[i, j] = acc
    for i in range(k):
        for j in range(i + 1):
            inv[i, j] = low[i, j]
            inv[j, i] = low[i, j]
    return True


@njit(cache=True, error_model="numpy")
def covariance_one(model, x, lx, y, w, m, p, free_idx, hessian, s2, ws, cs, cov):  # type: ignore[no-untyped-def]
    """covariance.covariance for one curve: fills ``cov`` (k, k), returns ill-conditioned.
    ``ws``: >= 4 rows of >= max(m, 5); ``cs``: (6, k, 2k) scratch."""
    k = free_idx.size
    jp, jq, pp, d = ws[0], ws[1], ws[2], ws[3]
    a, hc, sc, inv, eb, gj = cs[0], cs[1], cs[2], cs[3], cs[4], cs[5]
    for i in range(k):
        for j in range(k):
            a[i, j] = 0.0
            hc[i, j] = 0.0
            cov[i, j] = np.nan
    le = math.log(p[3])
    for t in range(m):
        jac_point(model, x[t] > 0, lx[t], p, le, jp)
        for i in range(k):
            wi = w[t] * jp[free_idx[i]]
            for j in range(i + 1):
                a[i, j] += wi * jp[free_idx[j]]
    for i in range(k):
        for j in range(i):
            a[j, i] = a[i, j]
    if hessian:
        u0 = ninf_u(p[0])
        span = p[2] - p[1]
        for r in range(5):
            pp[r] = p[r]
        for j in range(k):
            q = free_idx[j]
            h = 1e-5 * nmax(abs(p[q]), 1e-3)
            for t in range(m):
                u = p[0] * (lx[t] - le) if x[t] > 0 else u0
                wr = w[t] * (y[t] - (p[1] + span * hfun(model, u, p[4])))
                pp[q] = p[q] + h
                jac_point(model, x[t] > 0, lx[t], pp, math.log(pp[3]), jp)
                pp[q] = p[q] - h
                jac_point(model, x[t] > 0, lx[t], pp, math.log(pp[3]), jq)
                pp[q] = p[q]
                for i in range(k):
                    qi = free_idx[i]
                    hc[i, j] += wr * ((jp[qi] - jq[qi]) / (2 * h))
        for i in range(k):
            for j in range(i + 1):
                v = 0.5 * (hc[i, j] + hc[j, i])
                a[i, j] = a[i, j] - v
                if i != j:
                    a[j, i] = a[j, i] - v
    for i in range(k):
        for j in range(k):
            if not math.isfinite(a[i, j]):
                return True
    for i in range(k):
        d[i] = math.sqrt(abs(a[i, i]))
        if not d[i] > 0:
            d[i] = 1.0
    for i in range(k):
        for j in range(k):
            sc[i, j] = a[i, j] / d[i] / d[j]
    # ill-conditioning test of covariance.covariance: smallest eigenvalue <= 0 or
    # < 1e-10 x the largest. With a Cholesky inverse S⁻¹ the eigenvalue ratio lies in
    # [1/(tr S·tr S⁻¹), k²/(tr S·tr S⁻¹)]; only when that bracket straddles 1e-10 (or
    # the factorisation fails) are the eigenvalues computed (cyclic Jacobi).
    if _spd_inverse(sc, k, eb, inv):
        tr_s = 0.0
        tr_i = 0.0
        for i in range(k):
            tr_s += sc[i, i]
            tr_i += inv[i, i]
        r_lo = 1.0 / (tr_s * tr_i)
        r_hi = k * k / (tr_s * tr_i)
        if r_hi < 1e-10 * (1 - 1e-6):
            return True
        if not r_lo > 1e-10 * (1 + 1e-6):
            lo, hi = _eig_minmax(sc, k, eb)
            if lo <= 0 or lo < 1e-10 * hi:
                return True
    else:
        lo, hi = _eig_minmax(sc, k, eb)
        if lo <= 0 or lo < 1e-10 * hi:
            return True
        _inverse(sc, k, inv, gj)
    for i in range(k):
        for j in range(k):
            cov[i, j] = inv[i, j] / d[i] / d[j] * s2
    return False
