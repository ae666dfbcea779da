"""Starting values and divergence limits of the log-dose models, in the engine's dialect
(:mod:`kinresist.dose._dialect`: one source for the NumPy and the compiled backend).

* :func:`self_start`: drc-style (``llogistic.ssf``-like): asymptotes from the data padded
  by 5 % of the range, ``b`` and ``e`` by least squares of the linearised response
  ``h⁻¹((y − c)/(d − c))`` on log dose over the positive doses;
* :func:`refine_start`: variable-projection grid — for 4 slopes (0.5–4× the self-start)
  × 7 EC50s (the self-start's and 6 across the tested range) the asymptotes enter
  linearly and are solved in closed form; the point with the lowest RSS starts LM;
* :func:`alternative_starts`: the extra starts of ``multistart=True``;
* :func:`divergence_bounds`: limits beyond which a parameter is running away (EC50 100×
  beyond the tested range; a slope that makes the curve a step between two adjacent
  doses, ``|b| ≥ 12/min log-dose spacing``; asymmetry outside [1e-4, 1e4]).

Arrays: points on the first axis (``x``, ``lx`` = log dose or 0, ``y``, ``w``), scratch
``tp`` (≥ 4 point rows), parameter vectors ``(5, ...)`` in the slots of
:data:`~kinresist.dose.log_dose_models.FAMILY_PARAMS`.
"""

from __future__ import annotations

import numpy as np

from kinresist.dose._dialect import (
    dot,
    full,
    kernel,
    lnot,
    pmax,
    pmin,
    points,
    psum,
    sel,
    sort_by,
    wsums,
)
from kinresist.dose.log_dose_models import ninf_u

__all__ = [
    "alternative_starts",
    "choose_start",
    "divergence_bounds",
    "internal_bounds",
    "log_range",
    "prepare_curve",
    "refine_start",
    "self_start",
    "to_theta",
]


@kernel
def log_range(x, lx, w, tp):  # type: ignore[no-untyped-def]
    """Lowest and highest log dose among the observed positive doses (0 if none)."""
    for i in points(x.shape[0]):
        pos = (w[i] > 0) & (x[i] > 0)
        tp[0, i] = sel(pos, lx[i], np.inf)
        tp[1, i] = sel(pos, lx[i], -np.inf)
    lmin = pmin(tp[0])
    lmax = pmax(tp[1])
    return sel(np.isfinite(lmin), lmin, 0.0), sel(np.isfinite(lmax), lmax, 0.0)


@kernel
def self_start(shape, h_inv, x, lx, y, w, tp, st):  # type: ignore[no-untyped-def]
    """drc-style self-start into ``st`` = (b, c, d, e, f = 1)."""
    m = x.shape[0]
    for i in points(m):
        obs = w[i] > 0
        tp[0, i] = sel(obs, y[i], np.inf)
        tp[1, i] = sel(obs, y[i], -np.inf)
    ymin = pmin(tp[0])
    ymax = pmax(tp[1])
    rng = np.maximum(ymax - ymin, 1e-12 * np.maximum(np.abs(ymax), 1.0))
    for i in points(m):
        pos = (w[i] > 0) & (x[i] > 0)
        tp[0, i] = sel(pos, 1.0, 0.0)
        tp[1, i] = sel(pos, lx[i], 0.0)
        tp[2, i] = sel(pos, y[i], 0.0)
    den = np.maximum(psum(tp[0]), 1.0)
    mx = psum(tp[1]) / den
    my = psum(tp[2]) / den
    for i in points(m):
        tp[3, i] = tp[0, i] * (tp[1, i] - mx) * (tp[2, i] - my)
    decreasing = psum(tp[3]) <= 0
    pad = 0.05 * rng
    top = ymax + pad
    bottom = ymin - pad
    fill = 0.5 * (top + bottom)
    for i in points(m):
        z = (sel(w[i] > 0, y[i], fill) - bottom) / (top - bottom)
        tp[2, i] = h_inv(np.minimum(np.maximum(z, 1e-3), 1.0 - 1e-3), 1.0)
    ml = dot(tp[0], tp[2]) / den
    for i in points(m):
        dx = tp[1, i] - mx
        tp[3, i] = tp[0, i] * dx * dx
        tp[1, i] = tp[0, i] * dx * (tp[2, i] - ml)
    slope = psum(tp[1]) / psum(tp[3])
    sign = sel(decreasing, 1.0, -1.0) * (2.0 * shape(-np.inf, 0.0, 1.0)[0] - 1.0)
    ok = np.isfinite(slope) & (np.abs(slope) > 1e-2)
    slope = np.minimum(np.maximum(sel(ok, slope, sign), -20.0), 20.0)
    loge = mx - ml / slope
    lmin, lmax = log_range(x, lx, w, tp)
    loge = sel(np.isfinite(loge), loge, 0.5 * (lmin + lmax))
    st[0] = slope
    st[1] = bottom
    st[2] = top
    st[3] = np.exp(np.minimum(np.maximum(loge, lmin - 1.0), lmax + 1.0))
    st[4] = 1.0


@kernel
def refine_start(shape, x, lx, y, w, st, fixmask, fixrow, fracs, slopes, tp):  # type: ignore[no-untyped-def]
    """Variable-projection start grid, in place on ``st`` (skipped when b or e is fixed)."""
    if fixmask[0] or fixmask[3]:
        return
    m = x.shape[0]
    lmin, lmax = log_range(x, lx, w, tp)
    b0 = st[0]
    f = fixrow[4] if fixmask[4] else st[4]
    c_fixed, d_fixed = fixmask[1], fixmask[2]
    for i in points(m):
        tp[0, i] = w[i] * y[i]
    syy = dot(tp[0], y)
    sw_ = psum(w)
    swy = psum(tp[0])
    best = full(b0, np.inf)
    bb, bc, bd, be = st[0], st[1], st[2], st[3]
    le0 = np.log(st[3])
    u0 = ninf_u(b0)
    for fi in range(fracs.shape[0] + 1):
        le = le0 if fi == 0 else lmin + fracs[fi - 1] * (lmax - lmin)
        for i in points(m):  # u and exp(u) at the self-start's slope; other slopes scale them
            tp[3, i] = sel(x[i] > 0, b0 * (lx[i] - le), u0)
            tp[4, i] = np.exp(np.minimum(tp[3, i], 700.0))
        for j in range(slopes.shape[0]):
            mult = slopes[j]
            b = b0 * mult
            for i in points(m):
                t1 = tp[4, i]
                if mult == 1.0:
                    t = t1
                elif mult == 0.5:
                    t = np.sqrt(t1)
                elif mult == 2.0:
                    t = t1 * t1
                elif mult == 4.0:
                    t = (t1 * t1) * (t1 * t1)
                else:
                    t = np.exp(np.minimum(mult * tp[3, i], 700.0))
                h = shape(mult * tp[3, i], t, f)[0]
                tp[1, i] = h
                tp[2, i] = w[i] * h
            sh, shh, shy = wsums(tp[2], tp[1], y)
            sgh = sh - shh
            sgg = sw_ - 2.0 * sh + shh
            sgy = swy - shy
            if c_fixed and d_fixed:
                c, d = fixrow[1], fixrow[2]
            elif c_fixed:
                c = fixrow[1]
                d = (shy - c * sgh) / shh
            elif d_fixed:
                d = fixrow[2]
                c = (sgy - d * sgh) / sgg
            else:
                det = sgg * shh - sgh * sgh
                c = (shh * sgy - sgh * shy) / det
                d = (sgg * shy - sgh * sgy) / det
            rss = syy - 2.0 * (c * sgy + d * shy) + c * c * sgg + 2.0 * c * d * sgh + d * d * shh
            better = np.isfinite(rss) & np.isfinite(c) & np.isfinite(d) & (rss < best)
            best = sel(better, rss, best)
            bb = sel(better, b, bb)
            be = sel(better, np.exp(le), be)
            bc = sel(better, c, bc)
            bd = sel(better, d, bd)
    st[0] = bb
    st[3] = be
    if not c_fixed:
        st[1] = bc
    if not d_fixed:
        st[2] = bd


@kernel
def alternative_starts(st, lmin, lmax, starts):  # type: ignore[no-untyped-def]
    """``starts[0]`` = ``st``; ``starts[1:4]`` spread EC50s (¼, ¾, ½ of the tested range)
    with slopes ×0.5, ×2, ×1; ``starts[4:6]`` (if present, LL.5) asymmetry 0.5 and 2."""
    fr = (0.25, 0.75, 0.5)
    bs = (0.5, 2.0, 1.0)
    for s in range(starts.shape[0]):
        for q in range(5):
            starts[s, q] = st[q]
    for s in range(3):
        starts[s + 1, 3] = np.exp(lmin + fr[s] * (lmax - lmin))
        starts[s + 1, 0] = st[0] * bs[s]
    if starts.shape[0] > 4:
        starts[4, 4] = full(st[4], 0.5)
        starts[5, 4] = full(st[4], 2.0)


@kernel
def divergence_bounds(x, lx, w, tp, lo5, hi5):  # type: ignore[no-untyped-def]
    """Natural-scale runaway limits of (b, c, d, e, f) into ``lo5``, ``hi5``."""
    m = x.shape[0]
    lmin, lmax = log_range(x, lx, w, tp)
    decades = 2.0 * np.log(10.0)
    for i in points(m):
        tp[0, i] = sel((w[i] > 0) & (x[i] > 0), lx[i], np.inf)
    sort_by(tp[0], tp[0], tp[0], tp[1], tp[2], tp[3])
    spacing = full(lmin, np.inf)
    for i in range(m - 1):
        g = tp[1, i + 1] - tp[1, i]
        spacing = sel(np.isfinite(g) & (g > 1e-9) & (g < spacing), g, spacing)
    bmax = sel(np.isfinite(spacing), 12.0 / spacing, 1e3)
    lo5[0] = -bmax
    hi5[0] = bmax
    lo5[1] = lo5[2] = full(bmax, -np.inf)
    hi5[1] = hi5[2] = full(bmax, np.inf)
    lo5[3] = np.exp(lmin - decades)
    hi5[3] = np.exp(lmax + decades)
    lo5[4] = full(bmax, 1e-4)
    hi5[4] = full(bmax, 1e4)


@kernel
def internal_bounds(lo5, hi5, free_idx, logmask, lo, hi):  # type: ignore[no-untyped-def]
    """Runaway limits of the free parameters on the optimiser's scale (log where logged)."""
    for q in range(free_idx.shape[0]):
        j = free_idx[q]
        if logmask[j]:
            lo[q] = np.log(lo5[j])
            hi[q] = np.log(hi5[j])
        else:
            lo[q] = lo5[j]
            hi[q] = hi5[j]


@kernel
def to_theta(p, free_idx, logmask, theta):  # type: ignore[no-untyped-def]
    """Natural parameters -> the optimiser's free parameters (log scale where logged)."""
    for q in range(free_idx.shape[0]):
        j = free_idx[q]
        theta[q] = np.log(np.maximum(p[j], 1e-300)) if logmask[j] else p[j]


@kernel
def prepare_curve(  # type: ignore[no-untyped-def]
    shape, h_inv, x, lx, y, w, fixmask, fixrow, free_idx, logmask, fracs, slopes, umask, user,
    tp, starts, lo5, hi5, lo, hi, thetas,
):  # fmt: skip
    """Everything before LM: the starts (self-start with the user's values where ``umask``,
    else refined by the grid; alternatives when ``starts`` has more than one row), the
    divergence limits and the starts on the optimiser's scale. Returns the tested
    log-dose range."""
    st = starts[0]
    self_start(shape, h_inv, x, lx, y, w, tp, st)
    has_user = False
    for j in range(5):
        if umask[j]:
            st[j] = user[j]
            has_user = True
    if not has_user:
        refine_start(shape, x, lx, y, w, st, fixmask, fixrow, fracs, slopes, tp)
    lmin, lmax = log_range(x, lx, w, tp)
    if starts.shape[0] > 1:
        alternative_starts(st, lmin, lmax, starts)
    divergence_bounds(x, lx, w, tp, lo5, hi5)
    internal_bounds(lo5, hi5, free_idx, logmask, lo, hi)
    for s in range(starts.shape[0]):
        to_theta(starts[s], free_idx, logmask, thetas[s])
    return lmin, lmax


@kernel
def choose_start(rs, cv):  # type: ignore[no-untyped-def]
    """Index of the start to keep: converged first, then the lowest RSS (first on ties)."""
    bi = full(rs[0], 0)
    bconv = cv[0]
    brs = rs[0]
    for s in range(1, rs.shape[0]):
        better = (cv[s] & lnot(bconv)) | ((cv[s] == bconv) & (rs[s] < brs))
        bi = sel(better, s, bi)
        bconv = bconv | cv[s]
        brs = sel(better, rs[s], brs)
    return bi
