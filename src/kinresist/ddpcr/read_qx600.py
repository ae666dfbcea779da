"""QX Manager (QX600, up to 6 channels) "Cluster Data" exports: one row per occupied cluster.

Layout: ``Target value of ...`` preamble lines, a blank line, then
``Well,Target 1..Target 4[,Target 5],Count,Ch1 Mean,Ch1 StdDev,...,Ch6 StdDev,Cluster ID`` with a
trailing comma. Sum of ``Count`` per well = accepted droplets.
"""

from __future__ import annotations

import csv as _csv
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
    parsed = list(_csv.reader(lines[at:end], delimiter=csv.delimiter))
    header = [h.strip() for h in parsed[0]]
    while header and not header[-1]:
        header.pop()
    keys = [h.lower().replace(" ", "_") for h in header]
    twice = sorted({k for k in keys if keys.count(k) > 1})
    if twice:
        msg = f"column {twice[0]!r} appears twice in the header; expected each column once"
        raise InputError(msg, path=label, line=at + 1)
    if "count" not in keys or "well" not in keys:
        msg = "columns Well and Count are required"
        raise InputError(msg, path=label, line=at + 1)
    body = []
    for i, r in enumerate(parsed[1:]):
        if len(r) > len(header) and any(x.strip() for x in r[len(header) :]):
            msg = f"{len(r)} fields but the header has {len(header)}; the row is damaged"
            raise InputError(msg, path=label, line=at + 2 + i)
        body.append([*r[: len(header)], *[""] * (len(header) - len(r))])
    if not body:
        msg = "the Cluster Data table has a header but no rows"
        raise InputError(msg, path=label, line=at + 2)
    frame = pd.DataFrame(body, columns=keys, dtype=str)
    cols = dict(zip(header, keys, strict=True))
    wells = []
    for i, w in enumerate(frame["well"]):
        try:
            wells.append(normalise_well(w))
        except InputError as exc:
            raise InputError(exc.detail, path=label, line=at + 2 + i, column="Well") from None
    out = pd.DataFrame({"well": wells})
    names = dict(zip(cols.values(), cols.keys(), strict=True))
    for c in frame.columns:
        if c == "well":
            continue
        s = frame[c].str.strip()
        if c.startswith("target_"):
            low = s.str.lower()
            bad_t = ~low.isin(["0", "1", "u", ""]).to_numpy(bool)
            if bad_t.any():
                i = int(np.flatnonzero(bad_t)[0])
                msg = (
                    f"target value {s.iloc[i]!r}; expected 0 (negative), 1 (positive), "
                    "u (unclassified) or empty (target not used)"
                )
                raise InputError(msg, path=label, line=at + 2 + i, column=names[c])
            # u (unclassified) -> -1, empty (target not used) -> NaN
            out[c] = pd.to_numeric(low.replace({"u": "-1", "": None}), errors="coerce")
        else:
            vals = pd.to_numeric(s.where(s != ""), errors="coerce").astype(float)
            v = vals.to_numpy(float)
            bad = (np.isnan(v) & (s != "").to_numpy()) | np.isinf(v)
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                msg = f"{s.iloc[i]!r} is not a finite number"
                raise InputError(msg, path=label, line=at + 2 + i, column=names[c])
            out[c] = vals
    n = out["count"].to_numpy(float)
    bad_n = ~np.isfinite(n) | (n < 0) | (n != np.round(n))
    if bad_n.any():
        i = int(np.flatnonzero(bad_n)[0])
        msg = (
            f"droplet count {frame['count'].iloc[i]!r}; every cluster row needs a whole number "
            ">= 0 of droplets; re-export the Cluster Data from QX Manager"
        )
        raise InputError(msg, path=label, line=at + 2 + i, column=names["count"])
    out["count"] = n.astype(np.int64)
    key = ["well", *[c for c in out.columns if c.startswith("target_")]]
    dup = out.fillna(-9).duplicated(key).to_numpy()
    if dup.any():
        i = int(np.flatnonzero(dup)[0])
        msg = (
            f"well {out['well'].iloc[i]} lists the same cluster (target pattern) twice; each "
            "cluster appears once per well - remove the repeated row (two exports concatenated?)"
        )
        raise InputError(msg, path=label, line=at + 2 + i, column="Well")
    return out


def two_target_counts(
    clusters: pd.DataFrame, *, target_a: int = 1, target_b: int = 2
) -> pd.DataFrame:
    """Per-well (pp, pn, np, nn, accepted) for two targets, summing over the other targets' states.

    Clusters unclassified (``u``) for either target cannot be placed: they are left out of the
    counts (and of the accepted droplets) with a :class:`~kinresist.errors.DataQualityWarning`.
    """
    ta = clusters[f"target_{target_a}"].to_numpy(float)
    tb = clusters[f"target_{target_b}"].to_numpy(float)
    unclassified = (ta < 0) | (tb < 0)
    if unclassified.any():
        from kinresist.errors import DataQualityWarning, warn

        n_u = int(clusters["count"].to_numpy()[unclassified].sum())
        warn(
            f"{n_u} droplets unclassified (u) for Target {target_a} or {target_b} were left out "
            "of the counts",
            DataQualityWarning,
        )
        clusters = clusters[~unclassified]
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
