"""Comparing curves: fold shift of potency with delta and Fieller CIs, shared-parameter
fits and the extra-sum-of-squares F test (spec §5).

Groups are fitted jointly (drc ``pmodels``): a :class:`GroupedModel` gives every
group its own copy of each parameter except the shared ones, so the joint
covariance carries the correlation between the groups' EDs that sharing creates.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from kinresist.dose.engine import BatchFit, fit_batch
from kinresist.dose.metrics import FTest, delta_method, f_test
from kinresist.dose.models import DoseArray, Model, get_model
from kinresist.errors import InputError

__all__ = ["CompareResult", "GroupedModel", "compare_groups", "fieller_interval"]


class GroupedModel(Model):
    """One model family fitted to several groups at once with some parameters shared.

    Parameter names: shared ones keep the family name (``bottom``), the others get
    ``@<group index>`` (``ec50@0``, ``ec50@1``). ``groups`` gives each point's group
    index, shape ``(n_curves, n_points)``.
    """

    def __init__(self, family: Model, n_groups: int, shared: Sequence[str], groups: np.ndarray):
        self.family = family
        self.n_groups = n_groups
        self.shared = tuple(shared)
        self.groups = np.atleast_2d(groups)
        self.name = f"{family.name} ({n_groups} groups)"
        names: list[str] = []
        logs: set[str] = set()
        for p in family.param_names:
            if p in self.shared:
                names.append(p)
                if p in family.log_params:
                    logs.add(p)
            else:
                for g in range(n_groups):
                    names.append(f"{p}@{g}")
                    if p in family.log_params:
                        logs.add(f"{p}@{g}")
        self.param_names = tuple(names)
        self.log_params = frozenset(logs)

    def group_params(self, p: dict[str, np.ndarray], g: int) -> dict[str, np.ndarray]:
        """The family's parameters for group ``g``."""
        return {q: p[q] if q in self.shared else p[f"{q}@{g}"] for q in self.family.param_names}

    def _groups_for(self, x: np.ndarray | DoseArray) -> np.ndarray:
        return np.broadcast_to(self.groups, np.asarray(x).shape)

    def f(self, x: np.ndarray, p: Any) -> np.ndarray:
        grp = self._groups_for(x)
        out = np.zeros(np.asarray(x).shape)
        for g in range(self.n_groups):
            out = np.where(grp == g, self.family.f(x, self.group_params(p, g)), out)
        return out

    def jacobian(self, x: np.ndarray, p: Any) -> dict[str, np.ndarray]:
        grp = self._groups_for(x)
        shape = np.asarray(x).shape
        jac = {n: np.zeros(shape) for n in self.param_names}
        for g in range(self.n_groups):
            jg = self.family.jacobian(x, self.group_params(p, g))
            sel = grp == g
            for q in self.family.param_names:
                key = q if q in self.shared else f"{q}@{g}"
                jac[key] = jac[key] + np.where(sel, jg[q], 0.0)
        return jac


def fieller_interval(
    u: float, w: float, v_uu: float, v_ww: float, v_uw: float, t: float
) -> tuple[float, float, float]:
    """Fieller CI for u/w: roots of ρ²(w² − t²V_ww) − 2ρ(uw − t²V_uw) + (u² − t²V_uu) = 0.

    Returns (low, high, g) with g = t²·V_ww/w²; the interval is unbounded (NaN,
    NaN) when g >= 1.
    """
    g = t * t * v_ww / (w * w)
    if not np.isfinite(g) or g >= 1:
        return float("nan"), float("nan"), float(g)
    a = w * w - t * t * v_ww
    b = -2 * (u * w - t * t * v_uw)
    c = u * u - t * t * v_uu
    disc = b * b - 4 * a * c
    if disc < 0:
        return float("nan"), float("nan"), float(g)
    r1 = (-b - np.sqrt(disc)) / (2 * a)
    r2 = (-b + np.sqrt(disc)) / (2 * a)
    return float(min(r1, r2)), float(max(r1, r2)), float(g)


@dataclass(frozen=True)
class CompareResult:
    """Fold shift of group 2 (and further groups) over group 1."""

    groups: tuple[str, ...]
    model: str
    shared: tuple[str, ...]
    level: float
    se_method: str
    ed: list[dict[str, Any]]
    ratios: list[dict[str, Any]]
    f_test: FTest
    joint: BatchFit
    common: BatchFit
    flags: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        first = self.ratios[0] if self.ratios else {}
        return {
            "groups": list(self.groups),
            "model": self.model,
            "shared": list(self.shared),
            "ed_level": self.level,
            "se_method": self.se_method,
            "ed": self.ed,
            "ratio": first,
            "ratios": self.ratios,
            "f_test": {
                "F": float(self.f_test.F),
                "df1": int(self.f_test.df1),
                "df2": int(self.f_test.df2),
                "p": float(self.f_test.p),
                "null": "one common curve for all groups",
            },
            "rss": float(self.joint.rss[0]),
            "df": int(self.joint.df[0]),
            "converged": bool(self.joint.converged[0]),
            "flags": self.flags,
        }


def compare_groups(
    dose: np.ndarray,
    response: np.ndarray,
    groups: Sequence[Any],
    *,
    model: str = "LL.4",
    shared: Sequence[str] = (),
    level: float = 50.0,
    se: str = "jtj",
    ci_level: float = 0.95,
) -> CompareResult:
    """Fit the groups jointly and compare their EDs.

    Parameters
    ----------
    dose, response, groups
        One value per observation; group labels in order of first appearance define
        the reference (first) group.
    shared
        Parameters common to all groups (e.g. ``("bottom", "top")``).
    level
        Relative ED level compared (50: EC50).
    """
    x = np.asarray(dose, dtype=float)
    y = np.asarray(response, dtype=float)
    labels = [str(g) for g in groups]
    order = list(dict.fromkeys(labels))
    if len(order) < 2:
        msg = f"comparing curves needs at least two groups, found {len(order)}"
        raise InputError(msg)
    gidx = np.array([order.index(g) for g in labels])
    spec = get_model(model)
    fam = spec.family
    bad = [s for s in shared if s not in fam.param_names]
    if bad:
        msg = f"cannot share {bad}: {spec.name} has parameters {', '.join(fam.param_names)}"
        raise InputError(msg)
    shared_free = tuple(s for s in shared if s not in spec.fixed)
    k = len(order)
    # separate fits give the starting values of the joint fit
    sep_x = np.full((k, max(np.bincount(gidx))), np.nan)
    sep_y = np.full_like(sep_x, np.nan)
    for g in range(k):
        sel = gidx == g
        sep_x[g, : sel.sum()] = x[sel]
        sep_y[g, : sel.sum()] = y[sel]
    sep = fit_batch(sep_x, sep_y, model=spec, se=se)  # type: ignore[arg-type]
    gm = GroupedModel(fam, k, shared_free, gidx[None, :])
    start: dict[str, float] = {}
    for i, q in enumerate(fam.param_names):
        if q in spec.fixed:
            continue
        if q in shared_free:
            start[q] = float(np.nanmean(sep.params[:, i]))
        else:
            for g in range(k):
                start[f"{q}@{g}"] = float(sep.params[g, i])
    fixed = {}
    for q, v in spec.fixed.items():
        if q in gm.param_names:
            fixed[q] = v
        else:
            for g in range(k):
                fixed[f"{q}@{g}"] = v
    joint = fit_batch(x[None, :], y[None, :], model=gm, fixed=fixed, start=start, se=se)  # type: ignore[arg-type]
    common = fit_batch(x[None, :], y[None, :], model=spec, se=se)  # type: ignore[arg-type]
    t = float(joint.t_quantile(ci_level)[0])

    eds: list[dict[str, Any]] = []
    grads = []
    for g in range(k):

        def ed_g(p: dict[str, np.ndarray], g: int = g) -> np.ndarray:
            return fam.ed_relative(gm.group_params(p, g), level)

        val, s, grad = delta_method(joint, ed_g)
        grads.append(grad[0])
        eds.append(
            {
                "group": order[g],
                "estimate": float(val[0]),
                "se": float(s[0]),
                "ci_low": float(val[0] - t * s[0]),
                "ci_high": float(val[0] + t * s[0]),
                "outside_tested_range": bool(
                    not (np.nanmin(x[(gidx == g) & (x > 0)]) <= val[0] <= np.nanmax(x[gidx == g]))
                ),
            }
        )
    cov = np.nan_to_num(joint.cov[0], nan=0.0)
    flags = sorted(set(joint.flags[0]))
    ratios = []
    w = eds[0]["estimate"]
    for g in range(1, k):
        u = eds[g]["estimate"]
        v_uu = float(grads[g] @ cov @ grads[g])
        v_ww = float(grads[0] @ cov @ grads[0])
        v_uw = float(grads[g] @ cov @ grads[0])
        r = u / w
        se_r = float(np.sqrt(v_uu / w**2 + u**2 * v_ww / w**4 - 2 * u * v_uw / w**3))
        se_log = se_r / r if r > 0 else float("nan")
        lo, hi, gval = fieller_interval(u, w, v_uu, v_ww, v_uw, t)
        ratios.append(
            {
                "numerator": order[g],
                "denominator": order[0],
                "estimate": r,
                "se": se_r,
                "delta": {"ci_low": r - t * se_r, "ci_high": r + t * se_r},
                "fieller": {"ci_low": lo, "ci_high": hi, "g": gval, "bounded": bool(gval < 1)},
                "log_scale": {
                    "ci_low": float(r * np.exp(-t * se_log)),
                    "ci_high": float(r * np.exp(t * se_log)),
                },
                "df": int(joint.df[0]),
            }
        )
        if eds[g]["outside_tested_range"] or eds[0]["outside_tested_range"]:
            flags.append("ed_outside_tested_range")
    ft = f_test(common.rss[0], common.df[0], joint.rss[0], joint.df[0])
    return CompareResult(
        groups=tuple(order),
        model=spec.name,
        shared=tuple(shared),
        level=level,
        se_method=se,
        ed=eds,
        ratios=ratios,
        f_test=ft,
        joint=joint,
        common=common,
        flags=sorted(set(flags)),
    )


def p_value_text(p: float) -> str:
    """p formatted for sentences (``p = 0.012``, ``p < 0.0001``)."""
    if not np.isfinite(p):
        return "p not available"
    return "p < 0.0001" if p < 1e-4 else f"p = {p:.2g}"
