"""ELISA quantification on the project's dose engine (one curve implementation).

Per analyte:

1. **Blank**: the mean of the blank wells and zero standards is subtracted from every well
   (``blank="auto"``; ``"none"`` keeps raw signals).
2. **Standard curve**: 4PL (drc LL.4) or 5PL (drc LL.5, asymmetry f) fitted on the log-dose scale
   by :func:`kinresist.dose.fit_standard` / :func:`kinresist.dose.fit_batch` (the dose engine),
   unweighted or with ``weighting="1/y2"`` (w = 1/y², observed; zero-concentration standards are
   then left out of the fit because their weight is undefined).
3. **Standards QC**: back-calculated concentration of each standard level's mean signal,
   recovery = back-calculated / nominal (accepted 80-120 %), replicate CV (flag above
   ``cv_limit``, default 20 %). **LLOQ/ULOQ** = the lowest/highest non-zero standard passing both.
4. **Unknowns**: replicate wells of a sample are averaged; x̂ = f⁻¹(ȳ) by
   :func:`kinresist.dose.interpolate` with its delta-method SE
   Var x̂ ≈ ∇θx̂ᵀ V ∇θx̂ + (∂x̂/∂y)² s²/m (t CI, residual df). With 1/y² weights the reading term
   uses the variance at ȳ, s²·ȳ²/m (the engine's term assumes w = 1 and is replaced here).
   The concentration and its CI are multiplied by the dilution factor. Values below LLOQ, above
   ULOQ or outside the fitted asymptotes are **flagged and not reported**: no extrapolation.

The six-standard nplr example (5PL) and drc ``ryegrass`` (LL.4) are the references
(tests/tme/test_elisa.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from kinresist.elisa.readers import ElisaData
from kinresist.errors import InputError

__all__ = ["AnalyteCurve", "ElisaAnalysis", "quantify"]

Model = Literal["4PL", "5PL"]
Weighting = Literal["none", "1/y2"]
_DRC = {"4PL": "LL.4", "5PL": "LL.5"}


@dataclass
class AnalyteCurve:
    """One analyte's fitted standard curve and QC."""

    analyte: str
    model: str
    weighting: str
    blank: float
    curve: object  # kinresist.dose.standard.StandardCurve
    standards: pd.DataFrame
    lloq: float | None
    uloq: float | None
    converged: bool
    fit_flags: tuple[str, ...]
    params: dict[str, float]
    param_se: dict[str, float]
    rss: float
    df: int


@dataclass
class ElisaAnalysis:
    """Per-analyte curves, standards QC and unknowns."""

    curves: list[AnalyteCurve]
    unknowns: pd.DataFrame
    settings: dict[str, object]
    warnings: list[str] = field(default_factory=list)

    @property
    def standards(self) -> pd.DataFrame:
        return pd.concat([c.standards for c in self.curves], ignore_index=True)

    @property
    def curve_table(self) -> pd.DataFrame:
        rows = []
        for c in self.curves:
            row: dict[str, object] = {
                "analyte": c.analyte,
                "model": c.model,
                "weighting": c.weighting,
                "blank": c.blank,
                "converged": c.converged,
                "flags": ";".join(c.fit_flags),
                "lloq": c.lloq,
                "uloq": c.uloq,
                "rss": c.rss,
                "df": c.df,
            }
            for k, v in c.params.items():
                row[k] = v
                row[f"{k}_se"] = c.param_se.get(k)
            rows.append(row)
        return pd.DataFrame(rows)


def _cv(values: np.ndarray) -> float:
    if values.size < 2 or not np.all(np.isfinite(values)):
        return float("nan")
    mean = float(np.mean(values))
    return float(np.std(values, ddof=1) / abs(mean) * 100) if mean != 0 else float("nan")


def _fit(
    conc: np.ndarray, signal: np.ndarray, model: Model, weighting: Weighting
) -> tuple[object, np.ndarray, np.ndarray]:
    from kinresist.dose import fit_batch, fit_standard
    from kinresist.dose.standard import StandardCurve

    if weighting == "none":
        return fit_standard(conc, signal, model=_DRC[model]), conc, signal
    keep = (conc > 0) & (signal > 0)
    x, y = conc[keep], signal[keep]
    fit = fit_batch(x, y, model=_DRC[model], weights=1.0 / y**2)
    return StandardCurve(fit, x, y), x, y


def _interpolate(
    curve: object, signals: np.ndarray, names: list[str], weighting: str, ci_level: float
) -> pd.DataFrame:
    """The engine's inverse prediction; with 1/y² weights the reading-noise term is rescaled."""
    from kinresist.dose import interpolate

    out = interpolate(curve, signals, names=names, ci_level=ci_level)  # type: ignore[arg-type]
    if weighting == "none" or out.empty:
        return out
    fit = curve.fit  # type: ignore[attr-defined]
    s2 = float(fit.rss[0] / fit.df[0]) if fit.df[0] > 0 else float("nan")
    t = float(fit.t_quantile(ci_level)[0])
    se_new = []
    for row in out.itertuples(index=False):
        x, ybar, m = row.concentration, row.signal_mean, row.n_replicates
        if not np.isfinite(x):
            se_new.append(float("nan"))
            continue
        h = 1e-6 * abs(ybar)
        probe = interpolate(curve, [ybar - h, ybar + h], names=["lo", "hi"])  # type: ignore[arg-type]
        dxdy = float((probe["concentration"].iloc[1] - probe["concentration"].iloc[0]) / (2 * h))
        var_theta = max(float(row.se) ** 2 - dxdy**2 * s2 / m, 0.0)
        se_new.append(math.sqrt(var_theta + dxdy**2 * s2 * ybar**2 / m))
    out = out.copy()
    out["se"] = se_new
    out["ci_low"] = out["concentration"] - t * out["se"]
    out["ci_high"] = out["concentration"] + t * out["se"]
    return out


def _analyte(
    wells: pd.DataFrame,
    analyte: str,
    *,
    model: Model,
    weighting: Weighting,
    blank_mode: str,
    cv_limit: float,
    recovery: tuple[float, float],
    ci_level: float,
    warnings: list[str],
) -> tuple[AnalyteCurve, pd.DataFrame]:
    w = wells.copy()
    blanks = w[(w["type"] == "blank") | ((w["type"] == "standard") & (w["concentration"] == 0))]
    blank = float(blanks["signal"].mean()) if blank_mode == "auto" and len(blanks) else 0.0
    if blank_mode == "auto" and not len(blanks):
        warnings.append(f"{analyte}: no blank wells or zero standard; signals not blank-subtracted")
    w["net"] = w["signal"] - blank
    std = w[w["type"] == "standard"]
    levels = sorted(set(std["concentration"][std["concentration"] > 0]))
    need = 5 if model == "4PL" else 6
    if len(levels) < need:
        msg = (
            f"{analyte}: {len(levels)} non-zero standard concentrations; a {model} curve needs "
            f"at least {need} (one more than its parameters) to have residual degrees of freedom"
        )
        raise InputError(msg)
    unk = w[w["type"].isin(["unknown", "qc"])]
    lo_sig, hi_sig = std["net"].min(), std["net"].max()
    if len(unk):
        means = unk.groupby("sample", sort=False)["net"].mean()
        inside = (means >= lo_sig) & (means <= hi_sig)
        if not inside.any():
            msg = (
                f"{analyte}: the standards (blank-corrected signal {lo_sig:.4g}-{hi_sig:.4g}) do "
                f"not bracket any unknown (signals {means.min():.4g}-{means.max():.4g}); no value "
                "can be read without extrapolating. Dilute the samples or extend the standard "
                "series"
            )
            raise InputError(msg)
    conc = std["concentration"].to_numpy(float)
    sig = std["net"].to_numpy(float)
    if weighting == "1/y2" and (sig[conc > 0] <= 0).any():
        msg = f"{analyte}: 1/y² weights need positive blank-corrected standard signals"
        raise InputError(msg)
    curve, _, _ = _fit(conc, sig, model, weighting)
    fit = curve.fit  # type: ignore[attr-defined]
    converged = bool(fit.converged[0])
    flags = tuple(fit.flags[0])
    if not converged:
        warnings.append(f"{analyte}: the standard curve did not converge; nothing is quantified")
    elif flags:
        warnings.append(f"{analyte}: standard-curve fit flags: {', '.join(flags)}")
    # standards QC
    std_rows = []
    by_level = std[std["concentration"] > 0].groupby("concentration", sort=True)["net"]
    names = [f"L{i}" for i in range(len(levels))]
    back = (
        _interpolate(curve, by_level.mean().to_numpy(), names, "none", ci_level)
        if converged
        else None
    )
    for i, (level, vals) in enumerate(by_level):
        v = vals.to_numpy(float)
        bc = float(back["concentration"].iloc[i]) if back is not None else float("nan")
        rec = 100.0 * bc / float(level) if np.isfinite(bc) else float("nan")
        cv = _cv(v)
        fl = []
        if not (np.isfinite(rec) and recovery[0] <= rec <= recovery[1]):
            fl.append("recovery_out_of_range")
        if np.isfinite(cv) and cv > cv_limit:
            fl.append("high_cv")
        std_rows.append(
            {
                "analyte": analyte,
                "concentration": float(level),
                "n": int(v.size),
                "signal_mean": float(np.mean(v) + blank),
                "net_signal_mean": float(np.mean(v)),
                "cv_pct": cv,
                "back_calculated": bc,
                "recovery_pct": rec,
                "accepted": not fl,
                "flags": ";".join(fl),
            }
        )
    standards = pd.DataFrame(std_rows)
    ok = standards.loc[standards["accepted"], "concentration"]
    lloq = float(ok.min()) if len(ok) else None
    uloq = float(ok.max()) if len(ok) else None
    if converged and lloq is None:
        warnings.append(f"{analyte}: no standard passed recovery/CV QC; nothing is quantified")
    pnames = list(fit.param_names)
    params = {n: float(fit.params[0, i]) for i, n in enumerate(pnames)}
    pse = {n: float(fit.se[0, i]) for i, n in enumerate(pnames)}
    ac = AnalyteCurve(
        analyte=analyte,
        model=model,
        weighting=weighting,
        blank=blank,
        curve=curve,
        standards=standards,
        lloq=lloq,
        uloq=uloq,
        converged=converged,
        fit_flags=flags,
        params=params,
        param_se=pse,
        rss=float(fit.rss[0]),
        df=int(fit.df[0]),
    )
    return ac, _unknowns(unk, ac, cv_limit, ci_level)


def _unknowns(
    unk: pd.DataFrame, ac: AnalyteCurve, cv_limit: float, ci_level: float
) -> pd.DataFrame:
    cols = [
        "analyte", "sample", "subject", "type", "dilution", "n_replicates", "signal_mean",
        "signal_cv_pct", "conc_in_well", "concentration", "se", "ci_low", "ci_high", "lloq",
        "uloq", "call", "flags", "nominal", "recovery_pct",
    ]  # fmt: skip
    if unk.empty:
        return pd.DataFrame(columns=cols)
    groups = list(unk.groupby(["sample", "dilution"], sort=False))
    names = [f"U{i}" for i in range(len(groups))]
    signals = np.concatenate([g["net"].to_numpy(float) for _, g in groups])
    labels = [n for n, (_, g) in zip(names, groups, strict=True) for _ in range(len(g))]
    interp = (
        _interpolate(ac.curve, signals, labels, ac.weighting, ci_level).set_index("name")
        if ac.converged
        else None
    )
    rows = []
    for name, ((sample, dil), g) in zip(names, groups, strict=True):
        dil = float(dil)
        cv = _cv(g["net"].to_numpy(float))
        flags = ["high_cv"] if np.isfinite(cv) and cv > cv_limit else []
        x = se = lo = hi = float("nan")
        if interp is None:
            call = "curve_failed"
        elif ac.lloq is None or ac.uloq is None:
            call = "no_valid_standards"
        else:
            r = interp.loc[name]
            x, se, lo, hi = (float(r[k]) for k in ("concentration", "se", "ci_low", "ci_high"))
            if r["flag"] == "outside_asymptotes" or not np.isfinite(x):
                call = "outside_curve"
            elif x < ac.lloq:
                call = "below_lloq"
            elif x > ac.uloq:
                call = "above_uloq"
            else:
                call = "quantified"
        report = call == "quantified"
        subj = g["subject"].dropna()
        nominal = g["concentration"].dropna()
        nom = float(nominal.iloc[0]) if len(nominal) else float("nan")
        value = x * dil if report else float("nan")
        rows.append(
            {
                "analyte": ac.analyte,
                "sample": sample,
                "subject": None if subj.empty else str(subj.iloc[0]),
                "type": str(g["type"].iloc[0]),
                "dilution": dil,
                "n_replicates": len(g),
                "signal_mean": float(g["signal"].mean()),
                "signal_cv_pct": cv,
                "conc_in_well": x if report else float("nan"),
                "concentration": value,
                "se": se * dil if report else float("nan"),
                "ci_low": lo * dil if report else float("nan"),
                "ci_high": hi * dil if report else float("nan"),
                "lloq": ac.lloq * dil if ac.lloq is not None else float("nan"),
                "uloq": ac.uloq * dil if ac.uloq is not None else float("nan"),
                "call": call,
                "flags": ";".join(flags),
                "nominal": nom,
                "recovery_pct": 100 * value / nom if report and nom > 0 else float("nan"),
            }
        )
    return pd.DataFrame(rows, columns=cols)


def quantify(
    data: ElisaData,
    /,
    *,
    model: Model = "4PL",
    weighting: Weighting = "none",
    blank: Literal["auto", "none"] = "auto",
    cv_limit: float = 20.0,
    recovery: tuple[float, float] = (80.0, 120.0),
    ci_level: float = 0.95,
) -> ElisaAnalysis:
    """Fit each analyte's standard curve and back-calculate its unknowns (module docstring)."""
    if model not in _DRC:
        msg = f"model must be '4PL' or '5PL', got {model!r}"
        raise InputError(msg)
    if weighting not in ("none", "1/y2"):
        msg = f"weighting must be 'none' or '1/y2', got {weighting!r}"
        raise InputError(msg)
    if blank not in ("auto", "none"):
        msg = f"blank must be 'auto' or 'none', got {blank!r}"
        raise InputError(msg)
    if not 0 < ci_level < 1:
        msg = f"ci_level must be in (0, 1), got {ci_level}"
        raise InputError(msg)
    warnings: list[str] = []
    curves = []
    unknowns = []
    for analyte, wells in data.wells.groupby("analyte", sort=False):
        if not (wells["type"] == "standard").any():
            msg = f"analyte {analyte!r} has no standards; give --standards NAME=CONC,..."
            raise InputError(msg)
        ac, unk = _analyte(
            wells,
            str(analyte),
            model=model,
            weighting=weighting,
            blank_mode=blank,
            cv_limit=cv_limit,
            recovery=recovery,
            ci_level=ci_level,
            warnings=warnings,
        )
        curves.append(ac)
        unknowns.append(unk)
    table = pd.concat(unknowns, ignore_index=True) if unknowns else pd.DataFrame()
    settings: dict[str, object] = {
        "model": model,
        "drc_model": _DRC[model],
        "weighting": weighting,
        "blank": blank,
        "cv_limit_pct": cv_limit,
        "recovery_range_pct": list(recovery),
        "ci_level": ci_level,
        "ci_method": "delta method, t with the curve's residual df",
    }
    return ElisaAnalysis(curves=curves, unknowns=table, settings=settings, warnings=warnings)
