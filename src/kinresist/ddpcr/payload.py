"""Versioned JSON payloads and tidy tables of ddPCR results (schema ``ddpcr/1``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from kinresist.ddpcr.calls import describe_call
from kinresist.provenance import file_sha256, stamp

__all__ = ["SCHEMA_VERSION", "analysis_payload", "recompute_payload", "rows_to_records", "tidy_tsv"]

SCHEMA_VERSION = "1.0"
CONTRACT = (
    "well",
    "sample",
    "target",
    "channel",
    "positives",
    "accepted",
    "copies_per_ul",
    "ci95_low",
    "ci95_high",
    "fractional_abundance",
    "call",
)
EXTRA = (
    "ci68_low",
    "ci68_high",
    "ci_method",
    "copies_per_20ul",
    "pp",
    "pn",
    "np",
    "nn",
    "fa_ci95_low",
    "fa_ci95_high",
    "ratio",
    "ratio_ci95_low",
    "ratio_ci95_high",
    "ratio_method",
    "cnv",
    "cnv_ci95_low",
    "cnv_ci95_high",
    "linkage",
    "lob_droplets",
    "lob_rule",
    "fpr_per_molecule",
    "lod_copies_per_ul",
    "lod_fa",
    "flags",
    "gene",
    "alteration",
    "kb_id",
    "copies_per_ml_plasma",
    "input_genome_equivalents",
    "threshold",
    "rain_flag",
    "gating_agreement",
    "total95_low",
    "total95_high",
    "total68_low",
    "total68_high",
    "mean_of_wells",
    "sem",
    "members",
    "k",
    "wells",
)


def _py(v: Any) -> Any:
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not np.isfinite(v):
        return None
    return v


def rows_to_records(frame: pd.DataFrame, *, extra: bool = True) -> list[dict[str, Any]]:
    """Contract fields first (exactly as named), then the documented extra fields present."""
    cols = [c for c in CONTRACT if c in frame.columns]
    if extra:
        cols += [c for c in EXTRA if c in frame.columns]
        cols += [c for c in frame.columns if c.startswith(("qs_", "agree_"))]
    out = []
    for rec in frame[cols].to_dict("records"):
        r = {str(k): _py(v) for k, v in rec.items()}
        r["channel"] = int(r["channel"]) if r.get("channel") is not None else None
        for k in ("positives", "accepted", "pp", "pn", "np", "nn"):
            if r.get(k) is not None:
                r[k] = int(r[k])
        if "call" in r:
            r["call_text"] = describe_call(
                str(r["call"]),
                _nan(r.get("fractional_abundance")),
                _nan(r.get("lod_fa")),
                _nan(r.get("lod_copies_per_ul")),
            )
        out.append(r)
    return out


def _nan(v: Any) -> float:
    return float("nan") if v is None else float(v)


def _inputs(paths: list[Path]) -> dict[str, str]:
    out = {}
    for p in paths:
        if p.is_file():
            out[str(p)] = file_sha256(p)
        elif p.is_dir():
            for f in sorted(p.rglob("*_Amplitude.csv")):
                out[str(f)] = file_sha256(f)
    return out


def analysis_payload(analysis: Any, *, inputs: list[Path]) -> dict[str, Any]:
    """The ``kinresist.ddpcr.analysis`` JSON."""
    head = stamp(
        "kinresist.ddpcr.analysis",
        SCHEMA_VERSION,
        inputs=_inputs(inputs),
        parameters=analysis.parameters,
    )
    agreement = None
    if analysis.agreement is not None:
        agreement = [
            {k: _py(v) for k, v in r.items()} for r in analysis.agreement.to_dict("records")
        ]
    return {
        **head,
        "plate": analysis.plate.name,
        "droplet_volume": {k: _py(v) for k, v in analysis.volume.items()},
        "n_droplets": analysis.plate.n_droplets,
        "wells": rows_to_records(analysis.wells),
        "samples": rows_to_records(analysis.samples) if len(analysis.samples) else [],
        "gating_agreement": agreement,
    }


def recompute_payload(rec: Any, *, source: Path, parameters: dict[str, Any]) -> dict[str, Any]:
    """The ``kinresist.ddpcr.recompute`` JSON: ``wells`` (single rows) and ``merged`` rows."""
    head = stamp(
        "kinresist.ddpcr.recompute", SCHEMA_VERSION, inputs=[source], parameters=parameters
    )
    return {
        **head,
        "layout": rec.layout,
        "droplet_volume": {k: _py(v) for k, v in rec.volume.items()},
        "wells": rows_to_records(rec.rows),
        "merged": rows_to_records(rec.merged) if len(rec.merged) else [],
    }


def tidy_tsv(frame: pd.DataFrame, header: dict[str, Any]) -> str:
    """Tab-separated tidy table (contract columns first) with ``## key: value`` stamp lines."""
    from kinresist.provenance import tsv_header

    recs = rows_to_records(frame)
    table = pd.DataFrame.from_records(recs)
    for c in table.columns:
        if table[c].map(lambda v: isinstance(v, list)).any():
            table[c] = table[c].map(lambda v: ";".join(map(str, v)) if isinstance(v, list) else v)
    return tsv_header(header) + table.to_csv(sep="\t", index=False, na_rep="NA")
