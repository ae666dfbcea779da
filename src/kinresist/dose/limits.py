"""Limit curves: where the least-squares infimum of a log-dose model lies on the boundary
of the family, fitted exactly (engine dialect, :mod:`kinresist.dose._dialect`).

When LM runs a parameter away (the engine's divergence limits), the infimum is usually
not a finite point but a limit of the family:

* **step** (``|b| → ∞``): the curve becomes a step between two adjacent tested doses —
  two levels, the group means — or, with the EC50 pinned at a tested dose, three levels
  (that dose's replicates at any value strictly between the other two). Fixed bottom or
  top constrain the levels. The best step is found in closed form over every split
  point and every pinned dose.
* **power law** (``e → ∞`` or ``e → 0`` with ``b`` finite): over the tested doses the
  curve becomes ``α + β·x^γ`` (the exponential tail of ``h``), and ``α + β·log x`` as
  ``γ → 0`` as well; ``γ`` by a 1-D search (grid, then golden section), ``α`` and ``β``
  by linear least squares in the Box-Cox basis ``(x^γ − 1)/γ``. Only when bottom, top,
  slope and EC50 are all free.

Each limit is returned as a finite parameter vector that reproduces it at every tested
dose to rounding (a slope with ``|u| ≥ 100`` at the nearest other doses; for the power law
an EC50 with ``|u| = 30`` beyond the extreme dose, where the tail approximation is exact
to 1e-13 — less for γ near 0, where ``e`` must stay below e^700; the fitted values are
evaluated from the nearer asymptote, without cancellation), together with its exact RSS. The engine
reports such a fit as converged with the flags ``parameter_at_limit`` and (its covariance
being singular) ``non_identifiable``.
"""

from __future__ import annotations

import numpy as np

from kinresist.dose._dialect import any_true, dot, full, kernel, lnot, points, psum, sel, sort_by
from kinresist.dose.log_dose_models import fill_residual

__all__ = ["STEP_START_U", "power_check", "power_limit", "rescue_pick", "step_check", "step_limit"]

#: |u| of a step curve at the tested doses nearest to its jump (h = e^-100 there)
_STEP_U = 100.0
#: |u| next to the jump of the step-derived start of the fallback's second LM
STEP_START_U = 2.0
#: |u| of a power-law curve beyond the extreme tested dose
_TAIL_U = 30.0
_GOLD = 0.6180339887498949


@kernel
def _levels(lw, ly, lyy, hw, hy, hyy, l_is_d, fixmask, fixrow):  # type: ignore[no-untyped-def]
    """Least-squares values of a low-dose and a high-dose group (fixed asymptotes held)
    and their RSS; ``l_is_d``: the low-dose group is at the top asymptote."""
    vl = ly / lw
    vh = hy / hw
    if fixmask[2]:
        vl = sel(l_is_d, fixrow[2], vl)
        vh = sel(l_is_d, vh, fixrow[2])
    if fixmask[1]:
        vl = sel(l_is_d, vl, fixrow[1])
        vh = sel(l_is_d, fixrow[1], vh)
    return lyy - 2.0 * vl * ly + vl * vl * lw + hyy - 2.0 * vh * hy + vh * vh * hw, vl, vh


@kernel
def step_limit(shape, h_inv, x, lx, y, w, fixmask, fixrow, p, tp, tu0, out):  # type: ignore[no-untyped-def]
    """Best step curve of the data into ``out`` (b, c, d, e, f), its slope such that
    ``|u| = tu0`` at the doses next to the jump; returns the RSS of the step (inf if none).
    ``tp``: ≥ 7 point rows of scratch; ``p``: current parameters (asymmetry kept)."""
    m = x.shape[0]
    f = p[4]
    hlo = shape(-np.inf, 0.0, f)[0] > 0.5
    for i in points(m):
        tp[0, i] = sel(w[i] > 0, sel(x[i] > 0, lx[i], -np.inf), np.inf)
    sort_by(tp[0], y, w, tp[1], tp[2], tp[3])
    cw = full(f, 0.0)
    cy = full(f, 0.0)
    cyy = full(f, 0.0)
    sp = full(f, np.inf)
    for i in range(m):
        cw = cw + tp[3, i]
        cy = cy + tp[3, i] * tp[2, i]
        cyy = cyy + tp[3, i] * tp[2, i] * tp[2, i]
        tp[4, i] = cw
        tp[5, i] = cy
        tp[6, i] = cyy
        if i > 0:
            g = tp[1, i] - tp[1, i - 1]
            sp = sel(np.isfinite(g) & (g > 1e-9) & (g < sp), g, sp)
    sp = sel(np.isfinite(sp), sp, 2.0)
    best = full(f, np.inf)
    bvl = bvm = bvh = bk = bg = full(f, np.nan)
    bo = full(f, True)
    pin = full(f, False)
    pw = py = pyy = full(f, 0.0)
    pkey = full(f, -np.inf)
    has_prev = full(f, False)
    for i in range(m - 1):
        k0, k1 = tp[1, i], tp[1, i + 1]
        boundary = (k0 < k1) & np.isfinite(k1)
        lw, ly, lyy = tp[4, i], tp[5, i], tp[6, i]
        hw, hy, hyy = cw - lw, cy - ly, cyy - lyy
        for o in range(2):
            up = o == 0  # b > 0: the low doses sit at h(-inf)
            l_is_d = up == hlo
            # two levels split between k0 and k1
            rs, vl, vh = _levels(lw, ly, lyy, hw, hy, hyy, l_is_d, fixmask, fixrow)
            ok = boundary & (lw > 0) & (hw > 0) & (rs < best)
            gap = sel(np.isfinite(k0), k1 - k0, sp)
            best = sel(ok, rs, best)
            bvl, bvh, bvm = sel(ok, vl, bvl), sel(ok, vh, bvh), sel(ok, np.nan, bvm)
            bk, bg, bo, pin = (
                sel(ok, k1 - 0.5 * gap, bk),
                sel(ok, gap, bg),
                sel(ok, up, bo),
                sel(ok, False, pin),
            )
            # three levels: the dose level ending at i pinned between its neighbours
            mw, my, myy = lw - pw, ly - py, lyy - pyy
            rs3, vl3, vh3 = _levels(pw, py, pyy, hw, hy, hyy, l_is_d, fixmask, fixrow)
            vm = my / mw
            rs3 = rs3 + myy - 2.0 * vm * my + vm * vm * mw
            ok3 = boundary & has_prev & np.isfinite(k0) & (pw > 0) & (mw > 0) & (hw > 0)
            ok3 = ok3 & ((vm - vl3) * (vm - vh3) < 0) & (rs3 < best)
            gap3 = np.minimum(k0 - pkey, k1 - k0)
            best = sel(ok3, rs3, best)
            bvl, bvh, bvm = sel(ok3, vl3, bvl), sel(ok3, vh3, bvh), sel(ok3, vm, bvm)
            bk, bg, bo, pin = (
                sel(ok3, k0, bk),
                sel(ok3, gap3, bg),
                sel(ok3, up, bo),
                sel(ok3, True, pin),
            )
        pw, py, pyy = sel(boundary, lw, pw), sel(boundary, ly, py), sel(boundary, lyy, pyy)
        pkey = sel(boundary, k0, pkey)
        has_prev = has_prev | boundary
    l_is_d = bo == hlo
    d = sel(l_is_d, bvl, bvh)
    c = sel(l_is_d, bvh, bvl)
    sgn = sel(bo, 1.0, -1.0)
    tu = tu0 * np.maximum(1.0, 1.0 / f)
    kappa = sel(pin, h_inv((bvm - c) / (d - c), f), 0.0)
    b = sgn * (tu + np.abs(kappa)) / sel(pin, bg, 0.5 * bg)
    out[0] = b
    out[1] = c
    out[2] = d
    out[3] = np.exp(bk - kappa / b)
    out[4] = f
    return sel(np.isfinite(best) & np.isfinite(b) & np.isfinite(out[3]), best, np.inf)


@kernel
def _power_rss(x, lx, y, w, g, sy, syy, tp):  # type: ignore[no-untyped-def]
    """RSS of the least-squares α + β·(x^g − 1)/g (Box-Cox: α + β·log x at g = 0), with α, β."""
    small = np.abs(g) < 1e-12
    for i in points(x.shape[0]):
        t = sel(small, lx[i], np.expm1(g * lx[i]) / sel(small, 1.0, g))
        t = sel(x[i] > 0, t, sel(g > 0, -1.0 / sel(small, 1.0, g), np.inf))
        t = sel(w[i] > 0, t, 0.0)
        tp[0, i] = w[i] * t
        tp[1, i] = t
    sw = psum(w)
    st = psum(tp[0])
    stt = dot(tp[0], tp[1])
    sty = dot(tp[0], y)
    det = sw * stt - st * st
    alpha = (stt * sy - st * sty) / det
    beta = (sw * sty - st * sy) / det
    rss = syy - 2.0 * (alpha * sy + beta * sty) + alpha * alpha * sw
    rss = rss + 2.0 * alpha * beta * st + beta * beta * stt
    ok = np.isfinite(rss) & (det > 0)
    return sel(ok, np.maximum(rss, 0.0), np.inf), alpha, beta


@kernel
def power_limit(shape, tail, x, lx, y, w, p, lmin, lmax, tp, out):  # type: ignore[no-untyped-def]
    """Best power law α + β·x^γ (γ of the sign of the EC50's runaway, > 0 when it ran above
    the tested range, down to γ = 0: α + β·log x) into ``out`` as a far-EC50 curve; returns
    its RSS (inf if none) and whether ``out`` is only a start (γ too near 0 for a far-EC50
    curve within floating point: the LL piece matching the power law's slope and curvature
    at the middle of the range, from which LM continues). γ on a grid (0 and 13 values
    ×/÷ 8 around |b|), then golden section between the best point's neighbours."""
    for i in points(x.shape[0]):
        tp[0, i] = w[i] * y[i]
    sy = psum(tp[0])
    syy = dot(tp[0], y)
    sgn = sel(np.log(p[3]) > 0.5 * (lmin + lmax), 1.0, -1.0)
    g0 = sgn * np.minimum(np.maximum(np.abs(p[0]), 0.05), 20.0) / 8.0
    n_grid = 13
    ratio = np.exp(2.0 * np.log(8.0) / (n_grid - 1))
    best = _power_rss(x, lx, y, w, 0.0 * g0, sy, syy, tp)[0]
    blo = -g0
    bhi = g0
    prev = 0.0 * g0
    for j in range(n_grid):
        gj = g0 * ratio**j
        r = _power_rss(x, lx, y, w, gj, sy, syy, tp)[0]
        better = r < best
        best = sel(better, r, best)
        blo = sel(better, prev, blo)
        bhi = sel(better, gj * ratio, bhi)
        prev = gj
    a = blo
    c = bhi
    x1 = c - _GOLD * (c - a)
    x2 = a + _GOLD * (c - a)
    f1 = _power_rss(x, lx, y, w, x1, sy, syy, tp)[0]
    f2 = _power_rss(x, lx, y, w, x2, sy, syy, tp)[0]
    for _ in range(40):
        left = f1 < f2
        c = sel(left, x2, c)
        a = sel(left, a, x1)
        new = sel(left, c - _GOLD * (c - a), a + _GOLD * (c - a))
        fn = _power_rss(x, lx, y, w, new, sy, syy, tp)[0]
        x2, f2, x1, f1 = (
            sel(left, x1, new),
            sel(left, f1, fn),
            sel(left, new, x2),
            sel(left, fn, f2),
        )
    gam = sel(f1 < f2, x1, x2)
    rs, alpha, beta = _power_rss(x, lx, y, w, gam, sy, syy, tp)
    f = p[4]
    # a far-EC50 curve reaches the power law to e^-T (T = 30) while e stays below e^700
    lext = np.maximum(np.abs(lmin), np.abs(lmax))
    tail_ok = np.abs(gam) * (700.0 - lext) >= _TAIL_U
    hlo = shape(-np.inf, 0.0, f)[0] > 0.5
    gt = sel(tail_ok, gam, sgn)
    le = sel(gt > 0, lmax, lmin) + _TAIL_U / gt
    a0 = alpha - beta / gt
    span = (beta / gt) * np.exp(gt * le) / tail(f)
    # γ near 0: no far-EC50 curve, but a start for LM: the curve's piece around u0 = 1 whose
    # slope and curvature match the power law's at the middle of the tested range
    lc = 0.5 * (lmin + lmax)
    gq = sel(np.abs(gam) < 1e-4, sgn * 1e-4, gam)
    p1 = beta * np.exp(gq * lc)
    p0 = alpha + beta * np.expm1(gq * lc) / gq
    h0, _, h1, _ = shape(1.0, np.exp(1.0), f)
    h1p = shape(1.0 + 1e-4, np.exp(1.0 + 1e-4), f)[2]
    h1m = shape(1.0 - 1e-4, np.exp(1.0 - 1e-4), f)[2]
    bq = gq * h1 / ((h1p - h1m) / 2e-4)
    sq = p1 / (h1 * bq)
    out[0] = sel(tail_ok, gam, bq)
    out[1] = sel(tail_ok, sel(hlo, a0 - span, a0), p0 - sq * h0)
    out[2] = sel(tail_ok, sel(hlo, a0, a0 + span), p0 - sq * h0 + sq)
    out[3] = sel(tail_ok, np.exp(le), np.exp(lc - 1.0 / bq))
    out[4] = f
    ok = np.isfinite(rs) & np.isfinite(out[1]) & np.isfinite(out[2]) & np.isfinite(out[3])
    return sel(ok & lnot(out[3] <= 0), rs, np.inf), lnot(tail_ok)


@kernel
def step_check(shape, h_inv, x, lx, y, w, sw, fixmask, fixrow, p, tp, rows, out):  # type: ignore[no-untyped-def]
    """Exact RSS of the best step curve (inf when slope or EC50 is fixed), its finite
    representative into ``out``. A step below a converged fit's RSS shows that LM found a
    local optimum only: the fallback then looks further."""
    if fixmask[0] or fixmask[3]:
        return full(p[0], np.inf)
    r = step_limit(shape, h_inv, x, lx, y, w, fixmask, fixrow, p, tp, _STEP_U, out)
    exact = fill_residual(shape, x, lx, y, sw, out, rows)
    return sel(np.isfinite(r), exact, np.inf)


@kernel
def power_check(shape, tail, x, lx, y, w, sw, fixmask, p, lmin, lmax, tp, rows, out):  # type: ignore[no-untyped-def]
    """Exact RSS of the best power-law curve (into ``out``), tried when the EC50 of ``p``
    has left the tested range by more than a decade and b, c, d, e are all free (else inf),
    and whether ``out`` is only a start for LM (γ near 0: see :func:`power_limit`)."""
    le = np.log(p[3])
    away = (le > lmax + np.log(10.0)) | (le < lmin - np.log(10.0))
    if fixmask[0] or fixmask[1] or fixmask[2] or fixmask[3] or lnot(any_true(away)):
        return full(le, np.inf), full(le, False)
    r, start = power_limit(shape, tail, x, lx, y, w, p, lmin, lmax, tp, out)
    exact = fill_residual(shape, x, lx, y, sw, out, rows)
    return sel(np.isfinite(r) & away, exact, np.inf), start & away


@kernel
def rescue_pick(cands, crss, cconv, free_idx, logmask, lo, hi, theta):  # type: ignore[no-untyped-def]
    """Choose among the fallback's candidates (0: LM continued from where it stopped, 1: LM
    from the best step eased to a moderate slope, 2: the step limit, 3: the power-law
    limit; limits count as converged) into ``theta``: the lowest-RSS converged one, unless
    an unconverged one is lower by more than 1e-7 (then the fit stays unconverged).
    Returns (RSS, converged, at_limit): a limit curve is at the limit, as is a fit that
    ended beyond the divergence limits."""
    n_c = crss.shape[0]
    inf = full(crss[0], np.inf)
    ci = full(crss[0], -1)
    cr = inf
    ni = full(crss[0], -1)
    nr = inf
    for c in range(n_c):
        better_c = cconv[c] & (crss[c] < cr)
        ci = sel(better_c, c, ci)
        cr = sel(better_c, crss[c], cr)
        better_n = lnot(cconv[c]) & (crss[c] < nr)
        ni = sel(better_n, c, ni)
        nr = sel(better_n, crss[c], nr)
    use_n = (ci < 0) | (nr < cr * (1.0 - 1e-7))
    bi = sel(use_n, ni, ci)
    bi = sel(bi < 0, 0, bi)
    limit = bi >= 2
    outside = full(cr, False)
    for q in range(free_idx.shape[0]):
        j = free_idx[q]
        v = cands[0, j]
        for c in range(1, n_c):
            v = sel(bi == c, cands[c, j], v)
        theta[q] = np.log(np.maximum(v, 1e-300)) if logmask[j] else v
        outside = outside | (theta[q] < lo[q]) | (theta[q] > hi[q])
    return sel(use_n, nr, cr), lnot(use_n), limit | outside
