"""The NumPy backend of the batch engine: the dialect functions run vectorised over curves
(points × curves arrays), with the working-set LM driver of :mod:`kinresist.dose.lm`.

The log-dose models use their dialect evaluators and starts; user-declared models
(dict API: ``f``, ``jacobian``, ``self_start`` ...) run on the same LM and covariance
through the two adapters below. Internal module: :func:`kinresist.dose.engine.fit_batch`
is the API.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from kinresist.dose.covariance import finish_curve
from kinresist.dose.curve_starts import choose_start, prepare_curve, to_theta
from kinresist.dose.limits import STEP_START_U, power_check, rescue_pick, step_check, step_limit
from kinresist.dose.lm import levenberg_marquardt, natural
from kinresist.dose.log_dose_models import (
    CACHE_ROWS,
    FAMILY_PARAMS,
    LogDoseModel,
    fill_jacobian,
    fill_residual,
)
from kinresist.dose.model_base import DoseArray
from kinresist.dose.models import ModelSpec

__all__ = ["RESCUE_ITER", "FitJob", "core_numpy", "structure"]

#: LM iterations of the fallback's continued fit (without divergence limits)
RESCUE_ITER = 100


def structure(
    spec: ModelSpec, free: list[str], fixed: Mapping[str, np.ndarray], n: int
) -> tuple[tuple[str, ...], np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Parameter slots, free slot indices, log mask, fixed mask and the per-curve fixed
    values ``(slots, n)`` (1 where free) of a problem."""
    fam: Any = spec.family
    slots = FAMILY_PARAMS if isinstance(fam, LogDoseModel) else tuple(fam.param_names)
    free_idx = np.array([slots.index(nm) for nm in free], dtype=np.int64)
    logmask = np.array([nm in fam.log_params for nm in slots])
    fixmask = np.array([nm in fixed for nm in slots])
    fixrow = np.ones((len(slots), n))
    for nm, v in fixed.items():
        fixrow[slots.index(nm)] = np.asarray(v, dtype=float).reshape(n)
    return slots, free_idx, logmask, fixmask, fixrow


def _dict_residual(ctx, x, lx, y, sw, p, rows):  # type: ignore[no-untyped-def]
    """Evaluator adapter for dict-API models (NumPy only): residuals into ``rows[0]``."""
    model, slots = ctx
    xd = DoseArray(x.T, lx.T, x.T > 0)
    fv = np.asarray(model.f(xd, {nm: p[j][:, None] for j, nm in enumerate(slots)}))
    rows[0] = sw * (y - np.broadcast_to(fv, xd.shape).T)
    rss = np.einsum("ij,ij->j", rows[0], rows[0])
    return np.where(np.isfinite(rss), rss, np.inf)


def _dict_jacobian(ctx, x, lx, sw, p, rows, free_idx, jac):  # type: ignore[no-untyped-def]
    """Evaluator adapter for dict-API models: weighted natural Jacobian rows of the free
    slots into ``jac``."""
    model, slots = ctx
    xd = DoseArray(x.T, lx.T, x.T > 0)
    jd = model.jacobian(xd, {nm: p[j][:, None] for j, nm in enumerate(slots)})
    for j in free_idx:
        jac[j] = sw * np.broadcast_to(jd[slots[j]], xd.shape).T


def _dict_starts(
    fam: Any, x: np.ndarray, y: np.ndarray, w: np.ndarray, slots: tuple[str, ...],
    fixed: Mapping[str, np.ndarray], user: Mapping[str, Any] | None, multistart: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
    """Starts ``(S, slots, n)`` and natural divergence limits of a dict-API model."""
    n = y.shape[0]
    xd = DoseArray(x)
    free = [nm for nm in slots if nm not in fixed]
    start = {} if user is not None and all(nm in user for nm in free) else fam.self_start(xd, y, w)
    for nm, v in (user or {}).items():
        start[nm] = np.broadcast_to(np.asarray(v, dtype=float), (n,)).copy()
    if user is None:
        start = fam.refine_start(xd, y, w, start, fixed)
    dicts = [start] + (
        fam.alternative_starts(xd, y, w, start) if multistart and user is None else []
    )
    starts = np.ones((len(dicts), len(slots), n))
    for s, d in enumerate(dicts):
        for j, nm in enumerate(slots):
            if nm in d:
                starts[s, j] = np.asarray(d[nm], dtype=float).reshape(n)
    lo5 = np.full((len(slots), n), -np.inf)
    hi5 = np.full((len(slots), n), np.inf)
    for nm, (blo, bhi) in fam.divergence_bounds(xd, w).items():
        lo5[slots.index(nm)], hi5[slots.index(nm)] = blo, bhi
    return starts, lo5, hi5


@dataclass(frozen=True)
class FitJob:
    """One chunk of curves to fit, as :func:`~kinresist.dose.engine.fit_batch` prepared it."""

    spec: ModelSpec
    free: list[str]
    fixed: dict[str, np.ndarray]
    x: np.ndarray
    y: np.ndarray
    w: np.ndarray
    se: str
    multistart: bool
    start: Mapping[str, Any] | None
    max_iter: int
    fallback: bool
    #: multistart without the first (self-)start: a refit of curves whose fit from the
    #: self-start is already known (the caller compares)
    skip_first: bool = False


def core_numpy(job: FitJob) -> tuple[np.ndarray, ...]:
    """Starts, LM, start selection, fallback and covariance of one chunk: natural
    parameters ``(n, n_params)``, RSS, converged, iterations, at-limit, covariance of the
    free parameters and the ill-conditioning mask."""
    spec, free, fixed, x, y, w = job.spec, job.free, job.fixed, job.x, job.y, job.w
    se, multistart, user_start, max_iter = job.se, job.multistart, job.start, job.max_iter
    fallback = job.fallback
    fam: Any = spec.family
    n, m = y.shape
    k = len(free)
    slots, free_idx, logmask, fixmask, fixrow = structure(spec, free, fixed, n)
    big_p = len(slots)
    log_dose = isinstance(fam, LogDoseModel)
    xt, yt, wt = (np.ascontiguousarray(a.T) for a in (x, y, w))
    with np.errstate(all="ignore"):
        lxt = np.where(xt > 0, np.log(np.where(xt > 0, xt, 1.0)), 0.0)
        swt = np.sqrt(wt)
        n_obs = (wt > 0).sum(axis=0)
        enough = n_obs >= max(k, 1)
        tp = np.empty((7, m, n))
        lo = np.empty((k, n))
        hi = np.empty((k, n))
        if log_dose:
            ev: tuple[Any, Any, Any, int] = (fill_residual, fill_jacobian, fam.shape, CACHE_ROWS)
            n_starts = (6 if len(fam.param_names) == 5 else 4) if multistart else 1
            umask = np.array([nm in (user_start or {}) for nm in slots])
            user = np.ones((5, n))
            for nm, v in (user_start or {}).items():
                user[slots.index(nm)] = np.broadcast_to(np.asarray(v, dtype=float), (n,))
            starts = np.empty((1 if user_start is not None else n_starts, 5, n))
            lo5, hi5 = np.empty((5, n)), np.empty((5, n))
            thetas = np.empty((starts.shape[0], k, n))
            fracs = np.linspace(0.0, 1.0, fam.GRID_EC50)
            slopes = np.array(fam.GRID_SLOPES, dtype=float)
            lmin, lmax = prepare_curve(
                fam.shape, fam.h_inv, xt, lxt, yt, wt, fixmask, fixrow, free_idx, logmask,
                fracs, slopes, umask, user, tp, starts, lo5, hi5, lo, hi, thetas,
            )  # fmt: skip
        else:
            ev = (_dict_residual, _dict_jacobian, (fam, slots), 1)
            starts, lo5, hi5 = _dict_starts(fam, x, y, w, slots, fixed, user_start, multistart)
            thetas = np.empty((starts.shape[0], k, n))
            for s in range(starts.shape[0]):
                to_theta(starts[s], free_idx, logmask, thetas[s])
            for q, j in enumerate(free_idx):
                lo[q] = np.log(lo5[j]) if logmask[j] else lo5[j]
                hi[q] = np.log(hi5[j]) if logmask[j] else hi5[j]
        resid_fn, jac_fn, ctx, n_rows = ev
        n_s = thetas.shape[0]
        rs = np.full((n_s, n), np.inf)
        cv = np.zeros((n_s, n), dtype=bool)
        its = np.zeros((n_s, n), dtype=np.int64)
        lims = np.zeros((n_s, n), dtype=bool)
        th_all = np.full((n_s, k, n), np.nan)
        cols = np.flatnonzero(enough)
        first = 1 if job.skip_first and n_s > 1 else 0
        if k and cols.size:
            rix = np.tile(cols, n_s - first)
            sidx = np.repeat(np.arange(first, n_s), cols.size)
            out = levenberg_marquardt(
                resid_fn, jac_fn, ctx,
                (xt[:, rix], lxt[:, rix], yt[:, rix], swt[:, rix]),
                thetas[sidx, :, rix].T, fixrow[:, rix], free_idx, logmask,
                bounds=(lo[:, rix], hi[:, rix]), n_rows=n_rows, max_iter=max_iter,
            )  # fmt: skip
            th_all[sidx, :, rix] = out[0].T
            rs[sidx, rix], cv[sidx, rix], its[sidx, rix], lims[sidx, rix] = out[1:]
        elif cols.size:  # every parameter fixed
            p0 = np.empty((big_p, n))
            natural(np.zeros((0, n)), free_idx, logmask, fixrow, p0)
            rs[0] = resid_fn(ctx, xt, lxt, yt, swt, p0, np.empty((n_rows, m, n)))
            cv[0] = enough
        best = choose_start(rs, cv)
        pick = (best, np.arange(n))
        theta = th_all[best, :, np.arange(n)].T.copy()
        rss, converged, n_iter, at_limit = rs[pick], cv[pick] & enough, its[pick], lims[pick]
        if fallback and log_dose and k:
            _rescue(fam, ev, (xt, lxt, yt, wt, swt), fixmask, fixrow, free_idx, logmask,
                    (lmin, lmax), (lo, hi), theta, rss, converged, n_iter, at_limit,
                    enough)  # fmt: skip
        p = np.empty((big_p, n))
        cov = np.empty((k, k, n))
        if not k:
            natural(theta, free_idx, logmask, fixrow, p)
            ill = np.zeros(n, dtype=bool)
        else:
            ill = finish_curve(
                resid_fn, jac_fn, ctx, xt, lxt, yt, swt, theta, rss, n_obs, free_idx, logmask,
                fixrow, se == "hessian", p,
                np.empty((n_rows, m, n)), np.empty((m, n)), np.empty((big_p, m, n)),
                np.empty((big_p, m, n)), np.empty((big_p, n)), np.empty((k, n)),
                np.empty((5, k, k, n)), cov,
            )  # fmt: skip
    params = np.ascontiguousarray(p[[slots.index(nm) for nm in fam.param_names]].T)
    return (
        params,
        rss,
        converged,
        n_iter,
        at_limit,
        np.moveaxis(cov, -1, 0),
        np.asarray(ill, bool),
    )


def _rescue(
    fam: Any, ev: tuple[Any, Any, Any, int], data: tuple[np.ndarray, ...], fixmask: np.ndarray,
    fixrow: np.ndarray, free_idx: np.ndarray, logmask: np.ndarray,
    lrange: tuple[np.ndarray, np.ndarray], bounds: tuple[np.ndarray, np.ndarray],
    theta: np.ndarray, rss: np.ndarray, converged: np.ndarray, n_iter: np.ndarray,
    at_limit: np.ndarray, enough: np.ndarray,
) -> None:  # fmt: skip
    """The fallback (engine docstring), in place: on the curves LM did not converge on or
    whose step limit beats LM's optimum."""
    resid_fn, jac_fn, ctx, n_rows = ev
    m, n = data[0].shape
    cands = np.empty((4, 5, n))
    crss = np.full((4, n), np.inf)
    cconv = np.zeros((4, n), dtype=bool)
    tp = np.empty((7, m, n))
    rows = np.empty((n_rows, m, n))
    p = np.empty((5, n))
    natural(theta, free_idx, logmask, fixrow, p)
    xt, lxt, yt, wt, swt = data
    crss[2] = step_check(
        fam.shape, fam.h_inv, xt, lxt, yt, wt, swt, fixmask, fixrow, p, tp, rows, cands[2]
    )
    idx = np.flatnonzero(enough & (~converged | (crss[2] < rss * (1.0 - 1e-10))))
    if not idx.size:
        return
    xt, lxt, yt, wt, swt = (a[:, idx] for a in data)
    fix, p, cands, crss, cconv = (
        fixrow[:, idx],
        p[:, idx],
        cands[..., idx],
        crss[:, idx],
        cconv[:, idx],
    )
    tp, rows = tp[..., idx], rows[..., idx]

    natural(theta[:, idx], free_idx, logmask, fix, cands[0])
    th = np.empty((theta.shape[0], idx.size))
    to_theta(cands[0], free_idx, logmask, th)  # as the compiled path: via natural parameters
    th, crss[0], cconv[0], iters, _ = levenberg_marquardt(
        resid_fn, jac_fn, ctx, (xt, lxt, yt, swt), th, fix, free_idx, logmask,
        target=crss[2], n_rows=n_rows, max_iter=RESCUE_ITER,
    )  # fmt: skip
    natural(th, free_idx, logmask, fix, cands[0])
    crss[3], start3 = power_check(
        fam.shape, fam.tail, xt, lxt, yt, wt, swt, fixmask, cands[0], lrange[0][idx],
        lrange[1][idx], tp, rows, cands[3],
    )  # fmt: skip
    cconv[3] = True
    sub3 = np.flatnonzero(start3)
    if sub3.size:  # γ near 0: LM from the matched piece
        th3 = np.empty((th.shape[0], sub3.size))
        c3 = cands[3][:, sub3]
        to_theta(c3, free_idx, logmask, th3)
        th3, crss[3, sub3], cconv[3, sub3], i3, _ = levenberg_marquardt(
            resid_fn, jac_fn, ctx, (xt[:, sub3], lxt[:, sub3], yt[:, sub3], swt[:, sub3]), th3,
            fix[:, sub3], free_idx, logmask, n_rows=n_rows, max_iter=RESCUE_ITER,
        )  # fmt: skip
        natural(th3, free_idx, logmask, fix[:, sub3], c3)
        cands[3][:, sub3] = c3
        iters[sub3] += i3
    # LM from the best step eased to a moderate slope, unless the continued LM already
    # crept to that step (then it would too)
    sub = np.flatnonzero(np.isfinite(crss[2]) & (crss[0] > crss[2] * (1.0 + 1e-7)))
    if sub.size and not (fixmask[0] or fixmask[3]):
        c1 = np.empty((5, sub.size))
        step_limit(
            fam.shape, fam.h_inv, xt[:, sub], lxt[:, sub], yt[:, sub], wt[:, sub], fixmask,
            fix[:, sub], p[:, sub], tp[..., sub], STEP_START_U, c1,
        )  # fmt: skip
        th1 = np.empty((th.shape[0], sub.size))
        to_theta(c1, free_idx, logmask, th1)
        th1, crss[1, sub], cconv[1, sub], i1, _ = levenberg_marquardt(
            resid_fn, jac_fn, ctx, (xt[:, sub], lxt[:, sub], yt[:, sub], swt[:, sub]), th1,
            fix[:, sub], free_idx, logmask, target=crss[2, sub], n_rows=n_rows,
            max_iter=RESCUE_ITER,
        )  # fmt: skip
        natural(th1, free_idx, logmask, fix[:, sub], c1)
        cands[1][:, sub] = c1
        iters[sub] += i1
    cconv[2] = True
    th_new = np.empty_like(th)
    r, c, lim = rescue_pick(
        cands, crss, cconv, free_idx, logmask, bounds[0][:, idx], bounds[1][:, idx], th_new
    )
    theta[:, idx] = th_new
    rss[idx], converged[idx], at_limit[idx] = r, c, lim
    n_iter[idx] += iters
