"""From band volumes to loading-normalised levels, phospho/total ratios and fold changes.

* **Loading control.** ``target / loading control`` (or total-protein stain) of the same lane of
  the same membrane (blot + membrane + lane; two images of one membrane share it).
* **Phospho / total.** When p-ALK and ALK are on the *same* membrane (stripped and re-probed, or
  two fluorescence channels), the ratio is ``p-ALK / ALK`` directly (the loading control
  cancels). On *separate* membranes each is first normalised to its own lane's loading control:
  ``(p-ALK / LC_p) / (ALK / LC_t)``; without a loading control on either membrane the ratio is
  unknown (NaN, flagged), never the raw cross-membrane quotient. Lanes are paired by blot and
  sample label, so the lane order may differ between membranes.
* **Fold change** vs the control lanes of the same blot and cell line (geometric mean of the
  controls when there are several).
* **Replicate blots** on the log scale: ``log_t`` (default) = geometric mean of the per-blot fold
  changes, t-based confidence interval, one-sample t test of log FC = 0; ``mixed`` = linear
  mixed model ``log(value) ~ condition + (1 | blot)`` (statsmodels MixedLM, REML), fold change
  ``exp(beta)`` with its Wald interval.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from kinresist.blot.design import check_one_control
from kinresist.errors import InputError

__all__ = [
    "Aggregate",
    "add_fold_change",
    "aggregate_replicates",
    "condition_label",
    "linearity_table",
    "loading_table",
    "parse_pairs",
    "ratio_table",
]

Aggregate = Literal["log_t", "mixed"]

_LABELS = ["blot", "sample", "cell_line", "treatment", "dose", "dose_unit", "control"]


def _flags(*parts: object) -> str:
    out: list[str] = []
    for p in parts:
        if isinstance(p, str):
            out.extend(f for f in p.split(";") if f)
        elif isinstance(p, list | tuple):
            out.extend(str(f) for f in p if f)
    return ";".join(dict.fromkeys(out))


def loading_table(bands: pd.DataFrame) -> pd.DataFrame:
    """One row per target band: its volume over the same lane's loading-control volume."""
    cols = [
        *_LABELS,
        "membrane",
        "lane",
        "target",
        "loading_control",
        "target_volume",
        "loading_volume",
        "normalised",
        "flags",
    ]
    tgt = bands[bands["role"] == "target"]
    lc = bands[bands["role"] != "target"]
    check_one_control(bands)
    lc_by = {(r.blot, r.membrane, r.lane): (r.target, r.volume, r.flags) for r in lc.itertuples()}
    rows = []
    for r in tgt.itertuples():
        hit = lc_by.get((r.blot, r.membrane, r.lane))
        flags = [r.flags]
        if hit is None:
            name, lvol, value = None, math.nan, math.nan
            flags.append("no_loading_control")
        else:
            name, lvol, lflags = hit
            flags.append(";".join(f"lc_{f}" for f in str(lflags).split(";") if f))
            if lvol > 0:
                value = r.volume / lvol
            else:
                value = math.nan
                flags.append("loading_control_not_detected")
        rows.append(
            {
                "blot": r.blot,
                "sample": r.sample,
                "cell_line": r.cell_line,
                "treatment": r.treatment,
                "dose": r.dose,
                "dose_unit": r.dose_unit,
                "control": r.control,
                "membrane": r.membrane,
                "lane": r.lane,
                "target": r.target,
                "loading_control": name,
                "target_volume": r.volume,
                "loading_volume": lvol,
                "normalised": value,
                "flags": _flags(*flags),
            }
        )
    return pd.DataFrame(rows, columns=cols)


def parse_pairs(text: str | Sequence[str] | None, targets: Sequence[str]) -> list[tuple[str, str]]:
    """Ratio pairs ``"p-ALK/ALK;p-FAK Y397/FAK"``, or inferred: ``p-X...`` over ``X``."""
    known = list(dict.fromkeys(targets))
    if text:
        items = [text] if isinstance(text, str) else list(text)
        pairs = []
        for item in items:
            for part in item.split(";"):
                if not part.strip():
                    continue
                num, sep, den = part.partition("/")
                num, den = num.strip(), den.strip()
                if not sep or not num or not den:
                    msg = f"ratio {part!r}; expected NUMERATOR/DENOMINATOR, e.g. p-ALK/ALK"
                    raise InputError(msg)
                for t in (num, den):
                    if t not in known:
                        msg = f"ratio {part!r}: no target {t!r} in the design (targets: {known})"
                        raise InputError(msg)
                pairs.append((num, den))
        return pairs
    lower = {t.lower(): t for t in known}
    pairs = []
    for t in known:
        low = t.lower()
        for prefix in ("p-", "phospho-", "phospho "):
            if low.startswith(prefix):
                rest = low[len(prefix) :].split()[0] if low[len(prefix) :].split() else ""
                if rest in lower and lower[rest] != t:
                    pairs.append((t, lower[rest]))
                break
    return pairs


def ratio_table(norm: pd.DataFrame, pairs: Sequence[tuple[str, str]]) -> pd.DataFrame:
    """Phospho/total ratio per blot x sample for each pair (see the module docstring)."""
    cols = [
        *_LABELS,
        "target",
        "numerator",
        "denominator",
        "numerator_membrane",
        "denominator_membrane",
        "numerator_lane",
        "denominator_lane",
        "normalisation",
        "ratio",
        "flags",
    ]
    rows = []
    for num, den in pairs:
        a = norm[norm["target"] == num]
        b = norm[norm["target"] == den].set_index(["blot", "sample"])
        for r in a.itertuples():
            key = (r.blot, r.sample)
            if key not in b.index:
                continue
            d = b.loc[key]
            flags = [r.flags, d["flags"]]
            if r.membrane == d["membrane"]:
                how = "same_membrane"
                ratio = r.target_volume / d["target_volume"] if d["target_volume"] > 0 else math.nan
            else:
                how = "separate_membranes_each_to_own_loading_control"
                if (
                    np.isfinite(r.normalised)
                    and np.isfinite(d["normalised"])
                    and d["normalised"] > 0
                ):
                    ratio = r.normalised / d["normalised"]
                else:
                    ratio = math.nan
                    flags.append("ratio_unknown_without_loading_control")
            rows.append(
                {
                    "blot": r.blot,
                    "sample": r.sample,
                    "cell_line": r.cell_line,
                    "treatment": r.treatment,
                    "dose": r.dose,
                    "dose_unit": r.dose_unit,
                    "control": r.control,
                    "target": f"{num}/{den}",
                    "numerator": num,
                    "denominator": den,
                    "numerator_membrane": r.membrane,
                    "denominator_membrane": d["membrane"],
                    "numerator_lane": r.lane,
                    "denominator_lane": int(d["lane"]),
                    "normalisation": how,
                    "ratio": ratio,
                    "flags": _flags(*flags),
                }
            )
    return pd.DataFrame(rows, columns=cols)


def add_fold_change(frame: pd.DataFrame, value: str) -> pd.DataFrame:
    """Add ``fold_change``: ``value`` over the geometric mean of the same blot's control lanes.

    Groups are blot x cell line x target. A group without a control lane gets NaN and the
    ``no_control_lane`` flag; one whose control values are unknown or not positive gets NaN
    and ``control_value_unknown``.
    """
    out = frame.copy()
    out["fold_change"] = math.nan
    if out.empty:
        return out
    key = out["cell_line"].fillna("")
    for idx in out.groupby([out["blot"], key, out["target"]]).groups.values():
        grp = out.loc[idx]
        ctrl_all = grp[grp["control"].astype(bool)][value]
        ctrl = ctrl_all[np.isfinite(ctrl_all) & (ctrl_all > 0)]
        if ctrl.empty:
            why = "no_control_lane" if ctrl_all.empty else "control_value_unknown"
            out.loc[idx, "flags"] = [_flags(f, why) for f in grp["flags"]]
            continue
        ref = float(np.exp(np.log(ctrl).mean()))
        out.loc[idx, "fold_change"] = grp[value] / ref
    return out


def condition_label(r: pd.Series) -> str:
    dose = (
        ""
        if pd.isna(r["dose"])
        else f" {r['dose']:g}{(' ' + r['dose_unit']) if r['dose_unit'] else ''}"
    )
    return f"{r['treatment'] or 'untreated'}{dose}".strip()


_AGG_COLS = [
    "cell_line",
    "target",
    "treatment",
    "dose",
    "dose_unit",
    "control",
    "condition",
    "sample",
    "n_blots",
    "fold_change",
    "ci_low",
    "ci_high",
    "log_fc_mean",
    "log_fc_sd",
    "p_value",
    "method",
    "converged",
    "flags",
]


def aggregate_replicates(
    frame: pd.DataFrame,
    *,
    value: str,
    method: Aggregate = "log_t",
    confidence: float = 0.95,
) -> tuple[pd.DataFrame, list[str]]:
    """Combine replicate blots per cell line x target x condition on the log scale.

    Returns the table and warnings (model problems are flags and warnings, never silent).
    """
    if method not in ("log_t", "mixed"):
        msg = f"replicate aggregation {method!r}; expected log_t or mixed"
        raise InputError(msg)
    if not 0 < confidence < 1:
        msg = f"confidence must be between 0 and 1, got {confidence}"
        raise InputError(msg)
    if frame.empty:
        return pd.DataFrame(columns=_AGG_COLS), []
    df = frame.copy()
    df["condition"] = df.apply(condition_label, axis=1)
    df["cell_line_key"] = df["cell_line"].fillna("")
    if method == "log_t":
        return _aggregate_log_t(df, confidence), []
    return _aggregate_mixed(df, value=value, confidence=confidence)


def _sample_label(grp: pd.DataFrame) -> str:
    names = list(dict.fromkeys(grp["sample"]))
    if len(names) == 1:
        return str(names[0])
    cl = grp["cell_line"].iloc[0]
    return f"{cl + ' ' if isinstance(cl, str) and cl else ''}{grp['condition'].iloc[0]}"


def _aggregate_log_t(df: pd.DataFrame, confidence: float) -> pd.DataFrame:
    rows = []
    keys = ["cell_line_key", "target", "condition"]
    for _, grp in df.groupby(keys, sort=False):
        first = grp.iloc[0]
        usable = grp[np.isfinite(grp["fold_change"]) & (grp["fold_change"] > 0)]
        flags = []
        if len(usable) < len(grp):
            flags.append("values_not_positive_or_unknown_excluded")
        # Several lanes of one condition on one blot: average them (log scale) first.
        per_blot = np.log(usable["fold_change"]).groupby(usable["blot"]).mean()
        n = len(per_blot)
        mean = float(per_blot.mean()) if n else math.nan
        sd = float(per_blot.std(ddof=1)) if n > 1 else math.nan
        lo = hi = p = math.nan
        if n > 1:
            half = stats.t.ppf(0.5 + confidence / 2, n - 1) * sd / math.sqrt(n)
            lo, hi = math.exp(mean - half), math.exp(mean + half)
            if sd > 0 and not bool(first["control"]):
                p = float(2 * stats.t.sf(abs(mean) / (sd / math.sqrt(n)), n - 1))
        else:
            flags.append("single_blot_no_ci")
        flags_all = _flags(*grp["flags"].tolist(), *flags)
        rows.append(
            {
                "cell_line": first["cell_line"],
                "target": first["target"],
                "treatment": first["treatment"],
                "dose": first["dose"],
                "dose_unit": first["dose_unit"],
                "control": bool(first["control"]),
                "condition": first["condition"],
                "sample": _sample_label(grp),
                "n_blots": n,
                "fold_change": math.exp(mean) if n else math.nan,
                "ci_low": lo,
                "ci_high": hi,
                "log_fc_mean": mean,
                "log_fc_sd": sd,
                "p_value": p,
                "method": "geometric_mean_t",
                "converged": None,
                "flags": flags_all,
            }
        )
    return pd.DataFrame(rows, columns=_AGG_COLS)


def _aggregate_mixed(
    df: pd.DataFrame, *, value: str, confidence: float
) -> tuple[pd.DataFrame, list[str]]:
    import statsmodels.formula.api as smf

    rows: list[dict[str, object]] = []
    notes: list[str] = []
    for (cl_key, target), grp in df.groupby(["cell_line_key", "target"], sort=False):
        g = grp[np.isfinite(grp[value]) & (grp[value] > 0)].copy()
        controls = list(dict.fromkeys(g.loc[g["control"].astype(bool), "condition"]))
        base_flags: list[str] = []
        if len(g) < len(grp):
            base_flags.append("values_not_positive_or_unknown_excluded")
        if len(controls) != 1 or g["blot"].nunique() < 2 or g["condition"].nunique() < 2:
            why = (
                "needs one control condition, >= 2 blots and >= 2 conditions"
                f" (controls {controls}, blots {g['blot'].nunique()})"
            )
            notes.append(f"mixed model for {cl_key or 'all'} {target}: {why}; not fitted")
            fit = None
        else:
            g["y"] = np.log(g[value])
            ref = controls[0].replace("'", "\\'")
            formula = f"y ~ C(condition, Treatment(reference='{ref}'))"
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                try:
                    fit = smf.mixedlm(formula, g, groups=g["blot"]).fit(reml=True)
                except (np.linalg.LinAlgError, ValueError) as exc:
                    fit = None
                    notes.append(f"mixed model for {cl_key or 'all'} {target} failed: {exc}")
            for w in caught:
                text = " ".join(str(w.message).split())
                notes.append(f"mixed model for {cl_key or 'all'} {target}: {text}")
                base_flags.append("mixed_model_warning")
        ci = fit.conf_int(alpha=1 - confidence) if fit is not None else None
        for cond, sub in g.groupby("condition", sort=False):
            first = sub.iloc[0]
            flags = list(base_flags)
            fc = lo = hi = p = math.nan
            if fit is not None and ci is not None:
                if bool(first["control"]):
                    fc = 1.0
                else:
                    name = next((n for n in fit.params.index if n.endswith(f"[T.{cond}]")), None)
                    if name is not None:
                        fc = math.exp(float(fit.params[name]))
                        lo, hi = (math.exp(float(v)) for v in ci.loc[name])
                        p = float(fit.pvalues[name])
                if not fit.converged:
                    flags.append("not_converged")
            rows.append(
                {
                    "cell_line": first["cell_line"],
                    "target": target,
                    "treatment": first["treatment"],
                    "dose": first["dose"],
                    "dose_unit": first["dose_unit"],
                    "control": bool(first["control"]),
                    "condition": cond,
                    "sample": _sample_label(sub),
                    "n_blots": int(sub["blot"].nunique()),
                    "fold_change": fc,
                    "ci_low": lo,
                    "ci_high": hi,
                    "log_fc_mean": math.log(fc) if fc > 0 else math.nan,
                    "log_fc_sd": math.nan,
                    "p_value": p,
                    "method": "mixed_model_blot_random_intercept",
                    "converged": None if fit is None else bool(fit.converged),
                    "flags": _flags(*sub["flags"].tolist(), *flags),
                }
            )
    return pd.DataFrame(rows, columns=_AGG_COLS), list(dict.fromkeys(notes))


def linearity_table(bands: pd.DataFrame) -> pd.DataFrame:
    """Band volume vs protein loaded (design ``load``), per image x target.

    Ordinary least squares of volume on load over bands without ``saturated``/
    ``near_saturation``/``low_signal``/``not_detected`` flags; R² and the log-log slope
    (1 = proportional).
    """
    cols = [
        "image",
        "target",
        "n_bands",
        "n_used",
        "slope",
        "intercept",
        "r_squared",
        "loglog_slope",
        "excluded_loads",
    ]
    rows = []
    sub = bands[np.isfinite(bands["load"]) & (bands["load"] > 0)]
    bad = ("saturated", "near_saturation", "low_signal", "not_detected")
    for (image, target), grp in sub.groupby(["image", "target"], sort=False):
        ok = grp[[not any(f in str(fl).split(";") for f in bad) for fl in grp["flags"]]]
        ok = ok[ok["volume"] > 0]
        excluded = sorted(set(grp["load"]) - set(ok["load"]))
        slope = icpt = r2 = ll = math.nan
        if ok["load"].nunique() >= 3:
            x, y = ok["load"].to_numpy(float), ok["volume"].to_numpy(float)
            fit = stats.linregress(x, y)
            slope, icpt, r2 = float(fit.slope), float(fit.intercept), float(fit.rvalue**2)
            ll = float(stats.linregress(np.log(x), np.log(y)).slope)
        rows.append(
            {
                "image": image,
                "target": target,
                "n_bands": len(grp),
                "n_used": len(ok),
                "slope": slope,
                "intercept": icpt,
                "r_squared": r2,
                "loglog_slope": ll,
                "excluded_loads": ";".join(f"{v:g}" for v in excluded),
            }
        )
    return pd.DataFrame(rows, columns=cols)
