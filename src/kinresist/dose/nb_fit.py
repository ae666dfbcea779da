"""The compiled (numba) backend: the engine's dialect functions compiled per curve.

Nothing here restates the algorithm: the starts (:mod:`~kinresist.dose.curve_starts`),
the LM iteration (:mod:`~kinresist.dose.lm`), the fallback
(:mod:`~kinresist.dose.limits`) and the covariance (:mod:`~kinresist.dose.covariance`)
are the functions the NumPy backend runs vectorised, registered with numba by
:func:`kinresist.dose._dialect.register_numba` and compiled with scalars for one curve.
This module only loops: curves in parallel (``prange`` over blocks of 128 curves; each
curve's result depends on its own data only, so the output is deterministic and
independent of the thread count) and, per curve, LM until it stops. The kernels release
the GIL, so the caller's other threads (the streaming fit builds one batch's tables while
the next batch is fitted) run beside them.

One kernel per model family (:func:`kernel_for`), built from the family's ``shape``,
``h_inv`` and ``tail``; compiled on first use and cached on disk by numba
(``cache=True``). The cache key includes a hash of the dialect modules' sources, so an
edited model or algorithm is recompiled, not loaded stale.
Internal module: :func:`kinresist.dose.engine.fit_batch` (``backend="numba"``) is the API.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from numba import njit, prange
from numba.extending import register_jitable

from kinresist.dose import _dialect
from kinresist.dose.covariance import finish_curve
from kinresist.dose.curve_starts import choose_start, prepare_curve, to_theta
from kinresist.dose.limits import STEP_START_U, power_check, rescue_pick, step_check, step_limit
from kinresist.dose.lm import lm_iterate, lm_start, natural
from kinresist.dose.log_dose_models import CACHE_ROWS, fill_jacobian, fill_residual, grid_mean

__all__ = ["auc_kernel_for", "kernel_for"]

_dialect.register_numba()
_BLOCK = 128
_SOURCES = ("_dialect", "log_dose_models", "curve_starts", "lm", "covariance", "limits")


def _source_tag() -> str:
    h = hashlib.sha256()
    for name in _SOURCES:
        h.update(Path(__file__).with_name(f"{name}.py").read_bytes())
    return h.hexdigest()[:16]


_TAG = _source_tag()


@register_jitable(_nrt=False)
def _run_lm(
    shape,
    x,
    lx,
    y,
    sw,
    free_idx,
    logmask,
    fixrow,
    lo,
    hi,
    theta,
    p,
    pn,
    rows,
    crows,
    jac,
    wk,
    wm,
    max_iter,
    target,
):  # type: ignore[no-untyped-def]
    """LM from ``theta`` (in place) until it stops: (rss, converged, iterations, runaway)."""
    rss = lm_start(fill_residual, shape, x, lx, y, sw, free_idx, logmask, fixrow, theta, p, rows)
    if not np.isfinite(rss):
        return np.inf, False, 0, False
    lam, nu, it = 1e-3, 2.0, 0
    while True:
        rss, lam, nu, it, finished, conv, runaway = lm_iterate(
            fill_residual, fill_jacobian, shape, x, lx, y, sw, free_idx, logmask, fixrow, lo, hi,
            theta, p, pn, rows, crows, jac, wk, wm, rss, lam, nu, it, max_iter, target,
        )  # fmt: skip
        if finished:
            return rss, conv, it, runaway


@register_jitable(_nrt=False)
def _lm_from(
    shape, x, lx, y, sw, free_idx, logmask, fixrow, no_lo, no_hi, start, out, work, max_iter, target
):  # type: ignore[no-untyped-def]
    """LM without divergence limits from the natural parameters ``start``, its end point's
    natural parameters into ``out`` (``work`` = theta, p, pn, rows, crows, jac, wk, wm
    scratch): (rss, converged, iterations)."""
    theta, p, pn, rows, crows, jac, wk, wm = work
    to_theta(start, free_idx, logmask, theta)
    rss, conv, it, _ = _run_lm(
        shape, x, lx, y, sw, free_idx, logmask, fixrow, no_lo, no_hi, theta, p, pn, rows, crows,
        jac, wk, wm, max_iter, target,
    )  # fmt: skip
    natural(theta, free_idx, logmask, fixrow, out)
    return rss, conv, it


@register_jitable
def _fit_range(shape, h_inv, tail, c0, c1, data, problem, opts, outs):  # type: ignore[no-untyped-def]
    """Fit curves ``c0 .. c1 - 1`` (one thread's block); ``data`` = (x, y, w), ``problem`` =
    (fixmask, fixvals, free_idx, logmask, fracs, slopes), ``opts`` = (n_starts, max_iter,
    hessian, rescue_iter, first start run), ``outs`` = (params, rss, converged, iterations, at_limit,
    covariance, ill-conditioned)."""
    x, y, w = data
    fixmask, fixvals, free_idx, logmask, fracs, slopes = problem
    n_starts, max_iter, hessian, rescue_iter, first = opts
    out_p, out_rss, out_conv, out_iter, out_lim, out_cov, out_ill = outs
    m = y.shape[1]
    k = free_idx.shape[0]
    sw, lx, r0 = np.empty(m), np.empty(m), np.empty(m)
    tp = np.empty((7, m))
    starts = np.empty((n_starts, 5))
    thetas = np.empty((n_starts, k))
    rs = np.empty(n_starts)
    cv = np.zeros(n_starts, dtype=np.bool_)
    its = np.zeros(n_starts, dtype=np.int64)
    lims = np.zeros(n_starts, dtype=np.bool_)
    lo5, hi5, p, pn, pp = np.empty(5), np.empty(5), np.empty(5), np.empty(5), np.empty(5)
    lo, hi, theta, dvec = np.empty(k), np.empty(k), np.empty(k), np.empty(k)
    no_lo, no_hi = np.full(k, -np.inf), np.full(k, np.inf)
    rows, crows = np.empty((CACHE_ROWS, m)), np.empty((CACHE_ROWS, m))
    jac, jac2 = np.empty((5, m)), np.empty((5, m))
    wk, wm = np.empty((6, k)), np.empty((5, k, k))
    umask, user = np.zeros(5, dtype=np.bool_), np.ones(5)
    cands, crss, cconv = np.empty((4, 5)), np.empty(4), np.zeros(4, dtype=np.bool_)
    th2 = np.empty(k)
    for c in range(c0, c1):
        xc, yc, wc, fixrow = x[c], y[c], w[c], fixvals[c]
        n_obs = 0
        for t in range(m):
            sw[t] = math.sqrt(wc[t])
            lx[t] = math.log(xc[t]) if xc[t] > 0 else 0.0
            n_obs += 1 if wc[t] > 0 else 0
        enough = n_obs >= max(k, 1)
        lmin, lmax = prepare_curve(
            shape, h_inv, xc, lx, yc, wc, fixmask, fixrow, free_idx, logmask, fracs, slopes,
            umask, user, tp, starts, lo5, hi5, lo, hi, thetas,
        )  # fmt: skip
        for s in range(n_starts):
            if enough and s >= first:
                rs[s], cv[s], its[s], lims[s] = _run_lm(
                    shape, xc, lx, yc, sw, free_idx, logmask, fixrow, lo, hi, thetas[s],
                    p, pn, rows, crows, jac, wk, wm, max_iter, -np.inf,
                )  # fmt: skip
            else:
                thetas[s, :] = np.nan
                rs[s], cv[s], its[s], lims[s] = np.inf, False, 0, False
        b = choose_start(rs, cv)
        theta[:] = thetas[b]
        rss, conv, it, lim = rs[b], cv[b] and enough, its[b], lims[b]
        if rescue_iter > 0 and enough:
            natural(theta, free_idx, logmask, fixrow, pp)
            crss[2] = step_check(
                shape, h_inv, xc, lx, yc, wc, sw, fixmask, fixrow, pp, tp, rows, cands[2]
            )  # fmt: skip
            if not conv or crss[2] < rss * (1.0 - 1e-10):
                # fallback (engine docstring): LM continued without divergence limits, the
                # power-law limit (or, γ near 0, LM from the matched piece), LM from the best
                # step eased to a moderate slope; LM stops early once within 1e-7 above the
                # step limit it creeps towards
                work = (th2, p, pn, rows, crows, jac, wk, wm)
                natural(theta, free_idx, logmask, fixrow, cands[0])
                crss[0], cconv[0], ic = _lm_from(
                    shape, xc, lx, yc, sw, free_idx, logmask, fixrow, no_lo, no_hi, cands[0],
                    cands[0], work, rescue_iter, crss[2],
                )  # fmt: skip
                crss[3], start3 = power_check(
                    shape, tail, xc, lx, yc, wc, sw, fixmask, cands[0], lmin, lmax, tp, rows,
                    cands[3],
                )  # fmt: skip
                cconv[3] = True
                if start3:
                    crss[3], cconv[3], ic1 = _lm_from(
                        shape, xc, lx, yc, sw, free_idx, logmask, fixrow, no_lo, no_hi,
                        cands[3], cands[3], work, rescue_iter, -np.inf,
                    )  # fmt: skip
                    ic += ic1
                crss[1], cconv[1] = np.inf, False
                if np.isfinite(crss[2]) and crss[0] > crss[2] * (1.0 + 1e-7):
                    step_limit(
                        shape, h_inv, xc, lx, yc, wc, fixmask, fixrow, pp, tp, STEP_START_U,
                        cands[1],
                    )  # fmt: skip
                    crss[1], cconv[1], ic1 = _lm_from(
                        shape, xc, lx, yc, sw, free_idx, logmask, fixrow, no_lo, no_hi,
                        cands[1], cands[1], work, rescue_iter, crss[2],
                    )  # fmt: skip
                    ic += ic1
                cconv[2] = True
                rss, conv, lim = rescue_pick(cands, crss, cconv, free_idx, logmask, lo, hi, theta)
                it += ic
        out_rss[c], out_conv[c], out_iter[c], out_lim[c] = rss, conv, it, lim
        out_ill[c] = finish_curve(
            fill_residual, fill_jacobian, shape, xc, lx, yc, sw, theta, rss, n_obs, free_idx,
            logmask, fixrow, hessian, out_p[c], rows, r0, jac, jac2, pp, dvec, wm, out_cov[c],
        )  # fmt: skip


def _make_kernel(shape: Any, h_inv: Any, tail: Any, tag: str) -> Callable[..., None]:
    @njit(cache=True, parallel=True, error_model="numpy", nogil=True)
    def fit_curves(data, problem, opts, outs):  # type: ignore[no-untyped-def]
        """Fit every curve (rows of ``data`` = (x, y, w)); results into ``outs``."""
        _ = tag  # source hash: part of numba's cache key (closure)
        n = data[1].shape[0]
        for blk in prange((n + _BLOCK - 1) // _BLOCK):
            c0, c1 = blk * _BLOCK, min(n, (blk + 1) * _BLOCK)
            _fit_range(shape, h_inv, tail, c0, c1, data, problem, opts, outs)

    return fit_curves  # type: ignore[no-any-return]


def _make_auc_kernel(shape: Any, h_int: Any, tag: str) -> Callable[..., None]:
    @njit(cache=True, parallel=True, error_model="numpy", nogil=True)
    def mean_curves(p, lo10, hi10, n_grid, out):  # type: ignore[no-untyped-def]
        """:func:`~kinresist.dose.log_dose_models.grid_mean` of every curve (rows of p)."""
        _ = tag
        for c in prange(p.shape[0]):
            out[c] = grid_mean(shape, h_int, p[c], lo10[c], hi10[c], n_grid)

    return mean_curves  # type: ignore[no-any-return]


_KERNELS: dict[type, Callable[..., None]] = {}
_AUC_KERNELS: dict[type, Callable[..., None]] = {}


def kernel_for(family: Any) -> Callable[..., None]:
    """The compiled kernel of a log-dose family (built once per process)."""
    cls = type(family)
    if cls not in _KERNELS:
        _KERNELS[cls] = _make_kernel(cls.shape, cls.h_inv, cls.tail, _TAG)
    return _KERNELS[cls]


def auc_kernel_for(family: Any) -> Callable[..., None]:
    """The compiled curve-mean (AUC) kernel of a log-dose family."""
    cls = type(family)
    if cls not in _AUC_KERNELS:
        _AUC_KERNELS[cls] = _make_auc_kernel(cls.shape, cls.h_int, _TAG)
    return _AUC_KERNELS[cls]
