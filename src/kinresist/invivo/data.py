"""The tumour-growth table every reader produces and every engine consumes.

:class:`GrowthData` wraps a long pandas table with a declared schema (one row per animal
and measurement day) and the facts needed to read it honestly: what the value is
(``volume``, ``area`` or bioluminescence ``flux``), its unit, the caliper formula that
made it, the baseline day the file declares, and where each row came from (file and
line, so that errors can name them).

Caliper formulas (spec §1.1, named, never mixed silently)::

    ellipsoid_half   V = L·W²/2          (default; W = the short axis)
    ellipsoid        V = (π/6)·L·W²
    ellipsoid_geo    V = (π/6)·(L·W)^(3/2)
    area             A = L·W             (TumGrowth / Kroemer-lab data; not a volume)

Zero rules for the log scale (spec §1.1)::

    drop       zeros become missing on the log scale (SynergyLMM ``tum_vol_0 = "ignore"``)
    half_min   zeros -> half the smallest positive value of the study (TumGrowth)
    log1p      log(V + 1) for every value (tumr)
    plus1      log(V + 1) for every value (invivoSyn, SynergyLMM ``"transform"``); the same
               transform as ``log1p``, kept under the name the tool uses
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Literal, get_args

import numpy as np
import pandas as pd

from kinresist.errors import InputError

__all__ = [
    "FORMULAS",
    "ZERO_RULES",
    "Formula",
    "GrowthData",
    "Quantity",
    "ZeroRule",
    "caliper_volume",
    "log_values",
]

Formula = Literal["ellipsoid_half", "ellipsoid", "ellipsoid_geo", "area"]
Quantity = Literal["volume", "area", "flux"]
ZeroRule = Literal["drop", "half_min", "log1p", "plus1"]

FORMULAS: Mapping[str, str] = MappingProxyType(
    {
        "ellipsoid_half": "V = L·W²/2 (W = short axis)",
        "ellipsoid": "V = (π/6)·L·W²",
        "ellipsoid_geo": "V = (π/6)·(L·W)^(3/2)",
        "area": "A = L·W (an area, not a volume)",
    }
)
ZERO_RULES: Mapping[str, str] = MappingProxyType(
    {
        "drop": "zeros are missing on the log scale (SynergyLMM tum_vol_0='ignore')",
        "half_min": "zeros -> half the smallest positive value of the study (TumGrowth)",
        "log1p": "log(V + 1) for every value (tumr)",
        "plus1": "log(V + 1) for every value (invivoSyn; SynergyLMM tum_vol_0='transform')",
    }
)

_COLUMNS = ("subject", "arm", "day", "value", "line", "source_line")


def caliper_volume(length: np.ndarray, width: np.ndarray, formula: Formula) -> np.ndarray:
    """Volume (or area) from two caliper axes by a named formula.

    The longer of the two axes is taken as L and the shorter as W, whatever the column
    order in the file (spec: W = short axis).
    """
    a = np.asarray(length, dtype=float)
    b = np.asarray(width, dtype=float)
    big = np.fmax(a, b)
    small = np.fmin(a, b)
    if formula == "ellipsoid_half":
        return big * small**2 / 2.0
    if formula == "ellipsoid":
        return math.pi / 6.0 * big * small**2
    if formula == "ellipsoid_geo":
        return math.pi / 6.0 * (big * small) ** 1.5
    if formula == "area":
        return big * small
    msg = f"unknown caliper formula {formula!r}; expected one of {sorted(FORMULAS)}"
    raise InputError(msg)


def log_values(
    values: np.ndarray, rule: ZeroRule, *, min_positive: float | None = None
) -> np.ndarray:
    """Natural log of growth values under a named zero rule (NaN stays NaN)."""
    v = np.asarray(values, dtype=float)
    if rule in ("log1p", "plus1"):
        return np.log1p(v)
    if rule == "drop":
        with np.errstate(divide="ignore"):
            out = np.log(np.where(v > 0, v, np.nan))
        return out
    if rule == "half_min":
        if min_positive is None:
            pos = v[np.isfinite(v) & (v > 0)]
            min_positive = float(pos.min()) if pos.size else float("nan")
        return np.log(np.where(v > 0, v, min_positive / 2.0))
    msg = f"unknown zero rule {rule!r}; expected one of {list(get_args(ZeroRule))}"
    raise InputError(msg)


@dataclass(frozen=True)
class GrowthData:
    """Tumour-growth measurements in long form.

    Attributes
    ----------
    table
        Columns ``subject`` (animal id, str), ``arm`` (treatment group, str), ``day``
        (float, study day as in the file), ``value`` (float; NaN = not measured, e.g. the
        animal was removed), ``line`` (PDX line / tumour model, str or empty) and
        ``source_line`` (1-based line of the input file, for error messages).
    quantity
        ``volume``, ``area`` (L·W) or ``flux`` (bioluminescence, analysed on log scale).
    unit
        Unit of ``value`` when known (``mm3``, ``mm2``, ``photons/s``), else None.
    formula
        Caliper formula used to make ``value`` from L and W, or None when the file
        gave the value directly.
    baseline_day
        The baseline day the file declares (invivoSyn: the day ≤ 0 column), or None.
    source
        The file the data came from (for error messages), or None.
    censored_at_last
        Animals the file marks as alive at their last measurement (TumGrowth ``Surv``).
    excluded
        Animals the file excludes from analysis (TumGrowth empty ``Use``): kept out of
        ``table`` and listed here so that reports can say so.
    """

    table: pd.DataFrame
    quantity: Quantity = "volume"
    unit: str | None = None
    formula: Formula | None = None
    baseline_day: float | None = None
    source: str | None = None
    censored_at_last: frozenset[str] = field(default_factory=frozenset)
    excluded: tuple[str, ...] = ()
    reader: str = "long"

    def __post_init__(self) -> None:
        t = self.table
        missing = [c for c in ("subject", "arm", "day", "value") if c not in t.columns]
        if missing:
            msg = f"growth table lacks columns {missing}; it has {list(t.columns)}"
            raise InputError(msg, path=self.source)
        t = t.copy()
        if "line" not in t.columns:
            t["line"] = ""
        if "source_line" not in t.columns:
            t["source_line"] = np.arange(2, len(t) + 2)
        t["subject"] = t["subject"].astype(str)
        t["arm"] = t["arm"].astype(str)
        t["line"] = t["line"].fillna("").astype(str)
        t["day"] = t["day"].astype(float)
        t["value"] = t["value"].astype(float)
        t["source_line"] = t["source_line"].astype(int)
        extra = [c for c in t.columns if c not in _COLUMNS]
        t = t[[*_COLUMNS, *extra]].sort_values(["subject", "day"], kind="stable")
        t = t.reset_index(drop=True)
        object.__setattr__(self, "table", t)
        if self.quantity not in get_args(Quantity):
            msg = f"unknown quantity {self.quantity!r}; expected one of {list(get_args(Quantity))}"
            raise InputError(msg, path=self.source)
        self._check_values()

    def _check_values(self) -> None:
        t = self.table
        bad = t[np.isfinite(t["value"]) & (t["value"] < 0)]
        if len(bad):
            r = bad.iloc[0]
            msg = (
                f"negative {self.quantity} {r['value']:g} for animal {r['subject']!r} on day "
                f"{r['day']:g}; expected values ≥ 0 (0 = no palpable tumour); fix the entry or "
                "leave it empty when the animal was not measured"
            )
            raise InputError(msg, path=self.source, line=int(r["source_line"]), column="value")
        inf = t[np.isinf(t["value"]) | np.isinf(t["day"])]
        if len(inf):
            r = inf.iloc[0]
            msg = "infinite value or day; expected finite numbers"
            raise InputError(msg, path=self.source, line=int(r["source_line"]))
        dup = t[t["value"].notna()].duplicated(["subject", "day"], keep=False)
        if dup.any():
            r = t[t["value"].notna()][dup].iloc[1]
            msg = (
                f"animal {r['subject']!r} has two measurements on day {r['day']:g}; expected "
                "one per animal and day (give each tumour its own subject id, e.g. M1-left)"
            )
            raise InputError(msg, path=self.source, line=int(r["source_line"]), column="day")
        arms = t.groupby("subject")["arm"].nunique()
        if (arms > 1).any():
            s = arms[arms > 1].index[0]
            r = t[t["subject"] == s].iloc[0]
            msg = (
                f"animal {s!r} appears in several arms {sorted(t.loc[t['subject'] == s, 'arm'].unique())}; "
                "expected one arm per animal (animal ids must be unique across arms)"
            )
            raise InputError(msg, path=self.source, line=int(r["source_line"]), column="arm")

    # -- views -----------------------------------------------------------------------
    @property
    def arms(self) -> list[str]:
        """Arms in order of first appearance in the file."""
        t = self.table.sort_values("source_line", kind="stable")
        return list(dict.fromkeys(t["arm"]))

    @property
    def subjects(self) -> list[str]:
        t = self.table.sort_values("source_line", kind="stable")
        return list(dict.fromkeys(t["subject"]))

    @property
    def days(self) -> np.ndarray:
        return np.unique(self.table["day"].to_numpy(float))

    @property
    def has_lines(self) -> bool:
        """True for PDX sets: several tumour lines, each with its own arms."""
        return bool((self.table["line"] != "").any())

    def measured(self) -> pd.DataFrame:
        """Rows with a measured value."""
        t = self.table
        return t[t["value"].notna()].reset_index(drop=True)

    def subset(self, mask: pd.Series | np.ndarray) -> GrowthData:
        return replace(self, table=self.table[np.asarray(mask, dtype=bool)].reset_index(drop=True))

    def first_line_of(self, subject: str) -> int:
        rows = self.table.loc[self.table["subject"] == subject, "source_line"]
        return int(rows.min()) if len(rows) else 0
