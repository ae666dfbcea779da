"""Wells merged per sample x target x channel (QuantaSoft §1.5: pooled droplets)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from kinresist.ddpcr.calls import CallSettings, call_rows
from kinresist.ddpcr.poisson import CiMethod
from kinresist.ddpcr.quantify import quantify_counts

__all__ = ["sample_table"]

_COUNTS = ("pp", "pn", "np", "nn")
#: flags of a well that a merged sample row keeps (a gating range is re-judged on the sums)
_CARRIED = ("rain", "amplitude_outliers")


def sample_table(
    wells: pd.DataFrame,
    *,
    volume_ul: float,
    method: CiMethod = "exact",
    table_path: str | Path | None = None,
    settings: CallSettings | None = None,
) -> pd.DataFrame:
    """Merge the wells of each (sample, target, channel): pooled droplets, then quantify and call.

    Cluster counts that are unknown in every merged well (simplex exports) stay unknown (NaN),
    they are not summed to 0. Gating ranges (``positives_low``/``positives_high``) and outlier
    droplets are summed; the wells' ``rain`` / ``amplitude_outliers`` flags are kept.
    """
    named = wells[wells["sample"].astype(str) != ""]
    if named.empty:
        return pd.DataFrame()
    keys = ["sample", "target", "channel"]
    spec: dict[str, tuple[str, object]] = {
        "positives": ("positives", "sum"),
        "accepted": ("accepted", "sum"),
        "wells": ("well", lambda s: ",".join(s)),
    }
    for c in _COUNTS:
        if c in named:
            spec[c] = (c, lambda s: s.sum(min_count=1))
    if "target_type" in named:
        spec["target_type"] = ("target_type", "first")
    for c in ("positives_low", "positives_high", "outlier_droplets"):
        if c in named:
            spec[c] = (c, "sum")
    if "flags" in named:
        spec["well_flags"] = (
            "flags",
            lambda s: sorted({f for fl in s for f in fl if f in _CARRIED}),
        )
    agg = named.groupby(keys, sort=False).agg(**spec).reset_index()  # type: ignore[call-overload]
    agg["well"] = agg["wells"]
    q = quantify_counts(agg, volume_ul=volume_ul, method=method, table_path=table_path)
    q = call_rows(q, volume_ul=volume_ul, settings=settings)
    if "well_flags" in q:
        q["flags"] = [[*f, *w] for f, w in zip(q["flags"], q.pop("well_flags"), strict=True)]
    return q
