"""Plate analysis: droplets -> gates -> counts -> QuantaSoft-exact quantities -> calls.

``analyze_plate`` is the library entry point behind ``kinresist ddpcr analyze``; it takes a plate
(or the folder, zip archive or amplitude CSV files it is read from) and returns a
:class:`~kinresist.ddpcr.result.DdpcrResult`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict
from os import PathLike
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from kinresist.core.result import Provenance
from kinresist.ddpcr.assays import AssayMapLike, assay_targets, load_assay_map
from kinresist.ddpcr.calls import CallSettings, call_rows, gating_uncertainty
from kinresist.ddpcr.gating import Gating, gate_plate
from kinresist.ddpcr.plate import Plate
from kinresist.ddpcr.poisson import DROPLET_VOLUME_UL, CiMethod
from kinresist.ddpcr.quantify import quantify_counts
from kinresist.ddpcr.read_results import ResultsTable, read_results_csv
from kinresist.ddpcr.recompute import choose_volume
from kinresist.ddpcr.result import DdpcrResult, build_result
from kinresist.ddpcr.samples import sample_table

__all__ = ["Scheme", "analyze_clusters", "analyze_plate", "gating_agreement", "sample_table"]

PlateSource = Plate | str | PathLike[str] | Sequence[str | PathLike[str]]
Scheme = Literal["duplex", "wt_negative"]
HAPLOID_GENOME_NG = 0.0033  # 3.3 pg per haploid human genome


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
    # positives of each channel as functions of the cluster counts (for the gating ranges)
    if scheme == "wt_negative":
        derive = {1: lambda k: k[..., 1], 2: lambda k: k[..., 2]}
    else:
        derive = {1: lambda k: k[..., 1] + k[..., 2], 2: lambda k: k[..., 2] + k[..., 3]}
    high_out = gating.outliers_high if gating.outliers_high is not None else np.zeros((len(n), 2))
    rows = []
    for ch in (1, 2) if not plate.simplex else (1,):
        pos = pp + pn if ch == 1 else pp + np_
        low, high = gating.count_range(derive[ch])
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
                    # droplets above the positive cluster are counted, but the range's low end
                    # leaves them out
                    "positives_low": np.maximum(low - high_out[:, ch - 1], 0),
                    "positives_high": high,
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


def _droplet_digest(plate: Plate) -> str:
    """SHA-256 of an in-memory plate's droplets (amplitudes, well index, well names)."""
    import hashlib

    h = hashlib.sha256()
    for arr in (plate.ch1, plate.ch2, plate.well_index):
        h.update(np.ascontiguousarray(arr).data.cast("B"))
    h.update(",".join(plate.wells).encode())
    return "sha256:" + h.hexdigest()


def _volume(volume_ul: float | str | None) -> tuple[float, dict[str, Any]]:
    if isinstance(volume_ul, str):
        if volume_ul not in DROPLET_VOLUME_UL:
            from kinresist.errors import InputError

            msg = (
                f"droplet volume {volume_ul!r}; expected µL (e.g. 0.00085) or a preset: "
                f"{', '.join(DROPLET_VOLUME_UL)}"
            )
            raise InputError(msg)
        v = DROPLET_VOLUME_UL[volume_ul]
        return v, {"volume_ul": v, "source": f"preset {volume_ul}"}
    if volume_ul is not None:
        return float(volume_ul), {"volume_ul": float(volume_ul), "source": "user"}
    v = DROPLET_VOLUME_UL["qs17"]
    return v, {"volume_ul": v, "source": "default qs17 (0.85 nL)"}


def analyze_plate(
    plate: PlateSource,
    *,
    results: ResultsTable | str | PathLike[str] | None = None,
    thresholds: Mapping[str, Any] | None = None,
    volume_ul: float | str | None = None,
    method: CiMethod = "exact",
    table_path: str | Path | None = None,
    settings: CallSettings | None = None,
    scheme: Scheme = "duplex",
    target_names: Mapping[int, str] | None = None,
    assay_map: AssayMapLike = None,
    plasma_ml: float | None = None,
    elution_ul: float | None = None,
    template_ul: float | None = None,
    input_ng: float | None = None,
    progress: Callable[[str], None] | None = None,
) -> DdpcrResult:
    """Gate, count, quantify and call every well of a plate.

    Parameters
    ----------
    plate
        A :class:`Plate`, or the folder / zip archive / amplitude CSV file(s) to read it from.
    results
        The plate's QuantaSoft results file (or table): sample/target names, droplet volume
        (back-solved).
    volume_ul
        Droplet volume in µL or a preset name (``qs_legacy`` 0.91 nL, ``qs17`` 0.85 nL); default:
        from ``results`` when given, else ``qs17``.
    scheme
        ``duplex`` (Ch1 = mutant, Ch2 = wild type) or ``wt_negative`` (mutant = Ch1+Ch2- droplets,
        wild type = Ch1+Ch2+, e.g. the BRAF V600 wild-type-negative assay).
    target_names
        Target names by channel when no results file names them.
    assay_map
        Target name -> alteration (``{"ALK_G1202R": "ALK G1202R"}``) or a map file; wins over
        parsing the target names (:mod:`kinresist.ddpcr.assays`).

    Returns
    -------
    DdpcrResult
        Tables ``wells`` (well x channel), ``samples`` (wells merged per sample x target) and
        ``gating_agreement``; measurements per sample x target; findings; warnings.
    """
    from kinresist.ddpcr.read_amplitude import load_plate

    inputs: dict[str, Any] = {}
    if isinstance(plate, Plate):
        inputs["droplets"] = _droplet_digest(plate)
    else:
        paths = [Path(plate)] if isinstance(plate, str | PathLike) else [Path(p) for p in plate]
        inputs.update({str(p): p for p in paths})
        plate = load_plate(paths[0] if len(paths) == 1 else paths, progress=progress)
    if isinstance(results, str | PathLike):
        inputs[str(results)] = Path(results)
        results = read_results_csv(Path(results))
    elif results is not None and Path(results.source).is_file():
        inputs[str(results.source)] = Path(results.source)
    if table_path is not None:
        inputs[str(table_path)] = Path(table_path)
    if isinstance(assay_map, str | PathLike):
        inputs[str(assay_map)] = Path(assay_map)
    raw_map, resolved = load_assay_map(assay_map)
    gating = gate_plate(plate, thresholds=thresholds)
    if results is not None:
        v, vinfo = choose_volume(results, volume_ul)
    else:
        v, vinfo = _volume(volume_ul)
    counts = _annotate(_counts_frame(plate, gating, scheme), results, target_names or {})
    q = quantify_counts(counts, volume_ul=v, method=method, table_path=table_path)
    q = call_rows(q, volume_ul=v, settings=settings)
    q = _conversions(
        q, plasma_ml=plasma_ml, elution_ul=elution_ul, template_ul=template_ul, input_ng=input_ng
    )
    idx = {w: i for i, w in enumerate(plate.wells)}
    wi = q["well"].map(idx).to_numpy()
    ci = q["channel"].to_numpy(int) - 1
    q["rain_flag"] = gating.rain_flag[wi]
    q["rain_fraction"] = gating.rain_fraction[wi, ci]
    if gating.outliers_low is not None and gating.outliers_high is not None:
        q["outlier_droplets"] = gating.outliers_low[wi, ci] + gating.outliers_high[wi, ci]
    outlier_wells = gating.outlier_flag()[wi]
    q["threshold"] = np.where(q["channel"] == 1, gating.thr_ch1[wi], gating.thr_ch2_neg[wi])
    q["flags"] = [
        [*f, *(["rain"] if rain else []), *(["amplitude_outliers"] if out else [])]
        for f, rain, out in zip(q["flags"], q["rain_flag"], outlier_wells, strict=True)
    ]
    q = gating_uncertainty(q)
    agreement = gating_agreement(plate, gating)
    if agreement is not None:
        q["gating_agreement"] = q["well"].map(
            dict(zip(agreement["well"], agreement["agreement"], strict=True))
        )
    samples = sample_table(q, volume_ul=v, method=method, table_path=table_path, settings=settings)
    if len(samples):
        samples = gating_uncertainty(samples)
    s = settings or CallSettings()
    parameters = {
        "scheme": scheme,
        "ci_method": method,
        "thresholds": dict(thresholds or {}),
        "volume_ul": v,
        "gating": gating.method,
        "calls": asdict(s),
        "target_names": {str(k): val for k, val in (target_names or {}).items()},
        "assay_map": raw_map,
        "plasma_ml": plasma_ml,
        "elution_ul": elution_ul,
        "template_ul": template_ul,
        "input_ng": input_ng,
    }
    body = {
        "plate": plate.name,
        "n_droplets": plate.n_droplets,
        "scheme": scheme,
        "droplet_volume": vinfo,
        "gating_agreement": None,
    }
    return build_result(
        "ddpcr.analyze",
        provenance=Provenance.build(inputs=inputs, parameters=parameters),
        body=body,
        wells=q.reset_index(drop=True),
        samples=samples,
        assays=assay_targets(q["target"], resolved),
        blanks=s.blank_samples,
        tables={"gating_agreement": agreement},
        plate=plate,
        gating=gating,
    )


def analyze_clusters(
    export: str | PathLike[str],
    *,
    target_a: int = 1,
    target_b: int = 2,
    volume_ul: float | str | None = "qs17",
    settings: CallSettings | None = None,
    assay_map: AssayMapLike = None,
) -> DdpcrResult:
    """Quantify two targets of a QX Manager "Cluster Data" export (counts summed over the
    other targets' states): ``Target <a>`` is reported as channel 1 (mutant), ``Target <b>``
    as channel 2 (reference). The QX600 droplet volume is not verified: set it.
    """
    from kinresist.ddpcr.read_qx600 import quantify_cluster_data, read_qx_cluster_data
    from kinresist.errors import InputError

    v, vinfo = _volume(volume_ul)
    table = read_qx_cluster_data(Path(export))
    for t in (target_a, target_b):
        if f"target_{t}" not in table.columns:
            msg = f"--target {t}: the export has no 'Target {t}' column"
            raise InputError(msg, path=export)
    raw_map, resolved = load_assay_map(assay_map)
    s = settings or CallSettings()
    q = quantify_cluster_data(table, volume_ul=v, target_a=target_a, target_b=target_b, settings=s)
    inputs: dict[str, Any] = {str(export): Path(export)}
    if isinstance(assay_map, str | PathLike):
        inputs[str(assay_map)] = Path(assay_map)
    parameters = {"target_a": target_a, "target_b": target_b, "volume_ul": v,
                  "calls": asdict(s), "assay_map": raw_map}  # fmt: skip
    return build_result(
        "ddpcr.clusters",
        provenance=Provenance.build(inputs=inputs, parameters=parameters),
        body={"droplet_volume": vinfo},
        wells=q,
        samples=pd.DataFrame(),
        assays=assay_targets(q["target"], resolved),
        blanks=s.blank_samples,
    )
