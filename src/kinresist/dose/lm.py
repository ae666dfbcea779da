"""Vectorised Levenberg-Marquardt core of the batch engine (no per-curve Python loop).

Internal module: :func:`kinresist.dose.engine.fit_batch` is the API.
"""

from __future__ import annotations

import numpy as np

from kinresist.dose.models import DoseArray, Model

__all__ = ["CAPACITY", "MAX_ITER", "Problem", "levenberg_marquardt"]

MAX_ITER = 300
XTOL = 1e-8
FTOL = 1e-12
GTOL = 1e-7
#: curves iterated together (cache-sized working set)
CAPACITY = 8192


class Problem:
    """Internal parameterisation of one batch: free parameters, log scales, fixed values.

    ``transposed``: arrays are laid out (points, curves) — faster for NumPy because
    per-curve parameters broadcast along the contiguous axis; models declaring
    ``transposable = True`` are pure broadcasting code and accept either layout.
    """

    def __init__(
        self, model: Model, free: list[str], fixed: dict[str, np.ndarray], transposed: bool = False
    ):
        self.model = model
        self.free = free
        self.fixed = fixed  # name -> (n, 1)
        self.is_log = [n in model.log_params for n in free]
        self.t = transposed
        self.sum_points = "ij,ij->j" if transposed else "ij,ij->i"

    def natural(self, theta: np.ndarray, rows: np.ndarray | None) -> dict[str, np.ndarray]:
        p: dict[str, np.ndarray] = {}
        with np.errstate(over="ignore"):
            for i, name in enumerate(self.free):
                v = theta[:, i][None, :] if self.t else theta[:, i : i + 1]
                p[name] = np.exp(v) if self.is_log[i] else v
        for name, v in self.fixed.items():
            vv = v if rows is None else v[rows]
            p[name] = vv.T if self.t else vv
        return p

    def residual(
        self,
        x: DoseArray,
        y: np.ndarray,
        sw: np.ndarray | None,
        theta: np.ndarray,
        rows: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Weighted residuals and RSS (inf where not finite)."""
        p = self.natural(theta, rows)
        with np.errstate(over="ignore", invalid="ignore"):
            r = y - self.model.f(x, p)
            if sw is not None:
                r = sw * r
            rss = np.einsum(self.sum_points, r, r)
        return r, np.where(np.isfinite(rss), rss, np.inf)

    def jac_cols(
        self, x: DoseArray, sw: np.ndarray | None, theta: np.ndarray, rows: np.ndarray
    ) -> list[np.ndarray]:
        """Weighted Jacobian columns with respect to the internal parameters."""
        p = self.natural(theta, rows)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            jac = self.model.jacobian(x, p)
            cols = []
            for i, name in enumerate(self.free):
                j = jac[name]
                if self.is_log[i]:
                    j = j * p[name]
                cols.append(j if sw is None else sw * j)
        return cols


def _chol_solve(m: list[list[np.ndarray]], g: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Solve the small SPD systems ``m·s = g`` for all curves at once (Cholesky over arrays).

    ``m[i][j]`` and ``g[i]`` are ``(n,)`` arrays. Returns the solution ``(k, n)`` and a
    mask of curves whose matrix was not positive definite.
    """
    k = len(g)
    low = [[np.zeros_like(g[0]) for _ in range(k)] for _ in range(k)]
    bad = np.zeros(g[0].shape, dtype=bool)
    with np.errstate(invalid="ignore", divide="ignore"):
        for j in range(k):
            acc = m[j][j].copy()
            for q in range(j):
                acc -= low[j][q] * low[j][q]
            bad |= ~(acc > 0)
            ljj = np.sqrt(np.where(acc > 0, acc, 1.0))
            low[j][j] = ljj
            for i in range(j + 1, k):
                acc2 = m[i][j].copy()
                for q in range(j):
                    acc2 -= low[i][q] * low[j][q]
                low[i][j] = acc2 / ljj
        z: list[np.ndarray] = []
        for i in range(k):
            acc = g[i].copy()
            for q in range(i):
                acc -= low[i][q] * z[q]
            z.append(acc / low[i][i])
        sol: list[np.ndarray] = [np.zeros_like(g[0])] * k
        for i in reversed(range(k)):
            acc = z[i].copy()
            for q in range(i + 1, k):
                acc -= low[q][i] * sol[q]
            sol[i] = acc / low[i][i]
    out = np.stack(sol)  # (k, n)
    out[:, bad] = 0.0
    return np.where(np.isfinite(out), out, 0.0), bad


def levenberg_marquardt(
    prob: Problem,
    x: DoseArray,
    y: np.ndarray,
    sw: np.ndarray,
    theta0: np.ndarray,
    *,
    bounds: tuple[np.ndarray, np.ndarray] | None = None,
    max_iter: int = MAX_ITER,
    capacity: int = CAPACITY,
    unit_weights: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Levenberg-Marquardt on all rows at once. Returns theta, rss, converged, n_iter, at_limit.

    Marquardt scaling (damping ``λ·diag(JᵀJ)``) with Nielsen's update of λ from the
    gain ratio. A curve stops when the MINPACK first-order test (cosine between the
    residual and every Jacobian column <= 1e-7), the relative step (<= 1e-8 of the
    parameter vector) or the relative RSS decrease (<= 1e-12) is met, or when λ exceeds
    1e14 (converged only if the first-order test holds to 1e-6).

    ``bounds`` (internal scale, ``(n, k)`` each, ±inf for none) are divergence limits:
    a curve whose parameters leave them is stopped as not converged.

    The working set is a stream: at most ``capacity`` curves are iterated together
    (cache-sized arrays) and curves that finish are replaced by waiting ones, so a
    few slow curves never keep a large batch busy.
    """
    n, k = theta0.shape
    tr = prob.t
    sp = prob.sum_points
    if tr:  # (points, curves) working layout
        x = DoseArray(x.x.T, x.lx.T, x.pos.T)
        y = np.ascontiguousarray(y.T)
        sw = np.ascontiguousarray(sw.T)

    def take_c(arr: np.ndarray, idx: np.ndarray) -> np.ndarray:
        return arr[:, idx] if tr else arr[idx]

    def cat(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.concatenate([a, b], axis=1 if tr else 0)

    def col(mask: np.ndarray) -> np.ndarray:
        return mask[None, :] if tr else mask[:, None]

    theta = theta0.copy()
    rss = np.full(n, np.inf)
    converged = np.zeros(n, dtype=bool)
    at_limit = np.zeros(n, dtype=bool)
    n_iter = np.zeros(n, dtype=np.int32)
    if bounds is None:
        bounds = (np.full((n, k), -np.inf), np.full((n, k), np.inf))
    lo_all, hi_all = bounds

    # working state of the active curves; parameters are stored (k, curves) so that
    # each parameter is a contiguous row; finished curves stay in place ("dead")
    # until a quarter of the working set is dead, then the set is compacted/refilled
    active = np.zeros(0, dtype=np.int64)
    wx = x.cols(active) if tr else x[active]
    wy, ws = take_c(y, active), take_c(sw, active)
    wt = np.zeros((k, 0))
    wr = np.zeros(0)
    wres = take_c(y, active)
    wl = np.zeros(0)
    wnu = np.zeros(0)
    wit = np.zeros(0, dtype=np.int32)
    live = np.zeros(0, dtype=bool)
    blo, bhi = np.zeros((k, 0)), np.zeros((k, 0))
    queue = 0
    while True:
        n_live = int(live.sum())
        if n_live < live.size and (
            n_live <= 0.75 * live.size or (queue < n and n_live <= 0.75 * capacity)
        ):
            keep = np.flatnonzero(live)
            active = active[keep]
            wx = wx.cols(keep) if tr else wx[keep]
            wy, ws, wres = take_c(wy, keep), take_c(ws, keep), take_c(wres, keep)
            wt, blo, bhi = wt[:, keep], blo[:, keep], bhi[:, keep]
            wr, wl, wnu, wit, live = wr[keep], wl[keep], wnu[keep], wit[keep], live[keep]
        if queue < n and n_live <= 0.75 * capacity:
            take = np.arange(queue, min(n, queue + capacity - n_live))
            queue = int(take[-1]) + 1
            tx = x.cols(take) if tr else x[take]
            ty, ts = take_c(y, take), take_c(sw, take)
            tres, trss = prob.residual(tx, ty, None if unit_weights else ts, theta[take], take)
            good = np.isfinite(trss)
            rss[take] = trss
            gi = np.flatnonzero(good)
            take, trss = take[gi], trss[gi]
            if take.size:
                tres = take_c(tres, gi)
                tx = tx.cols(gi) if tr else tx[gi]
                ty, ts = take_c(ty, gi), take_c(ts, gi)
                active = np.concatenate([active, take])
                wx = DoseArray.concat(wx, tx, axis=1 if tr else 0)
                wy = cat(wy, ty)
                ws = cat(ws, ts)
                wt = np.concatenate([wt, theta[take].T], axis=1)
                wr = np.concatenate([wr, trss])
                wres = cat(wres, tres)
                wl = np.concatenate([wl, np.full(take.size, 1e-3)])
                wnu = np.concatenate([wnu, np.full(take.size, 2.0)])
                wit = np.concatenate([wit, np.zeros(take.size, dtype=np.int32)])
                live = np.concatenate([live, np.ones(take.size, dtype=bool)])
                blo = np.concatenate([blo, lo_all[take].T], axis=1)
                bhi = np.concatenate([bhi, hi_all[take].T], axis=1)
            continue
        if n_live == 0:
            break
        wit += 1
        cols = prob.jac_cols(wx, None if unit_weights else ws, wt.T, active)
        a: list[list[np.ndarray]] = [[cols[0]] * k for _ in range(k)]
        for i in range(k):
            for j in range(i + 1):
                a[i][j] = a[j][i] = np.einsum(sp, cols[i], cols[j])
        g = [np.einsum(sp, cols[i], wres) for i in range(k)]
        with np.errstate(invalid="ignore", divide="ignore"):
            cosang = np.abs(g[0]) / np.sqrt(a[0][0] * wr)
            dmax = a[0][0]
            for i in range(1, k):
                cosang = np.fmax(cosang, np.abs(g[i]) / np.sqrt(a[i][i] * wr))
                dmax = np.fmax(dmax, a[i][i])
        cosang = np.nan_to_num(cosang, nan=0.0)
        gconv = (cosang <= GTOL) | (wr <= 1e-300)
        floor = 1e-12 * np.maximum(dmax, 1e-300)
        damp = [wl * np.maximum(a[i][i], floor) for i in range(k)]
        m = [[a[i][j] + damp[i] if i == j else a[i][j] for j in range(k)] for i in range(k)]
        step, _ = _chol_solve(m, g)
        cand = wt + step
        cres, new_rss = prob.residual(wx, wy, None if unit_weights else ws, cand.T, active)
        accept = new_rss < wr
        # gain ratio rho = actual / predicted decrease (Nielsen's damping update)
        pred = step[0] * (g[0] + damp[0] * step[0])
        snorm = step[0] * step[0]
        for i in range(1, k):
            pred += step[i] * (g[i] + damp[i] * step[i])
            snorm += step[i] * step[i]
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            rho = (wr - new_rss) / pred
        rho = np.where(np.isfinite(rho), rho, 0.0)
        old_rss = wr
        wt = np.where(accept, cand, wt)
        wres = np.where(col(accept), cres, wres)
        wr = np.where(accept, new_rss, wr)
        shrink = np.maximum(1.0 / 3.0, 1.0 - (2.0 * rho - 1.0) ** 3)
        wl = np.where(accept, np.maximum(wl * shrink, 1e-15), wl * wnu)
        wnu = np.where(accept, 2.0, wnu * 2.0)
        decrease = np.where(accept, old_rss - new_rss, 0.0)
        # MINPACK-style relative step test on the whole parameter vector
        tnorm = np.einsum("ij,ij->j", wt, wt)
        small_step = np.sqrt(snorm) <= XTOL * (np.sqrt(tnorm) + XTOL)
        small_f = decrease <= FTOL * old_rss
        done_ok = gconv | (accept & (small_step | small_f))
        stalled = (~accept) & (wl > 1e14)
        stall_ok = stalled & (cosang <= 1e-6)
        runaway = ((wt < blo) | (wt > bhi)).any(axis=0)
        done_ok &= ~runaway
        finished = (done_ok | stalled | runaway | (wit >= max_iter)) & live
        if finished.any():
            fi = np.flatnonzero(finished)
            fin = active[fi]
            theta[fin] = wt[:, fi].T
            rss[fin] = wr[fi]
            converged[fin] = np.asarray(done_ok | stall_ok)[fi]
            at_limit[fin] = np.asarray(runaway)[fi]
            n_iter[fin] = wit[fi]
            live[fi] = False
    return theta, rss, converged, n_iter, at_limit
