"""Covariance of batch fits: ``jtj`` (Gauss-Newton, s²(JᵀWJ)⁻¹) and ``hessian``
(observed information, 2s²H⁻¹ with H the Hessian of the RSS in the natural parameters,
as R drc); ill-conditioning detection. Internal module of the batch engine.
"""

from __future__ import annotations

import numpy as np

from kinresist.dose.lm import Problem
from kinresist.dose.models import DoseArray

__all__ = ["covariance"]


def covariance(
    prob: Problem,
    x: DoseArray,
    y: np.ndarray,
    w: np.ndarray,
    p: dict[str, np.ndarray],
    s2: np.ndarray,
    method: str,
) -> tuple[np.ndarray, np.ndarray]:
    """Covariance of the free parameters (natural scale) and an ill-conditioning flag."""
    model = prob.model
    free = prob.free
    k = len(free)
    tr = bool(getattr(model, "transposable", False))
    if tr:  # (points, curves) layout: faster reductions
        x = DoseArray(x.x.T, x.lx.T, x.pos.T)
        y, w = np.ascontiguousarray(y.T), np.ascontiguousarray(w.T)
        p = {nm: np.asarray(v).T for nm, v in p.items()}
    sp = "ij,ij->j" if tr else "ij,ij->i"
    with np.errstate(over="ignore", invalid="ignore"):
        jac = model.jacobian(x, p)
        cols = [np.broadcast_to(jac[nm], y.shape) for nm in free]
        wcols = [w * c for c in cols]
        a = np.empty((y.shape[1] if tr else y.shape[0], k, k))
        for i in range(k):
            for j in range(i + 1):
                a[:, i, j] = a[:, j, i] = np.einsum(sp, wcols[i], cols[j])
        if method == "hessian":
            wr = w * (y - model.f(x, p))
            hcorr = np.zeros_like(a)
            for j, name in enumerate(free):
                h = 1e-5 * np.maximum(np.abs(p[name]), 1e-3)
                plus = dict(p)
                minus = dict(p)
                plus[name] = p[name] + h
                minus[name] = p[name] - h
                jp = model.jacobian(x, plus)
                jn = model.jacobian(x, minus)
                for i, nm in enumerate(free):
                    d2 = (jp[nm] - jn[nm]) / (2 * h)
                    hcorr[:, i, j] = np.einsum(sp, wr, np.broadcast_to(d2, y.shape))
            hmat = a - 0.5 * (hcorr + hcorr.transpose(0, 2, 1))
        else:
            hmat = a
    n = hmat.shape[0]
    cov = np.full((n, k, k), np.nan)
    bad = np.zeros(n, dtype=bool)
    finite = np.isfinite(hmat).all(axis=(1, 2))
    bad |= ~finite
    idx = np.flatnonzero(finite)
    if idx.size:
        hm = hmat[idx]
        d = np.sqrt(np.abs(np.einsum("nii->ni", hm)))
        d = np.where(d > 0, d, 1.0)
        scaled = hm / d[:, :, None] / d[:, None, :]
        eig = np.linalg.eigvalsh(scaled)
        ill = (eig[:, 0] <= 0) | (eig[:, 0] < 1e-10 * eig[:, -1])
        good = idx[~ill]
        bad[idx[ill]] = True
        if good.size:
            inv = np.linalg.inv(scaled[~ill]) / d[~ill][:, :, None] / d[~ill][:, None, :]
            cov[good] = inv * s2[good, None, None]
    return cov, bad
