"""Plate normalisation and quality control.

Per plate: blank subtraction (mean of ``blank`` wells), then percent of vehicle:
``100·(s − blank)/(vehicle − blank)``; with ``kill_as_zero`` the positive (kill)
control defines 0 %: ``100·(s − pos)/(vehicle − pos)``.

QC per plate (each with a flag in the output):

* Z'-factor (Zhang, Chung & Oldenburg 1999) = 1 − 3(σ_veh + σ_pos)/|μ_veh − μ_pos|,
  using the positive control (else the blank); flag ``z_prime_low`` when < 0.5;
* CVs of the vehicle and positive-control wells; flag ``vehicle_cv_high`` /
  ``positive_cv_high`` when > 20 %;
* edge effect: mean of vehicle wells on the outer ring vs the interior (Welch t
  test), flag ``edge_effect`` when they differ by > 10 % with p < 0.05; with no
  interior vehicle wells, the sample wells' normalised responses at the same dose
  are compared instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from kinresist.errors import InputError

__all__ = ["PlateQC", "combine_plate_and_map", "normalise_plates"]

Z_PRIME_MIN = 0.5
CV_MAX = 20.0
EDGE_DIFF = 0.10


@dataclass(frozen=True)
class PlateQC:
    """Quality metrics of one plate."""

    plate: str
    z_prime: float
    vehicle_cv: float
    positive_cv: float
    edge_ratio: float
    edge_p: float
    n_vehicle: int
    n_blank: int
    n_positive: int
    flags: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def combine_plate_and_map(
    plate: pd.DataFrame,
    plate_map: pd.DataFrame,
    *,
    plate_path: str | PathLike[str] | None = None,
    map_path: str | PathLike[str] | None = None,
) -> pd.DataFrame:
    """Join reader wells with the map (by plate and well, or by well for plate-less maps).

    Every mapped well must have a signal; unmapped wells are dropped. ``plate_path`` and
    ``map_path`` (when given) are named in the errors.
    """
    if plate_map["plate"].isna().all() or plate_map["plate"].isin([None, "None"]).all():
        pm = plate_map.drop(columns=["plate"])
        merged = plate.merge(pm, on="well", how="inner")
        expected = len(pm) * plate["plate"].nunique()
    else:
        merged = plate.merge(plate_map, on=["plate", "well"], how="inner")
        expected = len(plate_map)
    if len(merged) < expected:
        have = set(zip(merged["plate"], merged["well"], strict=True))
        plates = plate["plate"].unique()
        missing = [f"{p}:{w}" for p in plates for w in plate_map["well"] if (p, w) not in have][:5]
        msg = (
            f"{expected - len(merged)} mapped wells have no reading in the plate file"
            f"{_named(plate_path)} (e.g. {', '.join(missing)}); check the plate size and the "
            "map's plate names"
        )
        raise InputError(msg, path=map_path)
    mapped = merged[merged["role"].isin(["sample", "vehicle"])]
    if mapped["signal"].isna().all():
        msg = f"no measured signal in any sample or vehicle well of the plate file{_named(plate_path)}"
        raise InputError(msg, path=map_path)
    return merged


def _named(path: str | PathLike[str] | None) -> str:
    return f" {Path(path).name!r}" if path is not None else ""


def _cv(v: np.ndarray) -> float:
    v = v[np.isfinite(v)]
    if v.size < 2 or np.mean(v) == 0:
        return float("nan")
    return float(100 * np.std(v, ddof=1) / abs(np.mean(v)))


def normalise_plates(
    wells: pd.DataFrame,
    *,
    kill_as_zero: bool = False,
    n_rows: int | None = None,
    n_cols: int | None = None,
    map_path: str | PathLike[str] | None = None,
) -> tuple[pd.DataFrame, list[PlateQC]]:
    """Normalise each plate to percent of vehicle and compute QC.

    Parameters
    ----------
    wells
        Output of :func:`combine_plate_and_map` (plate, well, row, column, signal,
        role, cell_line, drug, dose_nm, replicate).
    kill_as_zero
        Use the positive-control mean as 0 % instead of the blank.
    map_path
        The plate map the roles come from, named in the errors.

    Returns
    -------
    (table, qc)
        ``table``: sample and vehicle wells with ``response`` (% of vehicle);
        ``qc``: one :class:`PlateQC` per plate.
    """
    out = []
    qcs = []
    for plate, df in wells.groupby("plate", sort=False):
        sig = df["signal"].to_numpy(float)
        role = df["role"].to_numpy()
        veh = sig[(role == "vehicle") & np.isfinite(sig)]
        blank = sig[(role == "blank") & np.isfinite(sig)]
        pos = sig[(role == "positive") & np.isfinite(sig)]
        if veh.size == 0:
            msg = (
                f"plate {plate!r} has no measured vehicle (0 dose) wells: cannot normalise to "
                "percent of vehicle; give vehicle wells in the map (role 'vehicle')"
            )
            raise InputError(msg, path=map_path)
        base = 0.0
        if kill_as_zero:
            if pos.size == 0:
                msg = (
                    f"plate {plate!r}: kill_as_zero needs positive-control wells (role 'positive')"
                )
                raise InputError(msg, path=map_path)
            base = float(np.mean(pos))
        elif blank.size:
            base = float(np.mean(blank))
        denom = float(np.mean(veh)) - base
        if denom == 0 or not np.isfinite(denom):
            msg = (
                f"plate {plate!r}: the vehicle mean ({np.mean(veh):g}) equals the baseline "
                f"({base:g}) or is not finite; cannot normalise to percent of vehicle"
            )
            raise InputError(msg, path=map_path)
        with np.errstate(over="ignore", invalid="ignore"):
            resp = 100.0 * (sig - base) / denom
        if not np.isfinite(resp[np.isfinite(sig)]).all():
            msg = (
                f"plate {plate!r}: signals overflow when normalised to percent of vehicle "
                f"(vehicle {np.mean(veh):g}, baseline {base:g}); check the plate file's values"
            )
            raise InputError(msg, path=map_path)
        flags: list[str] = []
        low = pos if pos.size >= 2 else blank
        if low.size >= 2 and veh.size >= 2:
            zp = 1 - 3 * (np.std(veh, ddof=1) + np.std(low, ddof=1)) / abs(
                np.mean(veh) - np.mean(low)
            )
        else:
            zp = float("nan")
        if np.isfinite(zp) and zp < Z_PRIME_MIN:
            flags.append("z_prime_low")
        vcv, pcv = _cv(veh), _cv(pos)
        if np.isfinite(vcv) and vcv > CV_MAX:
            flags.append("vehicle_cv_high")
        if np.isfinite(pcv) and pcv > CV_MAX:
            flags.append("positive_cv_high")
        ratio, pval = _edge_effect(df, resp, n_rows=n_rows, n_cols=n_cols)
        if np.isfinite(ratio) and abs(ratio - 1) > EDGE_DIFF and pval < 0.05:
            flags.append("edge_effect")
        qc = PlateQC(
            str(plate),
            float(zp),
            vcv,
            pcv,
            ratio,
            pval,
            int(veh.size),
            int(blank.size),
            int(pos.size),
            flags,
        )
        qcs.append(qc)
        part = df.assign(response=resp)
        out.append(part[part["role"].isin(["sample", "vehicle"])])
    table = pd.concat(out, ignore_index=True)
    return table, qcs


def _edge_effect(
    df: pd.DataFrame, resp: np.ndarray, *, n_rows: int | None, n_cols: int | None
) -> tuple[float, float]:
    rows = df["row"].to_numpy()
    cols = df["column"].to_numpy()
    nr = n_rows or (16 if rows.max() >= 8 or cols.max() > 12 else 8)
    nc = n_cols or (24 if nr == 16 else 12)
    edge = (rows == 0) | (rows == nr - 1) | (cols == 1) | (cols == nc)
    role = df["role"].to_numpy()
    ok = np.isfinite(resp)
    veh = (role == "vehicle") & ok
    a, b = resp[veh & edge], resp[veh & ~edge]
    if a.size < 2 or b.size < 2:
        # compare sample wells at the same dose, edge vs interior (paired by dose)
        dose = df["dose_nm"].to_numpy(float)
        sample = (role == "sample") & ok
        ratios = []
        for d in np.unique(dose[sample]):
            e_v = resp[sample & edge & (dose == d)]
            i_v = resp[sample & ~edge & (dose == d)]
            if e_v.size and i_v.size and np.mean(i_v) > 20:
                ratios.append(np.mean(e_v) / np.mean(i_v))
        if len(ratios) < 3:
            return float("nan"), float("nan")
        lr = np.log(np.asarray(ratios))
        if np.std(lr) == 0:
            return float(np.exp(np.mean(lr))), 0.0 if np.mean(lr) != 0 else 1.0
        p = float(stats.ttest_1samp(lr, 0.0).pvalue)
        return float(np.exp(np.mean(lr))), p
    if np.std(a) == 0 and np.std(b) == 0:
        return float(np.mean(a) / np.mean(b)), 1.0 if np.mean(a) == np.mean(b) else 0.0
    p = float(stats.ttest_ind(a, b, equal_var=False).pvalue)
    return float(np.mean(a) / np.mean(b)), p
