"""Table-level API: read a dose-response table, fit every group, summarise.

:func:`fit_curves` is what the CLI ``kinresist dose fit`` calls: it pads the
groups into one ``(n_groups, n_points)`` batch, fits them with
:func:`~kinresist.dose.engine.fit_batch` and returns a :class:`CurveFits` whose
:meth:`~CurveFits.to_records` gives the contract fields (``group``, ``model``,
``parameters`` {``hill``, ``bottom``, ``top``, ``ec50``[, ``asymmetry``]} each
{``estimate``, ``se``, ``ci_low``, ``ci_high``}, ``rss``, ``df``, ``converged``,
``flags``) plus ED50 / absolute IC50, AUC, R², AIC and tests.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from kinresist.dose import metrics as M
from kinresist.dose.engine import fit_batch
from kinresist.dose.models import DRC_LETTERS, get_model
from kinresist.dose.summary import FitSummary, fit_arrays
from kinresist.dose.units import unit_factor
from kinresist.errors import InputError

__all__ = [
    "CurveFits",
    "DoseTable",
    "fit_curves",
    "pad_groups",
    "read_dose_table",
    "select_models",
]


@dataclass(frozen=True)
class DoseTable:
    """Observations: ``dose`` (in ``unit``), ``response``, ``group`` (str)."""

    frame: pd.DataFrame
    unit: str | None
    source: str | None = None


def read_dose_table(
    path: str | Path,
    *,
    dose_col: str,
    response_col: str,
    group_col: str | None = None,
    unit: str | None = None,
    log_dose: bool = False,
    min_groups: int = 1,
) -> DoseTable:
    """Read an already-normalised table (CSV/TSV/XLSX/Parquet) with checks.

    Refused, with the file, line and column named (:class:`~kinresist.errors.InputError`): an
    unreadable, empty or header-only file (:func:`~kinresist.dose.tables.read_frame`), text or
    non-finite values (``inf`` is never dropped silently; ``NA`` marks a well not measured),
    negative doses (a dose column that looks log-transformed, unless ``log_dose`` says the
    values are log10 doses, converted here), and a group with fewer than two distinct positive
    doses (no curve can be fitted; all-zero doses used to give a "converged" IC50 of 1), or
    fewer than ``min_groups`` groups (a comparison needs two).
    """
    from kinresist.dose.tables import MAX_ABS, finite_column, read_frame, require_columns

    path = Path(path)
    factor = unit_factor(unit, where="--unit") if unit else 1.0
    raw = read_frame(path)
    require_columns(raw, [dose_col, response_col, *([group_col] if group_col else [])], path=path)
    dose = finite_column(raw[dose_col], path=path, name=dose_col)
    resp = finite_column(raw[response_col], path=path, name=response_col)
    if log_dose:
        with np.errstate(over="ignore"):
            dose = 10.0**dose
        bad = np.isinf(dose)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            msg = f"log10 dose {raw[dose_col].iloc[i]!r} overflows (10**value is infinite); are the doses really log10?"
            raise InputError(msg, path=path, line=i + 2, column=dose_col)
    elif "log" in dose_col.lower():
        msg = (
            f"the dose column {dose_col!r} is named like a log-transformed dose; give doses on the "
            "linear scale or pass --log-dose if the values are log10 doses"
        )
        raise InputError(msg, path=path, column=dose_col)
    elif np.any(dose[np.isfinite(dose)] < 0):
        i = int(np.flatnonzero(dose < 0)[0])
        msg = (
            f"dose {dose[i]:g} is negative: the dose column looks log-transformed; give doses on the "
            "linear scale (dose = 10**value) or pass --log-dose"
        )
        raise InputError(msg, path=path, line=i + 2, column=dose_col)
    groups = raw[group_col].astype(str).to_numpy() if group_col else np.full(len(raw), "all")
    with np.errstate(over="ignore"):
        scaled = dose * factor
    big = np.isfinite(scaled) & (np.abs(scaled) > MAX_ABS)
    if np.isinf(scaled).any() or big.any():
        i = int(np.flatnonzero(np.isinf(scaled) | big)[0])
        msg = f"dose {dose[i]:g} {unit or ''} is implausibly large (> {MAX_ABS:g}) once converted"
        raise InputError(msg, path=path, line=i + 2, column=dose_col)
    frame = pd.DataFrame({"dose": scaled, "response": resp, "group": groups})
    frame = frame[np.isfinite(frame["dose"]) & np.isfinite(frame["response"])]
    if frame.empty:
        msg = "no rows with both a dose and a response (every row has NA in one of them)"
        raise InputError(msg, path=path)
    # distinct positive doses per group (vectorised); the first group short of two is refused
    positive_rows = frame[frame["dose"].to_numpy() > 0]
    distinct = positive_rows.groupby("group", sort=False)["dose"].nunique()
    labels = pd.unique(frame["group"])
    short = np.flatnonzero(distinct.reindex(labels, fill_value=0).to_numpy() < 2)
    if short.size:
        g = labels[int(short[0])]
        positive = np.unique(
            positive_rows["dose"].to_numpy()[(positive_rows["group"] == g).to_numpy()]
        )
        where = f"group {g!r}" if group_col else "the table"
        shown = ", ".join(f"{d:g}" for d in positive) or "none"
        msg = (
            f"{where} has {positive.size} distinct positive dose(s) ({shown}); a dose-response "
            "curve needs at least two distinct positive doses (all-zero or constant doses "
            "cannot give an IC50): check the dose column and the unit"
        )
        raise InputError(msg, path=path, column=dose_col)
    n_groups = frame["group"].nunique()
    if n_groups < min_groups:
        msg = (
            f"{n_groups} group(s) in column {group_col!r}; a comparison needs at least "
            f"{min_groups} (the first group is the reference)"
        )
        raise InputError(msg, path=path, column=group_col)
    return DoseTable(frame.reset_index(drop=True), "nM" if unit else None, str(path))


def pad_groups(frame: pd.DataFrame) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Group labels (first-appearance order) and NaN-padded dose/response arrays."""
    gi, uniques = pd.factorize(frame["group"].astype(str), sort=False)
    labels = [str(u) for u in uniques]
    counts = np.bincount(gi, minlength=len(labels))
    width = int(counts.max()) if counts.size else 0
    order = np.argsort(gi, kind="stable")
    pos = np.arange(len(gi)) - np.repeat(np.cumsum(counts) - counts, counts)
    x = np.full((len(labels), width), np.nan)
    y = np.full((len(labels), width), np.nan)
    x[gi[order], pos] = frame["dose"].to_numpy(float)[order]
    y[gi[order], pos] = frame["response"].to_numpy(float)[order]
    return labels, x, y


@dataclass(frozen=True)
class CurveFits(FitSummary):
    """Fits of every group of one table (:class:`~kinresist.dose.summary.FitSummary`)."""

    def to_records(self) -> list[dict[str, Any]]:
        """One contract record per group (linear in the number of groups; arrays become
        Python lists once, non-finite numbers ``None``)."""
        f = self.fit
        lo, hi = f.ci(self.ci_level)
        status, flags = f.status, f.flags  # computed once, not per group
        ed = self.ed50
        cols = {
            "p": _nums(f.params),
            "se": _nums(f.se),
            "lo": _nums(lo),
            "hi": _nums(hi),
            "ed": _nums(
                np.column_stack([ed.estimate[:, 0], ed.se[:, 0], ed.ci_low[:, 0], ed.ci_high[:, 0]])
            ),
            "rss": _nums(f.rss),
            "range": _nums(np.column_stack([f.dose_min, f.dose_max])),
        }
        extras = {key: _nums(arr) for key, arr in self.extras.items()}
        df, n_obs, conv = f.df.tolist(), f.n_obs.tolist(), np.asarray(f.converged).tolist()
        note = ed.side[:, 0].tolist()
        a = self.ic50_abs
        if a is not None:
            cols["abs"] = _nums(
                np.column_stack([a.estimate[:, 0], a.se[:, 0], a.ci_low[:, 0], a.ci_high[:, 0]])
            )
            abs_note = a.side[:, 0].tolist()
        meta = [
            (j, name, not f.free[j], DRC_LETTERS.get(name, name))
            for j, name in enumerate(f.param_names)
        ]
        recs = []
        for i, g in enumerate(self.groups):
            p, se, low, high = cols["p"][i], cols["se"][i], cols["lo"][i], cols["hi"][i]
            params = {
                name: {
                    "estimate": p[j],
                    "se": se[j],
                    "ci_low": low[j],
                    "ci_high": high[j],
                    "fixed": fixed,
                    "drc": letter,
                }
                for j, name, fixed, letter in meta
            }
            e50 = cols["ed"][i]
            rec: dict[str, Any] = {
                "group": g,
                "model": f.model,
                "parameters": params,
                "rss": cols["rss"][i],
                "df": df[i],
                "n": n_obs[i],
                "converged": conv[i],
                "status": status[i],
                "flags": list(flags[i]),
                "se_method": f.se_method,
                "ci_level": self.ci_level,
                "ed50": {
                    "estimate": e50[0],
                    "se": e50[1],
                    "ci_low": e50[2],
                    "ci_high": e50[3],
                    "note": note[i],
                    "interval": "delta",
                },
                "dose_range": cols["range"][i],
            }
            if a is not None:
                v = cols["abs"][i]
                rec["ic50_absolute"] = {
                    "level": a.levels[0],
                    "estimate": v[0],
                    "se": v[1],
                    "ci_low": v[2],
                    "ci_high": v[3],
                    "note": abs_note[i],
                }
            for key, vals in extras.items():
                rec[key] = vals[i]
            recs.append(rec)
        return recs


def _nums(arr: np.ndarray) -> list[Any]:
    """Array -> nested Python lists with non-finite values as None."""
    a = np.asarray(arr, dtype=float).astype(object)
    a[~np.isfinite(np.asarray(arr, dtype=float))] = None
    out: list[Any] = a.tolist()
    return out


def _num(v: Any) -> float | None:
    v = float(v)
    return v if np.isfinite(v) else None


def fit_curves(
    table: DoseTable | pd.DataFrame,
    *,
    model: str = "LL.4",
    se: str = "jtj",
    fixed: Mapping[str, float] | None = None,
    absolute_level: float | None = None,
    ci_level: float = 0.95,
    fallback: bool = True,
) -> CurveFits:
    """Fit every group of a dose table.

    Parameters
    ----------
    absolute_level
        Also report the absolute ICx at this response level (e.g. 50 for 50 % of
        vehicle on a percent scale); "not reached" when outside the fitted range.
    fallback
        The engine's fallback for curves LM does not converge on (see
        :func:`~kinresist.dose.engine.fit_batch`): converges wherever scipy
        ``curve_fit`` does, limit curves flagged ``parameter_at_limit``.
    """
    frame = table.frame if isinstance(table, DoseTable) else table
    labels, x, y = pad_groups(frame)
    s = fit_arrays(
        labels,
        x,
        y,
        model=model,
        se=se,
        fixed=fixed,
        absolute_level=absolute_level,
        ci_level=ci_level,
        fallback=fallback,
    )
    return CurveFits(s.groups, s.fit, s.dose, s.response, s.ed50, s.ic50_abs, s.extras, s.ci_level)


def select_models(
    table: DoseTable | pd.DataFrame,
    *,
    models: Sequence[str] = ("LL.4", "LL.3", "LL.5", "W1.4", "W2.4"),
) -> pd.DataFrame:
    """drc ``mselect``-style table per group: logLik, AIC, AICc, BIC, lack-of-fit p,
    residual variance; sorted by AIC (lower is better) within each group."""
    frame = table.frame if isinstance(table, DoseTable) else table
    labels, x, y = pad_groups(frame)
    rows = []
    for m in models:
        spec = get_model(m)
        fit = fit_batch(x, y, model=spec)
        ic = M.information_criteria(fit)
        lof = M.lack_of_fit(fit, x, y)
        for i, g in enumerate(labels):
            rows.append(
                {
                    "group": g,
                    "model": spec.name,
                    "loglik": ic["loglik"][i],
                    "aic": ic["aic"][i],
                    "aicc": ic["aicc"][i],
                    "bic": ic["bic"][i],
                    "lack_of_fit_p": lof.p[i],
                    "residual_variance": fit.rss[i] / fit.df[i] if fit.df[i] > 0 else np.nan,
                    "converged": bool(fit.converged[i]),
                }
            )
    out = pd.DataFrame(rows)
    out["group"] = pd.Categorical(out["group"], categories=labels, ordered=True)
    return out.sort_values(["group", "aic"]).reset_index(drop=True)
