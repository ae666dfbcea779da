"""Levenberg-Marquardt of the batch engine, written once in the engine's dialect
(:mod:`kinresist.dose._dialect`), plus the NumPy driver that iterates many curves at once.

:func:`lm_iterate` is one iteration for one curve (or, in NumPy mode, for every curve of a
working set): normal equations from the weighted Jacobian, Marquardt damping
``λ·diag(JᵀJ)``, Cholesky solve, gain ratio and Nielsen's update of λ, and the
stopping tests — the MINPACK first-order test (cosine between the residual and every
Jacobian column ≤ 1e-7), the relative step (≤ 1e-8 of the parameter vector), the
relative RSS decrease (≤ 1e-12), λ > 1e14 without progress (converged only if the
first-order test holds to 1e-6) and the divergence limits (a parameter leaving them
stops the curve as running away). The model enters through two evaluator functions
(``resid_fn``, ``jac_fn``; for the log-dose models
:func:`~kinresist.dose.log_dose_models.fill_residual` /
:func:`~kinresist.dose.log_dose_models.fill_jacobian`).

:func:`levenberg_marquardt` (NumPy backend) keeps at most :data:`CAPACITY` curves in
the working set and replaces finished curves by waiting ones, so a few slow curves never
keep a large batch busy. The compiled backend (:mod:`kinresist.dose.nb_fit`) loops
:func:`lm_iterate` per curve. Internal module: :func:`kinresist.dose.engine.fit_batch`
is the API.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from kinresist.dose._dialect import copy_if, full, gram, hot, kernel, lnot, sel

__all__ = [
    "CAPACITY",
    "FTOL",
    "GTOL",
    "MAX_ITER",
    "XTOL",
    "chol_solve",
    "levenberg_marquardt",
    "lm_iterate",
    "natural",
]

MAX_ITER = 300
XTOL = 1e-8
FTOL = 1e-12
GTOL = 1e-7
#: curves iterated together by the NumPy driver (cache-sized working set)
CAPACITY = 8192


@kernel
def natural(theta, free_idx, logmask, fixrow, p):  # type: ignore[no-untyped-def]
    """The optimiser's free parameters -> all natural parameters ``p`` (fixed ones from ``fixrow``)."""
    for j in range(p.shape[0]):
        p[j] = fixrow[j]
    for q in range(free_idx.shape[0]):
        j = free_idx[q]
        p[j] = np.exp(theta[q]) if logmask[j] else theta[q]


@hot
def chol_solve(a, g, low, z, step, k):  # type: ignore[no-untyped-def]
    """Solve ``a·step = g`` (``a`` symmetric k×k) by Cholesky; a step of 0 where ``a`` is
    not positive definite or the solution is not finite. Returns the not-PD mask."""
    if k == 4:
        return _chol_solve4(a, g, step)
    bad = full(g[0], False)
    for j in range(k):  # the diagonal of ``low`` holds 1/L_jj (multiplications, not divisions)
        acc = a[j, j]
        for q in range(j):
            acc = acc - low[j, q] * low[j, q]
        bad = bad | lnot(acc > 0)
        rjj = 1.0 / np.sqrt(sel(acc > 0, acc, 1.0))
        low[j, j] = rjj
        for i in range(j + 1, k):
            acc2 = a[i, j]
            for q in range(j):
                acc2 = acc2 - low[i, q] * low[j, q]
            low[i, j] = acc2 * rjj
    for i in range(k):
        acc = g[i]
        for q in range(i):
            acc = acc - low[i, q] * z[q]
        z[i] = acc * low[i, i]
    for i in range(k - 1, -1, -1):
        acc = z[i]
        for q in range(i + 1, k):
            acc = acc - low[q, i] * step[q]
        step[i] = acc * low[i, i]
    for i in range(k):
        step[i] = sel(bad | lnot(np.isfinite(step[i])), 0.0, step[i])
    return bad


@hot
def _chol_solve4(a, g, step):  # type: ignore[no-untyped-def]
    """:func:`chol_solve` for k = 4 (the four-parameter fits), unrolled: the same operations
    in the same order, on values the compiler keeps in registers."""
    a00, a11, a22, a33 = a[0, 0], a[1, 1], a[2, 2], a[3, 3]
    ok0 = a00 > 0
    r0 = 1.0 / np.sqrt(sel(ok0, a00, 1.0))
    l10, l20, l30 = a[1, 0] * r0, a[2, 0] * r0, a[3, 0] * r0
    d1 = a11 - l10 * l10
    ok1 = d1 > 0
    r1 = 1.0 / np.sqrt(sel(ok1, d1, 1.0))
    l21 = (a[2, 1] - l20 * l10) * r1
    l31 = (a[3, 1] - l30 * l10) * r1
    d2 = (a22 - l20 * l20) - l21 * l21
    ok2 = d2 > 0
    r2 = 1.0 / np.sqrt(sel(ok2, d2, 1.0))
    l32 = ((a[3, 2] - l30 * l20) - l31 * l21) * r2
    d3 = ((a33 - l30 * l30) - l31 * l31) - l32 * l32
    ok3 = d3 > 0
    r3 = 1.0 / np.sqrt(sel(ok3, d3, 1.0))
    bad = lnot(ok0) | lnot(ok1) | lnot(ok2) | lnot(ok3)
    z0 = g[0] * r0
    z1 = (g[1] - l10 * z0) * r1
    z2 = ((g[2] - l20 * z0) - l21 * z1) * r2
    z3 = (((g[3] - l30 * z0) - l31 * z1) - l32 * z2) * r3
    s3 = z3 * r3
    s2 = (z2 - l32 * s3) * r2
    s1 = ((z1 - l21 * s2) - l31 * s3) * r1
    s0 = (((z0 - l10 * s1) - l20 * s2) - l30 * s3) * r0
    step[0] = sel(bad | lnot(np.isfinite(s0)), 0.0, s0)
    step[1] = sel(bad | lnot(np.isfinite(s1)), 0.0, s1)
    step[2] = sel(bad | lnot(np.isfinite(s2)), 0.0, s2)
    step[3] = sel(bad | lnot(np.isfinite(s3)), 0.0, s3)
    return bad


@kernel
def lm_start(resid_fn, ctx, x, lx, y, sw, free_idx, logmask, fixrow, theta, p, rows):  # type: ignore[no-untyped-def]
    """Natural parameters and residual cache at the start ``theta``; returns the RSS."""
    natural(theta, free_idx, logmask, fixrow, p)
    return resid_fn(ctx, x, lx, y, sw, p, rows)


@hot
def lm_iterate(  # type: ignore[no-untyped-def]
    resid_fn, jac_fn, ctx, x, lx, y, sw, free_idx, logmask, fixrow, lo, hi,
    theta, p, pn, rows, crows, jac, wk, wm, rss, lam, nu, it, max_iter, target,
):  # fmt: skip
    """One Levenberg-Marquardt iteration from ``theta`` (state updated in place). A curve
    also stops (unconverged) once its RSS is within 1e-7 above ``target`` (a limit curve's
    RSS it is creeping towards; -inf: never).

    ``rows``/``crows``: residual cache at the current / candidate point; ``jac``
    (parameter slots, points) the natural-scale weighted Jacobian; ``wk`` (6, k), ``wm``
    (3, k, k): scratch. Returns ``(rss, λ, ν, iterations, finished, converged,
    running_away)``."""
    k = free_idx.shape[0]
    jac_fn(ctx, x, lx, sw, p, rows, free_idx, jac)
    a, mm, low = wm[0], wm[1], wm[2]
    g, damp, z, step, cand, scale = wk[0], wk[1], wk[2], wk[3], wk[4], wk[5]
    for q in range(k):  # chain rule to the optimiser's scale: ∂/∂log θ = θ·∂/∂θ
        j = free_idx[q]
        scale[q] = p[j] if logmask[j] else full(rss, 1.0)
    gram(jac, rows[0], free_idx, a, g)
    for q in range(k):
        g[q] = g[q] * scale[q]
        for j in range(k):
            a[q, j] = a[q, j] * (scale[q] * scale[j])
    cosang = full(rss, 0.0)
    dmax = a[0, 0]
    for q in range(k):
        cosang = np.fmax(cosang, np.abs(g[q]) / np.sqrt(a[q, q] * rss))
        dmax = np.fmax(dmax, a[q, q])
    gconv = (cosang <= GTOL) | (rss <= 1e-300)
    floor = 1e-12 * np.maximum(dmax, 1e-300)
    for q in range(k):
        damp[q] = lam * np.maximum(a[q, q], floor)
        for j in range(k):
            mm[q, j] = a[q, j]
        mm[q, q] = a[q, q] + damp[q]
    chol_solve(mm, g, low, z, step, k)
    for q in range(k):
        cand[q] = theta[q] + step[q]
    natural(cand, free_idx, logmask, fixrow, pn)
    new_rss = resid_fn(ctx, x, lx, y, sw, pn, crows)
    accept = new_rss < rss
    pred = full(rss, 0.0)
    snorm = full(rss, 0.0)
    for q in range(k):
        pred = pred + step[q] * (g[q] + damp[q] * step[q])
        snorm = snorm + step[q] * step[q]
    rho = (rss - new_rss) / pred
    rho = sel(np.isfinite(rho), rho, 0.0)
    for q in range(k):
        theta[q] = sel(accept, cand[q], theta[q])
    for j in range(p.shape[0]):
        p[j] = sel(accept, pn[j], p[j])
    copy_if(accept, crows, rows)
    small_f = sel(accept, rss - new_rss, 0.0) <= FTOL * rss
    tq = 2.0 * rho - 1.0
    lam = sel(accept, np.maximum(lam * np.maximum(1.0 / 3.0, 1.0 - tq * tq * tq), 1e-15), lam * nu)
    nu = sel(accept, 2.0, nu * 2.0)
    rss = sel(accept, new_rss, rss)
    tnorm = full(rss, 0.0)
    runaway = full(rss, False)
    for q in range(k):
        tnorm = tnorm + theta[q] * theta[q]
        runaway = runaway | (theta[q] < lo[q]) | (theta[q] > hi[q])
    small_step = np.sqrt(snorm) <= XTOL * (np.sqrt(tnorm) + XTOL)
    done_ok = (gconv | (accept & (small_step | small_f))) & lnot(runaway)
    stalled = lnot(accept) & (lam > 1e14)
    it = it + 1
    at_target = (rss >= target) & (rss <= target * (1.0 + 1e-7))
    finished = done_ok | stalled | runaway | (it >= max_iter) | at_target
    return rss, lam, nu, it, finished, done_ok | (stalled & (cosang <= 1e-6)), runaway


def levenberg_marquardt(
    resid_fn: Callable[..., Any],
    jac_fn: Callable[..., Any],
    ctx: Any,
    data: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    theta0: np.ndarray,
    fixrow: np.ndarray,
    free_idx: np.ndarray,
    logmask: np.ndarray,
    *,
    bounds: tuple[np.ndarray, np.ndarray] | None = None,
    target: np.ndarray | None = None,
    n_rows: int = 5,
    max_iter: int = MAX_ITER,
    capacity: int = CAPACITY,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """NumPy driver: LM on every column (curve) of ``data`` = (x, lx, y, sw), each
    ``(points, curves)``, from ``theta0`` ``(k, curves)``; ``n_rows``: point rows of the
    evaluator's residual cache. ``fixrow`` ``(P, curves)``
    holds the fixed parameters; ``bounds`` (internal scale, ``(k, curves)`` each) the
    divergence limits; ``target`` (curves) a limit RSS at which to stop. Returns theta, rss,
    converged, n_iter, at_limit."""
    x, lx, y, sw = data
    k, n = theta0.shape
    m = x.shape[0]
    big_p = fixrow.shape[0]
    theta = theta0.copy()
    rss = np.full(n, np.inf)
    converged = np.zeros(n, dtype=bool)
    at_limit = np.zeros(n, dtype=bool)
    n_iter = np.zeros(n, dtype=np.int64)
    if bounds is None:
        bounds = (np.full((k, n), -np.inf), np.full((k, n), np.inf))
    lo_all, hi_all = bounds
    tgt_all = np.full(n, -np.inf) if target is None else target
    cols = ("x", "lx", "y", "sw", "fix", "lo", "hi", "tgt", "theta", "p", "rows", "rss", "lam", "nu",
            "it")  # fmt: skip
    ws: dict[str, np.ndarray] = {}
    active = np.zeros(0, dtype=np.int64)
    live = np.zeros(0, dtype=bool)
    queue = 0
    with np.errstate(all="ignore"):
        while True:
            n_live = int(live.sum())
            if n_live < live.size and (
                n_live <= 0.75 * live.size or (queue < n and n_live <= 0.75 * capacity)
            ):
                keep = np.flatnonzero(live)
                active, live = active[keep], live[keep]
                ws = {c: v[..., keep] for c, v in ws.items()}
            if queue < n and n_live <= 0.75 * capacity:
                take = np.arange(queue, min(n, queue + capacity - n_live))
                queue = int(take[-1]) + 1
                new = {
                    "x": x[:, take], "lx": lx[:, take], "y": y[:, take], "sw": sw[:, take],
                    "fix": fixrow[:, take], "lo": lo_all[:, take], "hi": hi_all[:, take],
                    "tgt": tgt_all[take],
                    "theta": theta[:, take], "p": np.empty((big_p, take.size)),
                    "rows": np.empty((n_rows, m, take.size)),
                }  # fmt: skip
                r0 = lm_start(
                    resid_fn, ctx, new["x"], new["lx"], new["y"], new["sw"], free_idx, logmask,
                    new["fix"], new["theta"], new["p"], new["rows"],
                )  # fmt: skip
                rss[take] = r0
                good = np.flatnonzero(np.isfinite(r0))
                if good.size:
                    new = {c: v[..., good] for c, v in new.items()}
                    new["rss"] = r0[good]
                    new["lam"] = np.full(good.size, 1e-3)
                    new["nu"] = np.full(good.size, 2.0)
                    new["it"] = np.zeros(good.size, dtype=np.int64)
                    ws = new if not ws else {c: np.concatenate([ws[c], new[c]], -1) for c in cols}
                    active = np.concatenate([active, take[good]])
                    live = np.concatenate([live, np.ones(good.size, dtype=bool)])
                continue
            if n_live == 0:
                break
            w = active.size
            out = lm_iterate(
                resid_fn, jac_fn, ctx, ws["x"], ws["lx"], ws["y"], ws["sw"], free_idx, logmask,
                ws["fix"], ws["lo"], ws["hi"], ws["theta"], ws["p"], np.empty((big_p, w)),
                ws["rows"], np.empty((n_rows, m, w)), np.empty((big_p, m, w)), np.empty((6, k, w)),
                np.empty((3, k, k, w)), ws["rss"], ws["lam"], ws["nu"], ws["it"], max_iter,
                ws["tgt"],
            )  # fmt: skip
            ws["rss"], ws["lam"], ws["nu"], ws["it"] = out[0], out[1], out[2], out[3]
            finished = out[4] & live
            if finished.any():
                fi = np.flatnonzero(finished)
                fin = active[fi]
                theta[:, fin] = ws["theta"][:, fi]
                rss[fin] = ws["rss"][fi]
                converged[fin] = out[5][fi]
                at_limit[fin] = out[6][fi]
                n_iter[fin] = ws["it"][fi]
                live[fi] = False
    return theta, rss, converged, n_iter, at_limit
