"""Versioned JSON payload and tidy CSV of synergy scores (format: docs/formats.md)."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from kinresist.provenance import stamp, tsv_header
from kinresist.synergy.engine import BlockScores

__all__ = ["SCHEMA_VERSION", "scores_payload", "scores_table", "scores_tsv"]

SCHEMA_VERSION = "1.1"  # 1.1: single_agents status/reason, cells[].flags
KIND = "kinresist.synergy.scores"


def _f(x: Any) -> float | None:
    v = float(x)
    return v if np.isfinite(v) else None


def _block_dict(bs: BlockScores) -> dict[str, Any]:
    b = bs.block
    methods = list(bs.synergy)
    cells = []
    for i, x1 in enumerate(b.conc1):
        for j, x2 in enumerate(b.conc2):
            cell: dict[str, Any] = {"conc1": float(x1), "conc2": float(x2)}
            for m in methods:
                cell[m] = _f(bs.synergy[m][i, j])
            cell["response"] = float(b.inhibition[i, j])
            for m in methods:
                cell[f"{m}_ref"] = _f(bs.reference[m][i, j])
            if "zip" in methods:
                cell["zip_fit"] = _f(bs.zip_fit[i, j])
            if "loewe" in methods:
                cell["loewe_unreachable"] = bool(bs.loewe_unreachable[i, j])
            cell["flags"] = list(bs.cell_flags[i][j]) if bs.cell_flags else []
            cells.append(cell)
    return {
        "block_id": b.block_id,
        "drug1": b.drug1,
        "drug2": b.drug2,
        "conc_unit": b.conc_unit,
        "scores": {m: _f(bs.summary[m]["mean"]) for m in methods},
        "summary": bs.summary,
        "single_agents": bs.single_agents,
        "flags": list(bs.flags),
        "notes": list(b.notes),
        "cells": cells,
    }


def scores_payload(
    scores: Sequence[BlockScores],
    *,
    inputs: Mapping[str, str] | Sequence[str] | None = None,
    parameters: Mapping[str, Any] | None = None,
    extra: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """The JSON document of ``kinresist synergy score`` (contract: ``blocks[]``).

    ``extra``: block_id -> additional fields for that block (replicate statistics,
    sensitivity scores).
    """
    head = stamp(KIND, SCHEMA_VERSION, inputs=inputs, parameters=parameters)
    blocks = []
    for s in scores:
        d = _block_dict(s)
        d.update(dict((extra or {}).get(s.block.block_id, {})))
        blocks.append(d)
    return {
        **head,
        "units": {"response": "% inhibition", "scores": "percentage points (observed - expected)"},
        "blocks": blocks,
    }


def scores_table(scores: Sequence[BlockScores]) -> pd.DataFrame:
    """Tidy per-cell table: one row per block and dose pair."""
    rows = []
    for bs in scores:
        d = _block_dict(bs)
        for cell in d["cells"]:
            rows.append(
                {
                    "block_id": d["block_id"],
                    "drug1": d["drug1"],
                    "drug2": d["drug2"],
                    "conc_unit": d["conc_unit"],
                    **cell,
                    "flags": ";".join(cell["flags"]),
                }
            )
    return pd.DataFrame(rows)


def scores_tsv(scores: Sequence[BlockScores], header: Mapping[str, Any], *, sep: str = "\t") -> str:
    """Tidy table as text, preceded by the provenance comment lines."""
    buf = io.StringIO()
    scores_table(scores).to_csv(buf, sep=sep, index=False, na_rep="NA")
    return tsv_header(header) + buf.getvalue()
