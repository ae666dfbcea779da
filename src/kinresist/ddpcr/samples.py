"""Wells merged per sample x target x channel (QuantaSoft §1.5: pooled droplets)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from kinresist.ddpcr.calls import CallSettings, call_rows
from kinresist.ddpcr.poisson import CiMethod
from kinresist.ddpcr.quantify import quantify_counts

__all__ = ["sample_table"]

_COUNTS = ("pp", "pn", "np", "nn")


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
    they are not summed to 0.
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
    agg = named.groupby(keys, sort=False).agg(**spec).reset_index()  # type: ignore[call-overload]
    agg["well"] = agg["wells"]
    q = quantify_counts(agg, volume_ul=volume_ul, method=method, table_path=table_path)
    return call_rows(q, volume_ul=volume_ul, settings=settings)
