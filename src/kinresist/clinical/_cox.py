"""Cox proportional hazards: ordinary (Efron or Breslow ties) and Firth-penalised.

Engines and why:

* Ordinary Cox: statsmodels ``PHReg`` (Newton-Raphson to the exact maximum). On R
  ``survival::lung`` (``coxph(Surv(time, status) ~ sex)``) it gives coef -0.53102354, R's value
  (-0.5310235); lifelines ``CoxPHFitter`` stops at -0.53102198 (its step tolerance), 1.6e-6 away,
  and has no Breslow option. statsmodels' own default is Breslow: ties are always passed.
* Firth (Heinze & Schemper 2001): ``firthmodels.FirthCoxPH`` (Breslow ties, as R ``coxphf``),
  profile-likelihood CI and penalised likelihood-ratio p, as ``coxphf``'s defaults.

Monotone likelihood (a group without events, or a coefficient running off to infinity) makes the
ordinary estimate HR = 0 or ∞ with a meaningless Wald CI. ``cox_ph`` never returns such an
estimate: with ``firth="auto"`` it fits the Firth model instead and flags it; with
``firth="never"`` it raises :class:`~kinresist.errors.FitError`.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats

from kinresist.clinical._format import fmt_ci, fmt_p
from kinresist.clinical._validate import Where, as_events, as_groups, as_times, level_order
from kinresist.errors import FitError, InputError, warn

__all__ = ["CoxResult", "CoxTerm", "FirthMode", "Ties", "cox_ph", "firth_cox"]

Ties = Literal["efron", "breslow"]
FirthMode = Literal["auto", "never", "always"]
FloatArray = npt.NDArray[np.float64]

#: |coef| beyond this (HR > 3e6 or < 3e-7) is treated as a diverging (monotone) likelihood.
_DIVERGED_COEF = 15.0


@dataclass(frozen=True)
class CoxTerm:
    """One coefficient: for a group, ``level`` vs ``reference``."""

    term: str
    coef: float | None
    se: float | None
    hr: float | None
    ci_low: float | None
    ci_high: float | None
    p: float | None
    level: str | None = None
    reference: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "term": self.term,
            "level": self.level,
            "reference": self.reference,
            "coef": self.coef,
            "se": self.se,
            "hr": self.hr,
            "ci": [self.ci_low, self.ci_high],
            "p": self.p,
        }


@dataclass(frozen=True, eq=False)
class CoxResult:
    """A fitted Cox model: one :class:`CoxTerm` per coefficient plus how it was obtained."""

    method: Literal["efron", "breslow", "firth"]
    ties: Ties
    terms: tuple[CoxTerm, ...]
    n: int
    events: int
    conf_level: float
    ci_method: Literal["wald", "profile"]
    p_method: Literal["wald", "penalised-lrt"]
    converged: bool
    loglik: float | None = None
    lr_chi2: float | None = None
    lr_df: int | None = None
    lr_p: float | None = None
    reference: str | None = None
    strata: str | None = None
    flags: tuple[str, ...] = field(default_factory=tuple)

    @property
    def main(self) -> CoxTerm | None:
        """The one group comparison when there are exactly two groups (and no covariates)."""
        group_terms = [t for t in self.terms if t.level is not None]
        return group_terms[0] if len(group_terms) == 1 else None

    @property
    def hr(self) -> float | None:
        return None if self.main is None else self.main.hr

    @property
    def ci(self) -> tuple[float | None, float | None]:
        return (None, None) if self.main is None else (self.main.ci_low, self.main.ci_high)

    @property
    def p(self) -> float | None:
        return None if self.main is None else self.main.p

    def to_dict(self) -> dict[str, Any]:
        main = self.main
        return {
            "method": self.method,
            "ties": self.ties,
            "hr": None if main is None else main.hr,
            "ci": [None, None] if main is None else [main.ci_low, main.ci_high],
            "p": None if main is None else main.p,
            "comparison": None if main is None else f"{main.level} vs {main.reference}",
            "conf_level": self.conf_level,
            "ci_method": self.ci_method,
            "p_method": self.p_method,
            "converged": self.converged,
            "n": self.n,
            "events": self.events,
            "loglik": self.loglik,
            "lr_test": {"chi2": self.lr_chi2, "df": self.lr_df, "p": self.lr_p},
            "reference": self.reference,
            "stratified_by": self.strata,
            "flags": list(self.flags),
            "terms": [t.to_dict() for t in self.terms],
        }

    def table(self) -> pd.DataFrame:
        rows = []
        for t in self.terms:
            rows.append(
                {
                    "term": t.term,
                    "level": t.level,
                    "reference": t.reference,
                    "coef": t.coef,
                    "se": t.se,
                    "hr": t.hr,
                    "ci_low": t.ci_low,
                    "ci_high": t.ci_high,
                    "p": t.p,
                    "hr_text": fmt_ci(t.hr, t.ci_low, t.ci_high, 2),
                    "p_text": fmt_p(t.p),
                    "method": self.method,
                    "ci_method": self.ci_method,
                    "flags": ";".join(self.flags),
                }
            )
        return pd.DataFrame(rows)


@dataclass(frozen=True, eq=False)
class _Design:
    time: FloatArray
    event: npt.NDArray[np.int64]
    x: FloatArray
    names: list[str]
    levels: list[str | None]
    reference: str | None
    group_events: dict[str, int]
    strata: npt.NDArray[np.int64] | None


def _design(
    time: Any,
    event: Any,
    group: Any,
    covariates: Mapping[str, Any] | pd.DataFrame | None,
    *,
    reference: str | None,
    levels: Sequence[str] | None,
    strata: Any,
    min_group_size: int,
    group_name: str,
    strata_name: str,
) -> _Design:
    t = as_times(time)
    e = as_events(event)
    n = t.size
    if e.size != n:
        msg = f"time has {n} values but event has {e.size}"
        raise InputError(msg)
    cols: list[FloatArray] = []
    names: list[str] = []
    lev: list[str | None] = []
    ref: str | None = None
    group_events: dict[str, int] = {}
    if group is not None:
        g = as_groups(group, Where(group_name), min_size=min_group_size)
        if g.size != n:
            msg = f"{group_name} has {g.size} values but time has {n}"
            raise InputError(msg)
        order = level_order(list(g), levels)
        if len(order) < 2:
            msg = f"a Cox model of {group_name} needs at least 2 groups; got only {order}"
            raise InputError(msg)
        ref = order[0] if reference is None else str(reference)
        if ref not in order:
            msg = f"reference group {ref!r} is not among the groups {order} of {group_name}"
            raise InputError(msg)
        for lab in order:
            group_events[lab] = int(e[g == lab].sum())
            if lab == ref:
                continue
            cols.append((g == lab).astype(float))
            names.append(f"{group_name}: {lab} vs {ref}")
            lev.append(lab)
    if covariates is not None:
        items = (
            covariates.items()
            if isinstance(covariates, Mapping)
            else ((c, covariates[c]) for c in covariates.columns)
        )
        for name, values in items:
            try:
                v = np.asarray(values, dtype=float)
            except (TypeError, ValueError):
                msg = f"covariate {name!r} is not numeric; encode categories as a group"
                raise InputError(msg, column=str(name)) from None
            if v.size != n or not np.isfinite(v).all():
                msg = f"covariate {name!r} needs {n} finite values (missing or non-finite found)"
                raise InputError(msg, column=str(name))
            cols.append(v)
            names.append(str(name))
            lev.append(None)
    if not cols:
        msg = "a Cox model needs a group or at least one covariate"
        raise InputError(msg)
    s = None
    if strata is not None:
        slab = as_groups(strata, Where(strata_name), min_size=1)
        if slab.size != n:
            msg = f"{strata_name} has {slab.size} values but time has {n}"
            raise InputError(msg)
        s = np.unique(slab, return_inverse=True)[1].astype(np.int64)
    return _Design(t, e, np.column_stack(cols), names, lev, ref, group_events, s)


def _exp_or_none(v: float) -> float | None:
    """exp(v), or None (unbounded) where it is not a finite number."""
    return math.exp(v) if math.isfinite(v) and v < 709.0 else None


def _term(
    name: str, level: str | None, ref: str | None, coef: float, se: float, p: float, z: float
) -> CoxTerm:
    return CoxTerm(
        term=name,
        coef=coef,
        se=se,
        hr=math.exp(coef),
        ci_low=_exp_or_none(coef - z * se),
        ci_high=_exp_or_none(coef + z * se),
        p=p,
        level=level,
        reference=None if level is None else ref,
    )


def _ordinary(
    d: _Design, *, ties: Ties, alpha: float, strata_name: str
) -> tuple[CoxResult | None, list[str]]:
    """statsmodels PHReg; returns (None, reasons) when the likelihood is monotone."""
    from statsmodels.duration.hazard_regression import PHReg

    notes: list[str] = []
    with warnings.catch_warnings(record=True) as caught, np.errstate(all="ignore"):
        warnings.simplefilter("always")
        model = PHReg(d.time, d.x, status=d.event, strata=d.strata, ties=ties)
        try:
            res = model.fit()
        except np.linalg.LinAlgError:
            # the design is identifiable (_check_identifiable): Newton's steps ran a
            # coefficient off until the information underflowed, i.e. a monotone likelihood
            return None, ["monotone_likelihood", "singular_newton_step"]
        params = np.asarray(res.params, dtype=float)
        bse = np.asarray(res.bse, dtype=float)
        score = np.asarray(model.score(params), dtype=float)
        ll = float(model.loglike(params))
        ll0 = float(model.loglike(np.zeros_like(params)))
    notes += [f"{type(w.message).__name__}: {w.message}" for w in caught]
    finite = np.isfinite(params).all() and np.isfinite(bse).all()
    if not finite or (np.abs(params) > _DIVERGED_COEF).any():
        return None, ["monotone_likelihood", *notes]
    converged = bool(np.max(np.abs(score)) < 1e-6 * max(1.0, float(d.event.sum())))
    z = float(stats.norm.ppf(1 - alpha / 2))
    pvals = 2 * stats.norm.sf(np.abs(params / bse))
    terms = tuple(
        _term(nm, lv, d.reference, float(b), float(s), float(p), z)
        for nm, lv, b, s, p in zip(d.names, d.levels, params, bse, pvals, strict=True)
    )
    lr = 2 * (ll - ll0)
    flags = tuple(
        (["not_converged"] if not converged else []) + (["fit_warnings"] if notes else [])
    )
    return (
        CoxResult(
            method=ties,
            ties=ties,
            terms=terms,
            n=int(d.time.size),
            events=int(d.event.sum()),
            conf_level=1 - alpha,
            ci_method="wald",
            p_method="wald",
            converged=converged,
            loglik=ll,
            lr_chi2=lr,
            lr_df=len(params),
            lr_p=float(stats.chi2.sf(lr, len(params))),
            reference=d.reference,
            strata=None if d.strata is None else strata_name,
            flags=flags,
        ),
        notes,
    )


def _risk_set_information(d: _Design) -> tuple[FloatArray, float]:
    """Σ over event times of the covariance of the design rows at risk (within strata): the
    Cox information at β = 0. Its null space is the information's null space at every β
    (the risk-set weights exp(xβ) are positive), i.e. the terms the partial likelihood
    cannot estimate. Also the number of rows summed (events × risk-set size), the scale of
    its rounding. One pass over the rows sorted by time (risk sets are nested)."""
    p = d.x.shape[1]
    info = np.zeros((p, p))
    rows = 0.0
    strata = np.zeros(d.time.size, dtype=np.int64) if d.strata is None else d.strata
    for s in np.unique(strata):
        idx = np.flatnonzero(strata == s)
        order = idx[np.argsort(-d.time[idx], kind="stable")]
        t, x, ev = d.time[order], d.x[order], d.event[order]
        n_at = np.arange(1, t.size + 1, dtype=float)
        sx = np.cumsum(x, axis=0)
        sxx = np.cumsum(x[:, :, None] * x[:, None, :], axis=0)
        # the risk set of an event at time u: every row with time >= u, i.e. the rows up to
        # the last of u's ties; weighted by the events at u
        tie_end = np.searchsorted(-t, -t, side="right") - 1
        k = np.bincount(tie_end[ev > 0], minlength=t.size).astype(float)
        at = np.flatnonzero(k)
        cent = sxx[at] - sx[at, :, None] * sx[at, None, :] / n_at[at, None, None]
        info += np.einsum("i,ijk->jk", k[at], cent)
        rows += float(k[at] @ n_at[at])
    return info, rows


def _check_identifiable(d: _Design) -> None:
    """Refuse a design whose terms the data cannot estimate (:class:`FitError`): a term that
    does not vary among the subjects at risk at any event time, or collinear terms."""
    info, rows = _risk_set_information(d)
    diag = np.diag(info)
    # the centred sums' rounding is ~1e-16 of the uncentred ones (rows × max x²)
    scale = np.maximum(np.abs(d.x).max(axis=0), 1e-300) ** 2 * max(rows, 1.0)
    flat = [nm for nm, v, sc in zip(d.names, diag, scale, strict=True) if v <= 1e-12 * sc]
    if flat:
        first = float(d.time[d.event == 1].min())
        msg = (
            f"the data carry no information on {flat}: the term does not vary among the "
            f"subjects at risk at any event time (for a group: all its subjects left follow-up "
            f"before the first event, at time {first:g}), so no hazard ratio can be estimated "
            "for it; drop that group or covariate, or merge the group with another"
        )
        raise FitError(msg, model="cox")
    if len(diag) > 1:
        norm = info / np.sqrt(np.outer(diag, diag))
        if float(np.linalg.eigvalsh(norm)[0]) <= 1e-10:
            msg = (
                f"the terms {list(d.names)} are collinear among the subjects at risk at the "
                "event times (singular information), so their hazard ratios cannot be "
                "separated; drop or merge collinear covariates"
            )
            raise FitError(msg, model="cox")


def _firth(d: _Design, *, alpha: float, ci: Literal["profile", "wald"]) -> CoxResult:
    from firthmodels import FirthCoxPH

    if d.strata is not None:
        msg = (
            "Firth's penalised Cox model is not available with strata (firthmodels fits "
            "unstratified models only); fit without --strata or merge sparse strata"
        )
        raise FitError(msg, model="firth-cox")
    with warnings.catch_warnings(record=True) as caught, np.errstate(all="ignore"):
        warnings.simplefilter("always")
        try:
            model = FirthCoxPH(backend="numpy").fit(d.x, (d.event.astype(bool), d.time))
            model.lrt()
            bounds = model.conf_int(alpha=alpha, method="pl" if ci == "profile" else "wald")
        except np.linalg.LinAlgError as exc:  # _check_identifiable ran first: numerical
            msg = (
                f"Firth's penalised Cox fit failed numerically ({exc}); the design is near singular"
            )
            raise FitError(msg, model="firth-cox") from None
    coef = np.asarray(model.coef_, dtype=float)
    bse = np.asarray(model.bse_, dtype=float)
    pvals = np.asarray(model.lrt_pvalues_, dtype=float)
    flags = ["firth_penalised"]
    if caught:
        flags.append("firth_warnings")
    converged = bool(model.converged_) and bool(np.isfinite(bounds).all())
    if not converged:
        flags.append("not_converged")
    terms = []
    for i, (nm, lv) in enumerate(zip(d.names, d.levels, strict=True)):
        lo, hi = float(bounds[i, 0]), float(bounds[i, 1])
        terms.append(
            CoxTerm(
                term=nm,
                coef=float(coef[i]),
                se=float(bse[i]),
                hr=math.exp(coef[i]),
                ci_low=math.exp(lo) if math.isfinite(lo) else None,
                ci_high=math.exp(hi) if math.isfinite(hi) else None,
                p=float(pvals[i]) if math.isfinite(pvals[i]) else None,
                level=lv,
                reference=None if lv is None else d.reference,
            )
        )
    return CoxResult(
        method="firth",
        ties="breslow",
        terms=tuple(terms),
        n=int(d.time.size),
        events=int(d.event.sum()),
        conf_level=1 - alpha,
        ci_method=ci,
        p_method="penalised-lrt",
        converged=converged,
        loglik=float(model.loglik_),
        reference=d.reference,
        flags=tuple(flags),
    )


def cox_ph(
    time: Any,
    event: Any,
    group: Any = None,
    *,
    covariates: Mapping[str, Any] | pd.DataFrame | None = None,
    reference: str | None = None,
    levels: Sequence[str] | None = None,
    strata: Any = None,
    ties: Ties = "efron",
    alpha: float = 0.05,
    firth: FirthMode = "auto",
    min_group_size: int = 2,
    group_name: str = "group",
    strata_name: str = "strata",
) -> CoxResult:
    """Cox model hazard ratios (R ``coxph``): HR = exp(coef), Wald CI and p.

    Parameters
    ----------
    group
        Group label per patient; one HR per level against ``reference`` (default: the first
        level, as R's factor coding).
    covariates
        Numeric adjustment covariates (name -> values).
    strata
        Stratification variable (separate baseline hazards, as ``strata()`` in R).
    ties
        ``"efron"`` (R and lifelines default) or ``"breslow"`` (SAS, SPSS, scikit-survival).
    firth
        ``"auto"``: use Firth's penalised model (flagged ``firth_penalised``) when a group has no
        events or the likelihood is monotone; ``"never"``: raise :class:`FitError` instead;
        ``"always"``: fit the Firth model.
    """
    if ties not in ("efron", "breslow"):
        msg = f"unknown ties method {ties!r}; expected 'efron' or 'breslow'"
        raise InputError(msg)
    if firth not in ("auto", "never", "always"):
        msg = f"unknown firth mode {firth!r}; expected 'auto', 'never' or 'always'"
        raise InputError(msg)
    if not 0 < alpha < 1:
        msg = f"alpha must be in (0, 1), got {alpha!r}"
        raise InputError(msg)
    d = _design(
        time,
        event,
        group,
        covariates,
        reference=reference,
        levels=levels,
        strata=strata,
        min_group_size=min_group_size,
        group_name=group_name,
        strata_name=strata_name,
    )
    if d.event.sum() == 0:
        msg = "no events at all: a hazard ratio cannot be estimated"
        raise FitError(msg, model="cox")
    _check_identifiable(d)
    zero = [lab for lab, ev in d.group_events.items() if ev == 0]
    reasons = [f"zero_events:{lab}" for lab in zero]
    if firth == "always":
        return _firth(d, alpha=alpha, ci="profile")
    fit: CoxResult | None = None
    if not zero:
        fit, notes = _ordinary(d, ties=ties, alpha=alpha, strata_name=strata_name)
        if fit is not None:
            return fit
        reasons += notes
    what = (
        f"group{'s' if len(zero) > 1 else ''} {zero} of {group_name} had no events"
        if zero
        else "the partial likelihood is monotone (a coefficient diverges)"
    )
    if firth == "never" or d.strata is not None:
        fix = (
            "use Firth's penalised Cox (firth='auto')"
            if d.strata is None
            else "Firth's penalised model is not available with strata: fit without strata"
        )
        msg = (
            f"ordinary Cox regression cannot estimate the hazard ratio: {what}, so HR would be 0 "
            f"or infinite; {fix}"
        )
        raise FitError(msg, model="cox")
    warn(f"{what}: hazard ratios from Firth's penalised Cox model (Breslow ties, profile CI)")
    res = _firth(d, alpha=alpha, ci="profile")
    return CoxResult(
        **{
            **{k: getattr(res, k) for k in res.__dataclass_fields__},
            "flags": tuple(reasons) + res.flags,
        }
    )


def firth_cox(
    time: Any,
    event: Any,
    group: Any = None,
    *,
    covariates: Mapping[str, Any] | pd.DataFrame | None = None,
    reference: str | None = None,
    levels: Sequence[str] | None = None,
    alpha: float = 0.05,
    ci: Literal["profile", "wald"] = "profile",
    min_group_size: int = 2,
    group_name: str = "group",
) -> CoxResult:
    """Firth-penalised Cox model (as R ``coxphf``: Breslow ties, profile CI, penalised LRT p)."""
    if ci not in ("profile", "wald"):
        msg = f"unknown ci {ci!r}; expected 'profile' or 'wald'"
        raise InputError(msg)
    d = _design(
        time,
        event,
        group,
        covariates,
        reference=reference,
        levels=levels,
        strata=None,
        min_group_size=min_group_size,
        group_name=group_name,
        strata_name="strata",
    )
    if d.event.sum() == 0:
        msg = "no events at all: a hazard ratio cannot be estimated"
        raise FitError(msg, model="firth-cox")
    _check_identifiable(d)
    return _firth(d, alpha=alpha, ci=ci)
