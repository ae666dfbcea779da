"""Recompute every row of a QuantaSoft results file from its droplet counts and compare.

Agreement rule (documented in docs/ddpcr.md): a recomputed value agrees with QuantaSoft when
it rounds to the printed value (|ours - printed| <= half the printed unit, QuantaSoft 1.7.4
prints 2-3 significant figures) or is within 0.1 % relative (full-precision exports).
"""

from __future__ import annotations

from dataclasses import asdict
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from kinresist.ddpcr.assays import AssayMapLike
from kinresist.ddpcr.calls import CallSettings, call_rows
from kinresist.ddpcr.poisson import DROPLET_VOLUME_UL, CiMethod
from kinresist.ddpcr.quantify import quantify_counts
from kinresist.ddpcr.read_results import (
    ResultsTable,
    detect_layout_volume,
    merged_members,
    read_results_csv,
    require_counts,
)

if TYPE_CHECKING:
    from kinresist.ddpcr.result import DdpcrResult

__all__ = ["COMPARED", "agrees", "choose_volume", "recompute_results"]

#: (QuantaSoft canonical column, recomputed column) pairs compared per row
COMPARED = (
    ("conc", "copies_per_ul"),
    ("poisson_min", "ci95_low"),
    ("poisson_max", "ci95_high"),
    ("poisson_min68", "ci68_low"),
    ("poisson_max68", "ci68_high"),
    ("fa", "fractional_abundance"),
    ("poisson_fa_min", "fa_ci95_low"),
    ("poisson_fa_max", "fa_ci95_high"),
    ("ratio", "ratio"),
    ("poisson_ratio_min", "ratio_ci95_low"),
    ("poisson_ratio_max", "ratio_ci95_high"),
    ("cnv", "cnv"),
    ("poisson_cnv_min", "cnv_ci95_low"),
    ("poisson_cnv_max", "cnv_ci95_high"),
    ("linkage", "linkage"),
)
_MERGED_COMPARED = (
    ("conc", "copies_per_ul"),
    ("poisson_min", "ci95_low"),
    ("poisson_max", "ci95_high"),
    ("total_min", "total95_low"),
    ("total_max", "total95_high"),
    ("total_min68", "total68_low"),
    ("total_max68", "total68_high"),
)


def agrees(
    ours: np.ndarray, printed: np.ndarray, unit: np.ndarray, *, rel: float = 1e-3
) -> np.ndarray:
    """True where ours rounds to the printed value or is within ``rel`` relative; NaN where not printed."""
    ours, printed, unit = (np.asarray(x, float) for x in (ours, printed, unit))
    with np.errstate(invalid="ignore"):
        ok = (np.abs(ours - printed) <= unit / 2 * (1 + 1e-9) + 1e-12) | (
            np.abs(ours - printed) <= rel * np.abs(printed)
        )
    return np.where(np.isfinite(printed), ok, np.nan)


def choose_volume(
    table: ResultsTable, volume_ul: float | str | None
) -> tuple[float, dict[str, object]]:
    """Droplet volume: explicit (µL or a preset name) or back-solved from the file (snapped to a preset)."""
    info: dict[str, object] = dict(detect_layout_volume(table))
    if isinstance(volume_ul, str):
        v = DROPLET_VOLUME_UL[volume_ul]
        info["source"] = f"preset {volume_ul}"
    elif volume_ul is not None:
        v = float(volume_ul)
        info["source"] = "user"
    elif info.get("droplet_volume_ul") is not None:
        back = float(info["droplet_volume_ul"])  # type: ignore[arg-type]
        preset = min(DROPLET_VOLUME_UL.items(), key=lambda kv: abs(kv[1] - back))
        v = preset[1] if abs(preset[1] - back) / preset[1] < 0.01 else back
        info["source"] = (
            f"back-solved from the file ({back:.6g} µL) -> {preset[0] if v == preset[1] else 'as solved'}"
        )
    else:
        v = DROPLET_VOLUME_UL["qs_legacy" if table.layout == "qs_legacy" else "qs17"]
        info["source"] = f"layout default ({table.layout})"
    info["volume_ul"] = v
    solved = info.get("droplet_volume_ul")
    if isinstance(solved, float) and abs(solved - v) / v > 0.01:
        info["volume_mismatch"] = True
    return v, info


def recompute_results(
    table: ResultsTable | str | PathLike[str],
    *,
    volume_ul: float | str | None = None,
    method: CiMethod = "exact",
    table_path: str | Path | None = None,
    settings: CallSettings | None = None,
    assay_map: AssayMapLike = None,
) -> DdpcrResult:
    """Recompute concentrations, CIs, ratio/FA/CNV, linkage and merged wells from the counts.

    Returns a :class:`~kinresist.ddpcr.result.DdpcrResult` whose ``rows`` (= ``wells``) are the
    file's single-well rows and ``merged`` its merged rows, each with QuantaSoft's printed value
    (``qs_<column>``) and the agreement flag (``agree_<column>``) beside the recomputed one;
    ``samples`` merges the wells of each named sample x target (measurements come from them).
    """
    from kinresist.core.result import Provenance
    from kinresist.ddpcr.assays import assay_targets, load_assay_map
    from kinresist.ddpcr.result import build_result
    from kinresist.ddpcr.samples import sample_table

    inputs: dict[str, object] = {}
    if isinstance(table, str | PathLike):
        inputs[str(table)] = Path(table)
        table = read_results_csv(Path(table))
    elif Path(table.source).is_file():
        inputs[str(table.source)] = Path(table.source)
    if table_path is not None:
        inputs[str(table_path)] = Path(table_path)
    if isinstance(assay_map, str | PathLike):
        inputs[str(assay_map)] = Path(assay_map)
    raw_map, resolved = load_assay_map(assay_map)
    require_counts(table)
    v, vinfo = choose_volume(table, volume_ul)
    f = table.frame
    cols = [
        c
        for c in (
            "well",
            "sample",
            "target",
            "target_type",
            "channel",
            "positives",
            "accepted",
            "pp",
            "pn",
            "np",
            "nn",
            "reference_copies",
            "merged",
            "merged_wells",
            "status",
            "line",
        )
        if c in f.columns
    ]
    counts = f[cols].copy()
    counts["group"] = np.where(counts["merged"], counts.get("merged_wells", ""), "")
    q = quantify_counts(counts, volume_ul=v, method=method, table_path=table_path)
    q = call_rows(q, volume_ul=v, settings=settings)
    for qs_col, ours in COMPARED:
        if qs_col in f.columns:
            q["qs_" + qs_col] = f[qs_col].to_numpy(float)
            q["agree_" + ours] = agrees(
                q[ours].to_numpy(float), f[qs_col].to_numpy(float), table.printed_unit(qs_col)
            )
    single = q[~q["merged"]].reset_index(drop=True)
    merged = _merged(q[q["merged"]], single, table)
    s = settings or CallSettings()
    samples = sample_table(single, volume_ul=v, method=method, table_path=table_path, settings=s)
    parameters = {
        "ci_method": method,
        "droplet_volume": volume_ul,
        "volume_ul": v,
        "calls": asdict(s),
        "assay_map": raw_map,
    }
    return build_result(
        "ddpcr.recompute",
        provenance=Provenance.build(inputs=inputs, parameters=parameters),  # type: ignore[arg-type]
        body={"layout": table.layout, "droplet_volume": vinfo},
        wells=single,
        samples=samples,
        assays=assay_targets(q["target"].fillna("").astype(str), resolved),
        blanks=s.blank_samples,
        tables={"merged": merged},
    )


def _merged(mq: pd.DataFrame, single: pd.DataFrame, table: ResultsTable) -> pd.DataFrame:
    if mq.empty:
        return mq.assign(members=[], k=[])
    f = table.frame
    idx = {
        (w, int(c)): i
        for i, (w, c) in enumerate(zip(single["well"], single["channel"], strict=True))
    }
    out = mq.copy()
    conc = single["copies_per_ul"].to_numpy(float)
    members_col = [merged_members(str(m)) for m in mq["merged_wells"]]
    mean, sem = [], []
    for members, ch in zip(members_col, mq["channel"], strict=True):
        rows_i = [idx.get((w, int(ch))) for w in members]
        if len(rows_i) < 2 or any(i is None for i in rows_i):
            mean.append(np.nan)
            sem.append(np.nan)
            continue
        c = conc[[i for i in rows_i if i is not None]]
        mean.append(float(c.mean()))
        sem.append(float(c.std(ddof=1) / np.sqrt(c.size)))
    m, se = np.asarray(mean), np.asarray(sem)
    out["mean_of_wells"], out["sem"] = m, se
    # QuantaSoft Total CI (spec §1.5): per side the wider of Poisson and mean -/+ z SEM (z, not t)
    for tag, z in (("95", 1.96), ("68", 1.0)):
        with np.errstate(invalid="ignore"):
            out[f"total{tag}_low"] = np.where(
                np.isfinite(se), np.fmin(out[f"ci{tag}_low"].to_numpy(float), m - z * se), np.nan
            )
            out[f"total{tag}_high"] = np.where(
                np.isfinite(se), np.fmax(out[f"ci{tag}_high"].to_numpy(float), m + z * se), np.nan
            )
    out["members"] = members_col
    out["k"] = [len(m) for m in members_col]
    fm = f[f["merged"]]
    pm = table.printed[f["merged"].to_numpy()]
    for qs_col, ours in _MERGED_COMPARED:
        if qs_col in fm.columns:
            out["qs_" + qs_col] = fm[qs_col].to_numpy(float)
            unit = np.asarray(_unit(pm[qs_col]), float)
            out["agree_" + ours] = agrees(
                out[ours].to_numpy(float), fm[qs_col].to_numpy(float), unit
            )
    return out.reset_index(drop=True)


def _unit(texts: pd.Series) -> list[float]:
    tmp = ResultsTable(
        frame=pd.DataFrame({"x": np.zeros(len(texts))}),
        layout="",
        source="",
        printed=pd.DataFrame({"x": texts.to_numpy()}),
    )
    return list(tmp.printed_unit("x"))
