"""Fit a batch of curves and derive their summaries (pandas-free, for the streaming path).

:func:`fit_arrays` is the table-level fit on curves already padded to
``(n_curves, n_points)`` arrays: the engine (with its fallback), the ED50 (and optionally an
absolute ICx) with delta-method CIs, R², information criteria, lack-of-fit and flat-curve
tests and the AUC metrics. :func:`kinresist.dose.fit.fit_curves` wraps it for tables;
:func:`fits_table` lays the result out as the tidy ``fits`` table (pyarrow).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from kinresist.dose import metrics as M
from kinresist.dose.batchfit import FLAG_BITS, STATUS_LABELS, BatchFit, unique_small
from kinresist.dose.engine import fit_batch

__all__ = ["FIT_COLUMNS", "FitSummary", "fit_arrays", "fits_table"]

#: summary columns after the parameters and the ED50 (as kinresist.dose.result.fits_frame)
FIT_COLUMNS = (
    "rss", "df", "n", "converged", "status", "r2", "aic", "auc", "activity_area", "emax",
    "lack_of_fit_p", "flat_test_p",
)  # fmt: skip


@dataclass(frozen=True)
class FitSummary:
    """Fits of a batch of curves and what is derived from them."""

    groups: list[str]
    fit: BatchFit
    dose: np.ndarray
    response: np.ndarray
    ed50: M.EDResult
    ic50_abs: M.EDResult | None
    extras: dict[str, np.ndarray]
    ci_level: float


def fit_arrays(
    labels: list[str],
    x: np.ndarray,
    y: np.ndarray,
    *,
    model: str = "LL.4",
    se: str = "jtj",
    fixed: Mapping[str, float] | None = None,
    absolute_level: float | None = None,
    ci_level: float = 0.95,
    fallback: bool = True,
    backend: str = "auto",
) -> FitSummary:
    """Fit ``(n_curves, n_points)`` dose/response arrays (NaN-padded) and summarise."""
    fit = fit_batch(x, y, model=model, fixed=fixed, se=se, fallback=fallback, backend=backend)  # type: ignore[arg-type]
    ed50 = M.ed(fit, [50.0], ci_level=ci_level)
    abs_ed = (
        M.ed(fit, [absolute_level], kind="absolute", ci_level=ci_level) if absolute_level else None
    )
    ic = M.information_criteria(fit)
    extras = {
        "r2": M.r_squared(fit, x, y),
        "aic": ic["aic"],
        "aicc": ic["aicc"],
        "bic": ic["bic"],
        "loglik": ic["loglik"],
        "lack_of_fit_p": M.lack_of_fit(fit, x, y).p,
        "flat_test_p": M.flat_test(fit, x, y).p,
    }
    if "top" in fit.param_names:
        extras.update(M.auc_metrics(fit))
    return FitSummary(list(labels), fit, x, y, ed50, abs_ed, extras, ci_level)


def fits_table(s: FitSummary, group: Any = None) -> Any:
    """The tidy ``fits`` table (pyarrow): one row per curve, the columns of
    :func:`kinresist.dose.result.fits_frame` (plus ``ic50_absolute_*`` when requested);
    non-finite numbers are null. ``group``: the labels as a pyarrow array, if at hand."""
    import pyarrow as pa

    from kinresist.dose import _arrow as A

    f = s.fit
    lo, hi = f.ci(s.ci_level)
    n = f.n_curves
    zeros = np.zeros(n, dtype=np.int32)
    cols: dict[str, Any] = {
        "group": A.strings(s.groups) if group is None else group,
        "model": A.dict_strings(zeros, [f.model]),
        "se_method": A.dict_strings(zeros, [f.se_method]),
    }
    for j, name in enumerate(f.param_names):
        for key, arr in (("estimate", f.params), ("se", f.se), ("ci_low", lo), ("ci_high", hi)):
            cols[f"{name}_{key}"] = A.floats(arr[:, j])
    ed = s.ed50
    for key, arr in (("estimate", ed.estimate), ("se", ed.se), ("ci_low", ed.ci_low), ("ci_high", ed.ci_high)):  # fmt: skip
        cols[f"ed50_{key}"] = A.floats(arr[:, 0])
    cols["ed50_note"] = _texts(ed.side[:, 0])
    for key in FIT_COLUMNS:
        if key in ("df", "n"):
            cols[key] = A.int64s(f.df if key == "df" else f.n_obs)
        elif key == "converged":
            cols[key] = A.bools(f.converged)
        elif key == "status":
            cols[key] = A.dict_strings(f.status_codes(), STATUS_LABELS)
        elif key == "rss":
            cols[key] = A.floats(f.rss)
        else:
            cols[key] = A.floats(s.extras.get(key, np.full(n, np.nan)))
    if s.ic50_abs is not None:
        a = s.ic50_abs
        for key, arr in (("estimate", a.estimate), ("se", a.se), ("ci_low", a.ci_low), ("ci_high", a.ci_high)):  # fmt: skip
            cols[f"ic50_absolute_{key}"] = A.floats(arr[:, 0])
        cols["ic50_absolute_note"] = _texts(a.side[:, 0])
    codes, inverse = unique_small(np.asarray(f.flag_bits, dtype=np.int64))
    text = [";".join(nm for nm, bit in FLAG_BITS.items() if int(c) & bit) for c in codes]
    cols["flags"] = A.dict_strings(inverse.reshape(-1), text)
    return pa.table(cols)


def _texts(values: np.ndarray) -> Any:
    """A string column from an object array of ``str`` holding a few distinct notes
    (dictionary codes in one pass; pandas-free)."""
    from kinresist.dose import _arrow as A

    codes = np.zeros(len(values), dtype=np.int32)
    seen: dict[str, int] = {"": 0}
    noted = np.flatnonzero(values != "")  # most curves have no note
    if noted.size:
        codes[noted] = [seen.setdefault(v, len(seen)) for v in values[noted].tolist()]
    return A.dict_strings(codes, list(seen))
