"""The log-dose model family of drc: LL.4 / LL.5 / W1.4 / W2.4 (and, by fixing
parameters, LL.3, LL.3u, LL.2), each declared once.

``f = c + (d − c)·h(u)`` with ``u = b·(log x − log e)``. A model declares three small
functions in the engine's dialect (:mod:`kinresist.dose._dialect`), which both backends
use as they are (NumPy, vectorised) or compiled (numba):

* ``shape(u, t, f) -> (h, 1 − h, dh/du, dh/df)`` with ``t = exp(min(u, 700))`` given (the
  start grid gets ``t`` for several slopes from one exponential): the shape function, its
  complement
  (computed without cancellation: the fitted value is ``c + (d − c)·h`` where h ≤ ½ and
  ``d − (d − c)·(1 − h)`` elsewhere, exact also for curves far out on a tail) and its
  derivatives (``dh/df`` is 0 for the four-parameter families);
* ``h_inv(z, f)``: the ``u`` at which ``h = z`` (the self-start's linearisation and the
  placement of limit curves);
* ``tail(f)``: ``s`` in ``h(u) ≈ h(−∞) + s·e^u`` for ``u → −∞`` (an EC50 running out of
  the tested range makes the curve a power law of the dose);

plus closed forms for effective doses. Everything else — Jacobian, self-start, start
grid, divergence limits, limit curves, fitting and covariance — is shared
(:mod:`kinresist.dose.curve_starts`, :mod:`kinresist.dose.limits`,
:mod:`kinresist.dose.lm`, :mod:`kinresist.dose.covariance`). Dose 0 is allowed:
``log 0 = −inf`` and ``f(0)`` is the limit (``d`` for a decreasing curve), with zero
derivative with respect to ``b`` and ``e``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from kinresist.dose._dialect import dot, full, hot, kernel, points, sel
from kinresist.dose.model_base import DoseArray, DoseInput, Model, Params

__all__ = [
    "CACHE_ROWS",
    "FAMILY_PARAMS",
    "LL4",
    "LL5",
    "W14",
    "W24",
    "LogDoseModel",
    "fill_jacobian",
    "fill_residual",
    "grid_mean",
    "ninf_u",
    "value",
]

#: slot order of the parameter vector every log-dose kernel works with
FAMILY_PARAMS = ("hill", "bottom", "top", "ec50", "asymmetry")
#: point rows of the residual cache (residual, h, 1 − h, dh/du, dh/df)
CACHE_ROWS = 5


@hot
def ninf_u(b: Any) -> Any:
    """``u`` at dose 0: ``−sign(b)·inf`` (NaN for b = 0)."""
    return sel(b > 0, -np.inf, sel(b < 0, np.inf, np.nan))


@hot
def value(c, d, h, g):  # type: ignore[no-untyped-def]
    """``c + (d − c)·h`` evaluated from the nearer asymptote (``g = 1 − h``)."""
    return sel(h <= 0.5, c + (d - c) * h, d - (d - c) * g)


@hot
def jac_terms(pos, lx, h, g, dh, dhf, b, c, d, e, le):  # type: ignore[no-untyped-def]
    """∂f/∂(b, c, d, e, f) at points with shape values ``h, g, dh, dhf`` (natural scale;
    at dose 0 every family has dh = 0: the curve sits on its asymptote)."""
    span = d - c
    du = span * dh
    return du * sel(pos, lx - le, 0.0), g, h, -du * b / e, span * dhf


@hot
def fill_residual(shape, x, lx, y, sw, p, rows):  # type: ignore[no-untyped-def]
    """Weighted residuals into ``rows[0]`` and the shape cache (h, 1 − h, dh/du, dh/df)
    into ``rows[1:5]``; returns the RSS (inf if not finite). ``p`` = (b, c, d, e, f)."""
    b, c, d, f = p[0], p[1], p[2], p[4]
    le = np.log(p[3])
    u0 = ninf_u(b)
    for i in points(x.shape[0]):
        u = sel(x[i] > 0, b * (lx[i] - le), u0)
        h, g, dh, dhf = shape(u, np.exp(np.minimum(u, 700.0)), f)
        rows[1, i] = h
        rows[2, i] = g
        rows[3, i] = dh
        rows[4, i] = dhf
        rows[0, i] = sw[i] * (y[i] - value(c, d, h, g))
    rss = dot(rows[0], rows[0])
    return sel(np.isfinite(rss), rss, np.inf)


@hot
def fill_jacobian(shape, x, lx, sw, p, rows, free_idx, jac):  # type: ignore[no-untyped-def]
    """Weighted natural-scale Jacobian of every parameter slot into ``jac`` (5, points),
    from the shape cache :func:`fill_residual` left in ``rows`` at the same ``p``
    (``shape`` and ``free_idx`` are unused: they keep the evaluator signature)."""
    b, c, d, e = p[0], p[1], p[2], p[3]
    le = np.log(e)
    for i in points(x.shape[0]):
        h, g, dh, dhf = rows[1, i], rows[2, i], rows[3, i], rows[4, i]
        j0, j1, j2, j3, j4 = jac_terms(x[i] > 0, lx[i], h, g, dh, dhf, b, c, d, e, le)
        s = sw[i]
        jac[0, i] = s * j0
        jac[1, i] = s * j1
        jac[2, i] = s * j2
        jac[3, i] = s * j3
        jac[4, i] = s * j4


@kernel
def grid_mean(shape, h_int, p, lo10, hi10, n_grid):  # type: ignore[no-untyped-def]
    """Mean of the curve ``p`` over log10 dose in [lo10, hi10] (the normalised AUC of
    :func:`~kinresist.dose.metrics.auc_metrics`): exact where the family declares the
    antiderivative ``h_int`` of its shape function (LL.4), else Simpson's rule on
    ``n_grid`` (odd) equally spaced points."""
    b, c, d, f = p[0], p[1], p[2], p[4]
    le = np.log(p[3])
    ln10 = np.log(10.0)
    u0 = b * (lo10 * ln10 - le)
    u1 = b * (hi10 * ln10 - le)
    exact = h_int(u1, f) - h_int(u0, f)
    if np.isfinite(h_int(0.0, 1.0)):
        um = 0.5 * (u0 + u1)
        flat = np.abs(u1 - u0) < 1e-9
        hm, gm, _, _ = shape(um, np.exp(np.minimum(um, 700.0)), f)
        hbar = sel(flat, hm, exact / sel(flat, 1.0, u1 - u0))
        return value(c, d, hbar, sel(flat, gm, 1.0 - hbar))
    last = n_grid - 1
    acc = full(b, 0.0)
    for j in range(n_grid):
        lx = (lo10 + (hi10 - lo10) * (j / last)) * ln10
        u = b * (lx - le)
        h, g, _, _ = shape(u, np.exp(np.minimum(u, 700.0)), f)
        wt = 1.0 if (j == 0 or j == last) else (4.0 if j % 2 == 1 else 2.0)
        acc = acc + wt * value(c, d, h, g)
    return acc / (3.0 * last)


class LogDoseModel(Model):
    """``f = c + (d − c)·h(u)``, ``u = b·(log x − log e)``; a family declares
    ``shape``, ``h_inv``, ``tail`` (dialect functions) and closed-form EDs."""

    param_names: tuple[str, ...] = ("hill", "bottom", "top", "ec50")
    log_params: frozenset[str] = frozenset({"ec50"})

    #: slope multipliers and number of EC50 values of the variable-projection start grid
    GRID_SLOPES = (0.5, 1.0, 2.0, 4.0)
    GRID_EC50 = 6

    @staticmethod
    def shape(u: Any, t: Any, f: Any) -> tuple[Any, Any, Any, Any]:  # pragma: no cover
        raise NotImplementedError

    @staticmethod
    def h_inv(z: Any, f: Any) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    @staticmethod
    def tail(f: Any) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    @staticmethod
    @kernel
    def h_int(u, f):  # type: ignore[no-untyped-def]
        """An antiderivative of ``h`` in ``u`` (NaN: none in closed form; the curve mean
        then uses Simpson's rule)."""
        return np.nan + 0.0 * u

    # -- effective doses, from h⁻¹ (drc's closed forms, e.g. LL.4 EDp = e·(p/(100−p))^(1/b)) --
    def ed_relative(self, p: Params, level: float) -> np.ndarray:
        """Dose at which the response moved ``level`` % of the way from d to c."""
        return self.inverse_fraction(1.0 - level / 100.0, p)

    def inverse(self, y: float | np.ndarray, p: Params) -> np.ndarray:
        """Dose at which the fitted response equals ``y`` (NaN where not reached)."""
        c, d = np.asarray(p["bottom"]), np.asarray(p["top"])
        with np.errstate(invalid="ignore", divide="ignore"):
            z = (np.asarray(y) - c) / (d - c)
        return np.where((z > 0) & (z < 1), self.inverse_fraction(z, p), np.nan)

    def inverse_fraction(self, z: Any, p: Params) -> np.ndarray:
        """Dose at which ``h = z``: ``e·exp(h⁻¹(z)/b)``."""
        f = np.asarray(p.get("asymmetry", 1.0), dtype=float)
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            u = self.h_inv(np.asarray(z, dtype=float), f)
            return np.asarray(p["ec50"]) * np.exp(u / np.asarray(p["hill"]))

    # -- the Model interface (any broadcastable shapes) --------------------------------
    def _point(self, x: DoseInput, p: Params) -> tuple[Any, ...]:
        xd = DoseArray.of(x)
        b = np.asarray(p["hill"], dtype=float)
        e = np.asarray(p["ec50"], dtype=float)
        f = np.asarray(p.get("asymmetry", 1.0), dtype=float)
        with np.errstate(all="ignore"):
            le = np.log(e)
            u = sel(xd.pos, b * (xd.lx - le), ninf_u(b))
            h, g, dh, dhf = self.shape(u, np.exp(np.minimum(u, 700.0)), f)
        return xd, u, h, g, dh, dhf, b, e, le

    def f(self, x: DoseInput, p: Params) -> np.ndarray:
        _, _, h, g, *_ = self._point(x, p)
        with np.errstate(all="ignore"):
            return np.asarray(value(np.asarray(p["bottom"]), np.asarray(p["top"]), h, g))

    def jacobian(self, x: DoseInput, p: Params) -> dict[str, np.ndarray]:
        xd, _u, h, g, dh, dhf, b, e, le = self._point(x, p)
        c, d = np.asarray(p["bottom"]), np.asarray(p["top"])
        with np.errstate(all="ignore"):
            jt = jac_terms(xd.pos, xd.lx, h, g, dh, dhf, b, c, d, e, le)
        shape = np.broadcast_shapes(*(np.shape(t) for t in jt))
        return {
            name: np.broadcast_to(jt[i], shape)
            for i, name in enumerate(FAMILY_PARAMS[: len(self.param_names)])
        }


class LL4(LogDoseModel):
    """Four-parameter log-logistic (drc ``LL.4``; Prism variable slope with HillSlope = −b)."""

    name = "LL.4"
    formula = "c + (d - c) / (1 + exp(b (log x - log e)))"

    @staticmethod
    @hot
    def shape(u, t, f):  # type: ignore[no-untyped-def]
        h = 1.0 / (1.0 + t)
        g = t * h  # t <= e^700: finite
        return h, g, -h * g, 0.0 * h

    @staticmethod
    @hot
    def h_inv(z, f):  # type: ignore[no-untyped-def]
        return np.log((1.0 - z) / z)

    @staticmethod
    @hot
    def tail(f):  # type: ignore[no-untyped-def]
        return -1.0 + 0.0 * f

    @staticmethod
    @kernel
    def h_int(u, f):  # type: ignore[no-untyped-def]
        return -np.logaddexp(0.0, -u)  # u - log(1 + e^u)


class LL5(LogDoseModel):
    """Five-parameter generalised log-logistic (drc ``LL.5``); ``e`` is not the ED50 if f ≠ 1."""

    name = "LL.5"
    param_names = FAMILY_PARAMS
    log_params = frozenset({"ec50", "asymmetry"})
    formula = "c + (d - c) / (1 + exp(b (log x - log e)))^f"

    @staticmethod
    @hot
    def shape(u, t, f):  # type: ignore[no-untyped-def]
        lq = np.logaddexp(0.0, u)
        h = np.exp(-f * lq)
        dhf = sel(np.isfinite(lq), -h * lq, 0.0)
        return h, -np.expm1(-f * lq), -f * h * (t / (1.0 + t)), dhf

    @staticmethod
    @hot
    def h_inv(z, f):  # type: ignore[no-untyped-def]
        return np.log(np.expm1(-np.log(z) / f))

    @staticmethod
    @hot
    def tail(f):  # type: ignore[no-untyped-def]
        return -f


@hot
def _weibull1(u, t, f):  # type: ignore[no-untyped-def]
    h = np.exp(-t)
    return h, -np.expm1(-t), -t * h, 0.0 * h


class W14(LogDoseModel):
    """Weibull type 1 (drc ``W1.4``)."""

    name = "W1.4"
    formula = "c + (d - c) exp(-exp(b (log x - log e)))"
    shape = staticmethod(_weibull1)

    @staticmethod
    @hot
    def h_inv(z, f):  # type: ignore[no-untyped-def]
        return np.log(-np.log(z))

    @staticmethod
    @hot
    def tail(f):  # type: ignore[no-untyped-def]
        return -1.0 + 0.0 * f


class W24(LogDoseModel):
    """Weibull type 2 (drc ``W2.4``; b < 0 for decreasing data): W1.4 mirrored, h₂ = 1 − h₁."""

    name = "W2.4"
    formula = "c + (d - c) (1 - exp(-exp(b (log x - log e))))"

    @staticmethod
    @hot
    def shape(u, t, f):  # type: ignore[no-untyped-def]
        h, g, dh, dhf = _weibull1(u, t, f)
        return g, h, -dh, -dhf

    @staticmethod
    @hot
    def h_inv(z, f):  # type: ignore[no-untyped-def]
        return np.log(-np.log1p(-z))  # W1.4's h⁻¹ at 1 − z

    @staticmethod
    @hot
    def tail(f):  # type: ignore[no-untyped-def]
        return 1.0 + 0.0 * f
