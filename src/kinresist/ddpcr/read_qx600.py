"""QX Manager (QX600, up to 6 channels) "Cluster Data" exports: one row per occupied cluster.

Layout: ``Target value of ...`` preamble lines, a blank line, then
``Well,Target 1..Target 4[,Target 5],Count,Ch1 Mean,Ch1 StdDev,...,Ch6 StdDev,Cluster ID`` with a
trailing comma. Sum of ``Count`` per well = accepted droplets.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd

from kinresist.ddpcr._text import read_csv_text
from kinresist.ddpcr.plate import normalise_well
from kinresist.errors import InputError

__all__ = ["quantify_cluster_data", "read_qx_cluster_data", "two_target_counts"]


def read_qx_cluster_data(path: str | Path) -> pd.DataFrame:
    """Cluster rows with columns well, target_1..target_k (0/1, NaN = unused), count, ch*_mean/sd."""
    label = str(path)
    csv = read_csv_text(path, name=label)
    lines = csv.text.split("\n")
    at = next(
        (
            i
            for i, ln in enumerate(lines[:20])
            if ln.lower().startswith("well") and "count" in ln.lower()
        ),
        None,
    )
    if at is None:
        msg = "no 'Well,Target 1,...,Count,...' header; expected a QX Manager Cluster Data export"
        raise InputError(msg, path=label, line=1)
    end = next(
        (
            j
            for j in range(at + 1, len(lines))
            if not lines[j].strip() or lines[j].lower().startswith("well")
        ),
        len(lines),
    )
    header = [h.strip() for h in lines[at].split(csv.delimiter)]
    while header and not header[-1]:
        header.pop()
    frame = pd.read_csv(
        io.StringIO("\n".join(lines[at + 1 : end])),
        sep=csv.delimiter,
        header=None,
        names=range(len(header)),
        usecols=range(len(header)),
        dtype=str,
        keep_default_na=False,
        index_col=False,
    )
    frame.columns = header
    cols = {c: c.strip().lower().replace(" ", "_") for c in frame.columns}
    frame = frame.rename(columns=cols)
    if "count" not in frame or "well" not in frame:
        msg = "columns Well and Count are required"
        raise InputError(msg, path=label, line=at + 1)
    out = pd.DataFrame({"well": [normalise_well(w) for w in frame["well"]]})
    for c in frame.columns:
        if c == "well":
            continue
        s = frame[c].str.strip()
        if c.startswith("target_"):
            out[c] = pd.to_numeric(s.where(s != ""), errors="coerce")
        else:
            vals = pd.to_numeric(s.where(s != ""), errors="coerce")
            bad = vals.isna() & (s != "")
            if bad.any():
                i = int(np.flatnonzero(bad.to_numpy())[0])
                msg = f"{s.iloc[i]!r} is not a number"
                raise InputError(msg, path=label, line=at + 2 + i, column=c)
            out[c] = vals
    out["count"] = out["count"].astype(int)
    return out


def two_target_counts(
    clusters: pd.DataFrame, *, target_a: int = 1, target_b: int = 2
) -> pd.DataFrame:
    """Per-well (pp, pn, np, nn, accepted) for two targets, summing over the other targets' states."""
    a = clusters[f"target_{target_a}"].fillna(0).to_numpy() > 0
    b = clusters[f"target_{target_b}"].fillna(0).to_numpy() > 0
    df = pd.DataFrame(
        {
            "well": clusters["well"],
            "count": clusters["count"],
            "pp": a & b,
            "pn": a & ~b,
            "np": ~a & b,
            "nn": ~a & ~b,
        }
    )
    for k in ("pp", "pn", "np", "nn"):
        df[k] = df[k] * df["count"]
    g = df.groupby("well", sort=False)[["pp", "pn", "np", "nn", "count"]].sum().reset_index()
    return g.rename(columns={"count": "accepted"})


def quantify_cluster_data(
    clusters: pd.DataFrame,
    *,
    volume_ul: float,
    target_a: int = 1,
    target_b: int = 2,
    settings: object = None,
) -> pd.DataFrame:
    """Wells x (target_a, target_b) rows quantified from cluster counts (no droplet gating needed).

    Channel 1 rows are ``Target <a>``, channel 2 rows ``Target <b>``; FA = a over b.
    """
    from kinresist.ddpcr.calls import CallSettings, call_rows
    from kinresist.ddpcr.quantify import quantify_counts

    counts = two_target_counts(clusters, target_a=target_a, target_b=target_b)
    rows = []
    for ch, t in ((1, target_a), (2, target_b)):
        part = counts.copy()
        part["channel"] = ch
        part["target"] = f"Target {t}"
        part["sample"] = ""
        part["positives"] = part["pp"] + (part["pn"] if ch == 1 else part["np"])
        rows.append(part)
    frame = pd.concat(rows, ignore_index=True).astype(
        {"pp": float, "pn": float, "np": float, "nn": float}
    )
    q = quantify_counts(frame, volume_ul=volume_ul)
    s = settings if isinstance(settings, CallSettings) else None
    return call_rows(q, volume_ul=volume_ul, settings=s)
