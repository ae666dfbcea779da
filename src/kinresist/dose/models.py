"""Dose-response models in the drc parameterisation, declared lifelines-style.

Each model declares only its equation, its analytic Jacobian, the parameters the
optimiser sees on the log scale and (optionally) closed forms for effective doses.
The batch engine (:mod:`kinresist.dose.engine`) does the fitting, uncertainty and
flags for every model the same way.

All functions take ``x`` of shape ``(n_curves, n_points)`` and parameters as a
mapping name -> array broadcastable to ``(n_curves, 1)``. Dose 0 is allowed: for
the log-dose models ``log 0 = -inf`` and ``f(0)`` is the limit (``d`` for a
decreasing curve), with zero derivative with respect to ``b`` and ``e``.

Parameter names (drc letter in brackets): ``hill`` (b), ``bottom`` (c), ``top``
(d), ``ec50`` (e), ``asymmetry`` (f).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
from scipy.special import expit

__all__ = [
    "DRC_LETTERS",
    "MODELS",
    "LogDoseModel",
    "Model",
    "ModelSpec",
    "get_model",
]

Params = Mapping[str, np.ndarray]

#: kinresist name -> drc letter
DRC_LETTERS = {"hill": "b", "bottom": "c", "top": "d", "ec50": "e", "asymmetry": "f"}


class Model:
    """Base class: a model declares ``param_names``, :meth:`f` and :meth:`jacobian`.

    Attributes
    ----------
    name
        Model family name (``"LL.4"``).
    param_names
        All parameters in output order.
    log_params
        Parameters the optimiser works with on the natural-log scale (positivity,
        conditioning); estimates and SEs are always reported on the natural scale.
    formula
        The equation in words, for reports.
    """

    name: str = ""
    param_names: tuple[str, ...] = ()
    log_params: frozenset[str] = frozenset()
    formula: str = ""

    def f(self, x: np.ndarray, p: Params) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def jacobian(self, x: np.ndarray, p: Params) -> dict[str, np.ndarray]:  # pragma: no cover
        raise NotImplementedError

    def self_start(self, x: np.ndarray, y: np.ndarray, w: np.ndarray) -> dict[str, np.ndarray]:
        """Starting values, each of shape ``(n_curves,)``. ``w`` is 0 for missing points."""
        raise NotImplementedError  # pragma: no cover

    def alternative_starts(
        self, x: np.ndarray, y: np.ndarray, w: np.ndarray, start: dict[str, np.ndarray]
    ) -> list[dict[str, np.ndarray]]:
        """Extra starting points for multi-start (default: none)."""
        return []

    # effective doses -------------------------------------------------------------
    def ed_relative(self, p: Params, level: float) -> np.ndarray:
        """Dose at which the response moved ``level`` % of the way from top to bottom."""
        msg = f"model {self.name} has no relative ED"
        raise NotImplementedError(msg)

    def inverse(self, y: float | np.ndarray, p: Params) -> np.ndarray:
        """Dose at which the fitted response equals ``y`` (NaN where not reached)."""
        msg = f"model {self.name} has no inverse"
        raise NotImplementedError(msg)


def _log_dose(x: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log(np.where(x > 0, x, 0.0))


class LogDoseModel(Model):
    """``f = c + (d - c)·h(u)`` with ``u = b·(log x − log e)``; subclasses give ``h`` and ``h'``."""

    param_names = ("hill", "bottom", "top", "ec50")
    log_params = frozenset({"ec50"})

    def h(self, u: np.ndarray, p: Params) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def dh(self, u: np.ndarray, p: Params) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def _u(self, x: np.ndarray, p: Params) -> tuple[np.ndarray, np.ndarray]:
        b = np.asarray(p["hill"])
        lx = _log_dose(x)
        dl = np.where(x > 0, lx - np.log(p["ec50"]), 0.0)
        with np.errstate(invalid="ignore", over="ignore"):
            u = np.where(x > 0, b * dl, -np.sign(b) * np.inf)
        return u, dl

    def f(self, x: np.ndarray, p: Params) -> np.ndarray:
        u, _ = self._u(x, p)
        return p["bottom"] + (p["top"] - p["bottom"]) * self.h(u, p)

    def jacobian(self, x: np.ndarray, p: Params) -> dict[str, np.ndarray]:
        u, dl = self._u(x, p)
        h = self.h(u, p)
        span = p["top"] - p["bottom"]
        du = np.where(np.isfinite(u), span * self.dh(u, p), 0.0)
        b = np.asarray(p["hill"])
        e = np.asarray(p["ec50"])
        jac = {
            "hill": du * dl,
            "bottom": 1.0 - h,
            "top": h,
            "ec50": -du * b / e,
        }
        return jac

    # -- self-start (drc llogistic.ssf-like: asymptotes from the data, b and e by
    #    linear regression of the logit-transformed response on log dose) ---------
    def _linearise(self, z: np.ndarray) -> np.ndarray:
        """Transform ``(y - c)/(d - c)`` in (0, 1) to a quantity linear in ``u``."""
        return np.log((1.0 - z) / z)  # log-logistic: h = 1/(1+exp(u))

    def self_start(self, x: np.ndarray, y: np.ndarray, w: np.ndarray) -> dict[str, np.ndarray]:
        obs = w > 0
        with np.errstate(invalid="ignore"):
            ymin = np.nanmin(np.where(obs, y, np.inf), axis=1)
            ymax = np.nanmax(np.where(obs, y, -np.inf), axis=1)
        rng = np.maximum(ymax - ymin, 1e-12 * np.maximum(np.abs(ymax), 1.0))
        pos = obs & (x > 0)
        lx = np.where(pos, _log_dose(x), 0.0)
        npos = pos.sum(axis=1)
        # direction: correlation of y with log dose over the positive doses
        mlx = lx.sum(axis=1) / np.maximum(npos, 1)
        my = np.where(pos, y, 0.0).sum(axis=1) / np.maximum(npos, 1)
        cov = np.where(pos, (lx - mlx[:, None]) * (np.where(pos, y, 0.0) - my[:, None]), 0).sum(1)
        decreasing = cov <= 0
        pad = 0.05 * rng
        top = ymax + pad
        bottom = ymin - pad
        fill = 0.5 * (top + bottom)[:, None]
        z = (np.where(obs, y, fill) - bottom[:, None]) / (top - bottom)[:, None]
        z = np.clip(z, 1e-3, 1 - 1e-3)
        lin = self._linearise(z)
        # least squares lin = b*log x - b*log e over the positive doses
        wt = pos.astype(float)
        sw = wt.sum(axis=1)
        mx = (wt * lx).sum(axis=1) / np.maximum(sw, 1)
        ml = (wt * lin).sum(axis=1) / np.maximum(sw, 1)
        sxx = (wt * (lx - mx[:, None]) ** 2).sum(axis=1)
        sxl = (wt * (lx - mx[:, None]) * (lin - ml[:, None])).sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            slope = sxl / sxx
        sign = np.where(decreasing, 1.0, -1.0) * self._decreasing_sign()
        ok = np.isfinite(slope) & (np.abs(slope) > 1e-2)
        slope = np.where(ok, slope, sign)
        slope = np.clip(slope, -20, 20)
        lmin, lmax = self._log_range(x, pos)
        loge = np.clip(np.where(np.isfinite(loge), loge, 0.5 * (lmin + lmax)), lmin - 1, lmax + 1)
        return {"hill": slope, "bottom": bottom, "top": top, "ec50": np.exp(loge)}

    def _decreasing_sign(self) -> float:
        return 1.0

    @staticmethod
    def _log_range(x: np.ndarray, pos: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        lx = _log_dose(x)
        lmin = np.min(np.where(pos, lx, np.inf), axis=1)
        lmax = np.max(np.where(pos, lx, -np.inf), axis=1)
        lmin = np.where(np.isfinite(lmin), lmin, 0.0)
        lmax = np.where(np.isfinite(lmax), lmax, 0.0)
        return lmin, lmax

    def alternative_starts(
        self, x: np.ndarray, y: np.ndarray, w: np.ndarray, start: dict[str, np.ndarray]
    ) -> list[dict[str, np.ndarray]]:
        pos = (w > 0) & (x > 0)
        lmin, lmax = self._log_range(x, pos)
        out = []
        for frac, bscale in ((0.25, 0.5), (0.75, 2.0), (0.5, 1.0)):
            alt = dict(start)
            alt["ec50"] = np.exp(lmin + frac * (lmax - lmin))
            alt["hill"] = start["hill"] * bscale
            out.append(alt)
        return out


class LL4(LogDoseModel):
    """Four-parameter log-logistic (drc ``LL.4``; Prism variable slope with HillSlope = −b)."""

    name = "LL.4"
    formula = "c + (d - c) / (1 + exp(b (log x - log e)))"

    def h(self, u: np.ndarray, p: Params) -> np.ndarray:
        return expit(-u)

    def dh(self, u: np.ndarray, p: Params) -> np.ndarray:
        s = expit(-u)
        return -s * (1.0 - s)

    def ed_relative(self, p: Params, level: float) -> np.ndarray:
        q = level / 100.0
        return np.asarray(p["ec50"]) * (q / (1.0 - q)) ** (1.0 / np.asarray(p["hill"]))

    def inverse(self, y: float | np.ndarray, p: Params) -> np.ndarray:
        c, d = np.asarray(p["bottom"]), np.asarray(p["top"])
        with np.errstate(invalid="ignore", divide="ignore"):
            ratio = (d - c) / (np.asarray(y) - c) - 1.0
            x = np.asarray(p["ec50"]) * ratio ** (1.0 / np.asarray(p["hill"]))
        inside = (np.asarray(y) - c) * (np.asarray(y) - d) < 0
        return np.where(inside & (ratio > 0), x, np.nan)


class LL5(LogDoseModel):
    """Five-parameter generalised log-logistic (drc ``LL.5``); ``e`` is not the ED50 if f ≠ 1."""

    name = "LL.5"
    param_names = ("hill", "bottom", "top", "ec50", "asymmetry")
    log_params = frozenset({"ec50", "asymmetry"})
    formula = "c + (d - c) / (1 + exp(b (log x - log e)))^f"

    def h(self, u: np.ndarray, p: Params) -> np.ndarray:
        return np.exp(-np.asarray(p["asymmetry"]) * np.logaddexp(0.0, u))

    def dh(self, u: np.ndarray, p: Params) -> np.ndarray:
        f = np.asarray(p["asymmetry"])
        return -f * self.h(u, p) * expit(u)

    def jacobian(self, x: np.ndarray, p: Params) -> dict[str, np.ndarray]:
        jac = super().jacobian(x, p)
        u, _ = self._u(x, p)
        span = p["top"] - p["bottom"]
        lq = np.where(np.isfinite(u), np.logaddexp(0.0, u), np.where(u > 0, np.inf, 0.0))
        jac["asymmetry"] = np.where(np.isfinite(lq), -span * self.h(u, p) * lq, 0.0)
        return jac

    def self_start(self, x: np.ndarray, y: np.ndarray, w: np.ndarray) -> dict[str, np.ndarray]:
        s = super().self_start(x, y, w)
        s["asymmetry"] = np.ones_like(s["hill"])
        return s

    def alternative_starts(
        self, x: np.ndarray, y: np.ndarray, w: np.ndarray, start: dict[str, np.ndarray]
    ) -> list[dict[str, np.ndarray]]:
        out = super().alternative_starts(x, y, w, start)
        for fval in (0.5, 2.0):
            alt = dict(start)
            alt["asymmetry"] = np.full_like(start["hill"], fval)
            out.append(alt)
        return out

    def ed_relative(self, p: Params, level: float) -> np.ndarray:
        q = level / 100.0
        f = np.asarray(p["asymmetry"])
        inner = (1.0 / (1.0 - q)) ** (1.0 / f) - 1.0
        return np.asarray(p["ec50"]) * inner ** (1.0 / np.asarray(p["hill"]))

    def inverse(self, y: float | np.ndarray, p: Params) -> np.ndarray:
        c, d = np.asarray(p["bottom"]), np.asarray(p["top"])
        f = np.asarray(p["asymmetry"])
        with np.errstate(invalid="ignore", divide="ignore"):
            inner = ((d - c) / (np.asarray(y) - c)) ** (1.0 / f) - 1.0
            x = np.asarray(p["ec50"]) * inner ** (1.0 / np.asarray(p["hill"]))
        inside = (np.asarray(y) - c) * (np.asarray(y) - d) < 0
        return np.where(inside & (inner > 0), x, np.nan)


class W14(LogDoseModel):
    """Weibull type 1 (drc ``W1.4``)."""

    name = "W1.4"
    formula = "c + (d - c) exp(-exp(b (log x - log e)))"

    def h(self, u: np.ndarray, p: Params) -> np.ndarray:
        return np.exp(-np.exp(np.minimum(u, 700.0)))

    def dh(self, u: np.ndarray, p: Params) -> np.ndarray:
        eu = np.exp(np.minimum(u, 700.0))
        return -eu * np.exp(-eu)

    def _linearise(self, z: np.ndarray) -> np.ndarray:
        return np.log(-np.log(z))

    def ed_relative(self, p: Params, level: float) -> np.ndarray:
        q = level / 100.0
        return np.asarray(p["ec50"]) * (-np.log(1.0 - q)) ** (1.0 / np.asarray(p["hill"]))

    def inverse(self, y: float | np.ndarray, p: Params) -> np.ndarray:
        c, d = np.asarray(p["bottom"]), np.asarray(p["top"])
        with np.errstate(invalid="ignore", divide="ignore"):
            z = (np.asarray(y) - c) / (d - c)
            x = np.asarray(p["ec50"]) * (-np.log(z)) ** (1.0 / np.asarray(p["hill"]))
        return np.where((z > 0) & (z < 1), x, np.nan)


class W24(LogDoseModel):
    """Weibull type 2 (drc ``W2.4``; b < 0 for decreasing data)."""

    name = "W2.4"
    formula = "c + (d - c) (1 - exp(-exp(b (log x - log e))))"

    def h(self, u: np.ndarray, p: Params) -> np.ndarray:
        return -np.expm1(-np.exp(np.minimum(u, 700.0)))

    def dh(self, u: np.ndarray, p: Params) -> np.ndarray:
        eu = np.exp(np.minimum(u, 700.0))
        return eu * np.exp(-eu)

    def _linearise(self, z: np.ndarray) -> np.ndarray:
        return np.log(-np.log(1.0 - z))

    def _decreasing_sign(self) -> float:
        return -1.0

    def ed_relative(self, p: Params, level: float) -> np.ndarray:
        # drc: for W2 the ED is measured from d towards c as well
        q = level / 100.0
        return np.asarray(p["ec50"]) * (-np.log(q)) ** (1.0 / np.asarray(p["hill"]))

    def inverse(self, y: float | np.ndarray, p: Params) -> np.ndarray:
        c, d = np.asarray(p["bottom"]), np.asarray(p["top"])
        with np.errstate(invalid="ignore", divide="ignore"):
            z = 1.0 - (np.asarray(y) - c) / (d - c)
            x = np.asarray(p["ec50"]) * (-np.log(z)) ** (1.0 / np.asarray(p["hill"]))
        return np.where((z > 0) & (z < 1), x, np.nan)


@dataclass(frozen=True)
class ModelSpec:
    """A named model: a family plus parameters fixed by the name (``LL.3`` = LL.4 with c = 0)."""

    name: str
    family: Model
    fixed: Mapping[str, float] = field(default_factory=dict)
    description: str = ""


MODELS: dict[str, ModelSpec] = {
    "LL.4": ModelSpec("LL.4", LL4(), {}, "log-logistic, 4 parameters"),
    "LL.3": ModelSpec("LL.3", LL4(), {"bottom": 0.0}, "log-logistic, lower limit 0"),
    "LL.3u": ModelSpec("LL.3u", LL4(), {"top": 1.0}, "log-logistic, upper limit 1"),
    "LL.2": ModelSpec("LL.2", LL4(), {"bottom": 0.0, "top": 1.0}, "log-logistic, limits 0 and 1"),
    "LL.5": ModelSpec("LL.5", LL5(), {}, "generalised log-logistic, 5 parameters"),
    "W1.4": ModelSpec("W1.4", W14(), {}, "Weibull type 1, 4 parameters"),
    "W2.4": ModelSpec("W2.4", W24(), {}, "Weibull type 2, 4 parameters"),
}


def get_model(model: str | Model | ModelSpec) -> ModelSpec:
    """Look up a model by drc name (``LL.4``, ``LL.3``, ``LL.3u``, ``LL.2``, ``LL.5``, ``W1.4``, ``W2.4``)
    or wrap a user-declared :class:`Model`."""
    if isinstance(model, ModelSpec):
        return model
    if isinstance(model, Model):
        return ModelSpec(model.name, model, {})
    key = str(model).strip()
    for name, spec in MODELS.items():
        if name.lower() == key.lower():
            return spec
    msg = f"unknown dose-response model {model!r}; expected one of {', '.join(MODELS)}"
    raise ValueError(msg)
