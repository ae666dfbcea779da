"""Plate analysis: droplets -> gates -> counts -> QuantaSoft-exact quantities -> calls.

``analyze_plate`` is the library entry point behind ``kinresist ddpcr analyze``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from kinresist.ddpcr.assays import parse_assay_name
from kinresist.ddpcr.calls import CallSettings, call_rows
from kinresist.ddpcr.gating import Gating, gate_plate
from kinresist.ddpcr.plate import Plate
from kinresist.ddpcr.poisson import DROPLET_VOLUME_UL, CiMethod
from kinresist.ddpcr.quantify import quantify_counts
from kinresist.ddpcr.read_results import ResultsTable
from kinresist.ddpcr.recompute import choose_volume

__all__ = ["PlateAnalysis", "Scheme", "analyze_plate", "gating_agreement", "sample_table"]

Scheme = Literal["duplex", "wt_negative"]
HAPLOID_GENOME_NG = 0.0033  # 3.3 pg per haploid human genome


@dataclass(frozen=True)
class PlateAnalysis:
    """Everything ``analyze`` reports; ``wells`` has one row per well x channel."""

    plate: Plate
    gating: Gating
    wells: pd.DataFrame
    samples: pd.DataFrame
    agreement: pd.DataFrame | None
    volume: dict[str, Any]
    parameters: dict[str, Any] = field(default_factory=dict)


def gating_agreement(plate: Plate, gating: Gating) -> pd.DataFrame | None:
    """Per-well fraction of droplets whose automatic cluster equals QuantaSoft's (codes 1-4)."""
    if plate.cluster is None:
        return None
    ok = plate.cluster > 0
    w = plate.well_index[ok]
    same = (plate.cluster[ok] == gating.labels[ok]).astype(np.int64)
    n = np.bincount(w, minlength=len(plate.wells))
    agree = np.bincount(w, weights=same, minlength=len(plate.wells))
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = agree / n
    qs = np.bincount(w.astype(np.int64) * 5 + plate.cluster[ok], minlength=len(plate.wells) * 5)
    qs = qs.reshape(-1, 5)[:, 1:]
    return pd.DataFrame(
        {
            "well": plate.wells,
            "labelled_droplets": n,
            "agreement": frac,
            "qs_nn": qs[:, 0],
            "qs_pn": qs[:, 1],
            "qs_pp": qs[:, 2],
            "qs_np": qs[:, 3],
        }
    )


def _counts_frame(plate: Plate, gating: Gating, scheme: Scheme) -> pd.DataFrame:
    c = gating.counts.astype(float)  # columns: NN, PN, PP, NP
    nn, pn, pp, np_ = c[:, 0], c[:, 1], c[:, 2], c[:, 3]
    if scheme == "wt_negative":
        # mutant = FAM+HEX- droplets, wild type = FAM+HEX+ (BRAF V600 wild-type-negative design)
        pp, pn, np_, nn = np.zeros_like(pp), pn, pp, nn + np_
    n = nn + pn + pp + np_
    rows = []
    for ch in (1, 2) if not plate.simplex else (1,):
        pos = pp + pn if ch == 1 else pp + np_
        rows.append(
            pd.DataFrame(
                {
                    "well": plate.wells,
                    "channel": ch,
                    "positives": pos,
                    "accepted": n,
                    "pp": pp,
                    "pn": pn,
                    "np": np_,
                    "nn": nn,
                }
            )
        )
    out = pd.concat(rows, ignore_index=True)
    if plate.simplex:
        out[["pp", "np"]] = np.nan
    return out


def _annotate(
    counts: pd.DataFrame, results: ResultsTable | None, names: Mapping[int, str]
) -> pd.DataFrame:
    counts = counts.copy()
    counts["sample"] = ""
    counts["target"] = counts["channel"].map(lambda c: names.get(int(c), f"Ch{int(c)}"))
    counts["target_type"] = ""
    if results is not None:
        f = results.frame[~results.frame["merged"]]
        key = {(w, int(c)): i for i, (w, c) in enumerate(zip(f["well"], f["channel"], strict=True))}
        for i, (w, c) in enumerate(zip(counts["well"], counts["channel"], strict=True)):
            j = key.get((w, int(c)))
            if j is not None:
                row = f.iloc[j]
                counts.loc[counts.index[i], "sample"] = str(row.get("sample", "") or "")
                counts.loc[counts.index[i], "target"] = (
                    str(row.get("target", "") or "") or counts["target"].iloc[i]
                )
                counts.loc[counts.index[i], "target_type"] = str(row.get("target_type", "") or "")
    return counts


def _conversions(
    frame: pd.DataFrame,
    *,
    plasma_ml: float | None,
    elution_ul: float | None,
    template_ul: float | None,
    input_ng: float | None,
) -> pd.DataFrame:
    out = frame
    if plasma_ml and elution_ul and template_ul:
        # copies/20 µL reaction -> copies per µL eluate -> copies in eluate -> per mL plasma
        out["copies_per_ml_plasma"] = out["copies_per_20ul"] / template_ul * elution_ul / plasma_ml
    if input_ng:
        out["input_genome_equivalents"] = input_ng / HAPLOID_GENOME_NG
    return out


def sample_table(
    wells: pd.DataFrame,
    *,
    volume_ul: float,
    method: CiMethod = "exact",
    table_path: str | Path | None = None,
    settings: CallSettings | None = None,
) -> pd.DataFrame:
    """Merge the wells of each (sample, target, channel): pooled droplets, QuantaSoft §1.5."""
    named = wells[wells["sample"].astype(str) != ""]
    if named.empty:
        return pd.DataFrame()
    keys = ["sample", "target", "channel"]
    agg = (
        named.groupby(keys, sort=False)
        .agg(
            positives=("positives", "sum"),
            accepted=("accepted", "sum"),
            pp=("pp", "sum"),
            pn=("pn", "sum"),
            np=("np", "sum"),
            nn=("nn", "sum"),
            wells=("well", lambda s: ",".join(s)),
            target_type=("target_type", "first"),
        )
        .reset_index()
    )
    agg["well"] = agg["wells"]
    q = quantify_counts(agg, volume_ul=volume_ul, method=method, table_path=table_path)
    return call_rows(q, volume_ul=volume_ul, settings=settings)


def analyze_plate(
    plate: Plate,
    *,
    results: ResultsTable | None = None,
    thresholds: Mapping[str, Any] | None = None,
    volume_ul: float | str | None = None,
    method: CiMethod = "exact",
    table_path: str | Path | None = None,
    settings: CallSettings | None = None,
    scheme: Scheme = "duplex",
    target_names: Mapping[int, str] | None = None,
    plasma_ml: float | None = None,
    elution_ul: float | None = None,
    template_ul: float | None = None,
    input_ng: float | None = None,
) -> PlateAnalysis:
    """Gate, count, quantify and call every well of a plate.

    Parameters
    ----------
    results
        The plate's QuantaSoft results file: sample/target names, droplet volume (back-solved).
    volume_ul
        Droplet volume in µL or a preset name (``qs_legacy`` 0.91 nL, ``qs17`` 0.85 nL); default:
        from ``results`` when given, else ``qs17``.
    scheme
        ``duplex`` (Ch1 = mutant, Ch2 = wild type) or ``wt_negative`` (mutant = Ch1+Ch2- droplets,
        wild type = Ch1+Ch2+, e.g. the BRAF V600 wild-type-negative assay).
    """
    gating = gate_plate(plate, thresholds=thresholds)
    if results is not None:
        v, vinfo = choose_volume(results, volume_ul)
    else:
        v = (
            DROPLET_VOLUME_UL[volume_ul]
            if isinstance(volume_ul, str)
            else (float(volume_ul) if volume_ul is not None else DROPLET_VOLUME_UL["qs17"])
        )
        vinfo = {
            "volume_ul": v,
            "source": "preset/user" if volume_ul is not None else "default qs17 (0.85 nL)",
        }
    counts = _annotate(_counts_frame(plate, gating, scheme), results, target_names or {})
    q = quantify_counts(counts, volume_ul=v, method=method, table_path=table_path)
    q = call_rows(q, volume_ul=v, settings=settings)
    q = _conversions(
        q, plasma_ml=plasma_ml, elution_ul=elution_ul, template_ul=template_ul, input_ng=input_ng
    )
    idx = {w: i for i, w in enumerate(plate.wells)}
    wi = q["well"].map(idx).to_numpy()
    q["rain_flag"] = gating.rain_flag[wi]
    q["threshold"] = np.where(q["channel"] == 1, gating.thr_ch1[wi], gating.thr_ch2_neg[wi])
    q["flags"] = [
        [*f, "rain"] if rain else f for f, rain in zip(q["flags"], q["rain_flag"], strict=True)
    ]
    parsed = {t: parse_assay_name(t) for t in q["target"].unique()}
    q["gene"] = q["target"].map(lambda t: parsed[t].gene)
    q["alteration"] = q["target"].map(lambda t: parsed[t].alteration)
    q["kb_id"] = q["target"].map(lambda t: parsed[t].kb_id)
    agreement = gating_agreement(plate, gating)
    if agreement is not None:
        q["gating_agreement"] = q["well"].map(
            dict(zip(agreement["well"], agreement["agreement"], strict=True))
        )
    samples = sample_table(q, volume_ul=v, method=method, table_path=table_path, settings=settings)
    if len(samples):
        samples["gene"] = samples["target"].map(lambda t: parsed[t].gene)
        samples["alteration"] = samples["target"].map(lambda t: parsed[t].alteration)
        samples["kb_id"] = samples["target"].map(lambda t: parsed[t].kb_id)
    params = {
        "scheme": scheme,
        "method": method,
        "thresholds": dict(thresholds or {}),
        "volume_ul": v,
        "gating": gating.method,
    }
    return PlateAnalysis(plate, gating, q.reset_index(drop=True), samples, agreement, vinfo, params)
