"""Synergy results on the core contract (``synergy.score``, ``synergy.sensitivity``,
``synergy.ci``; bodies documented in docs/formats.md).

``synergy.score``: body ``units`` + ``blocks[]`` (per block: scores, summary, single agents, flags,
cells[] with every method's score and reference); tables ``blocks`` (one row per block and
method) and ``cells`` (one row per block and dose pair); one measurement per block and method
(``<method>_synergy``, target ``drug1 + drug2``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from kinresist.core import Figure, Measurement, Provenance, Result
from kinresist.synergy.engine import BlockScores

__all__ = [
    "SCHEMA_VERSION",
    "block_dict",
    "blocks_table",
    "scores_result",
    "scores_table",
]

SCHEMA_VERSION = "2.0"  # 2.0: core envelope; 1.1: single_agents status/reason, cells[].flags

#: Figures are drawn for at most this many blocks (a screen is read as tables, not pictures).
MAX_FIGURE_BLOCKS = 24


def _f(x: Any) -> float | None:
    v = float(x)
    return v if np.isfinite(v) else None


def block_dict(bs: BlockScores) -> dict[str, Any]:
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


def scores_table(scores: Sequence[BlockScores]) -> pd.DataFrame:
    """Tidy per-cell table: one row per block and dose pair."""
    rows = []
    for bs in scores:
        d = block_dict(bs)
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


def blocks_table(blocks: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """One row per block and method: mean score, 3x3 area, p, undefined cells, flags."""
    rows = []
    for d in blocks:
        for m, summ in d["summary"].items():
            rows.append(
                {
                    "block_id": d["block_id"],
                    "drug1": d["drug1"],
                    "drug2": d["drug2"],
                    "method": m,
                    "mean": summ.get("mean"),
                    "max_area_3x3": summ.get("max_area_3x3"),
                    "p_value": summ.get("p_value"),
                    "n_undefined": summ.get("n_undefined"),
                    "flags": ";".join(d["flags"]),
                }
            )
    return pd.DataFrame(rows)


def _figures(scores: Sequence[BlockScores]) -> tuple[list[Figure], dict[str, list[dict[str, Any]]]]:
    """Heat maps, contour, single agents, Fa-CI (matplotlib) and the 3-D surface (plotly) of each
    block, plus the Chou-Talalay fixed-ratio rows the report tabulates."""
    from kinresist.synergy.combination_index import combination_index
    from kinresist.synergy.plots import (
        plot_contour,
        plot_fa_ci,
        plot_heatmap,
        plot_single_agents,
        surface_figure,
    )

    figs: list[Figure] = []
    ci_rows: dict[str, list[dict[str, Any]]] = {}
    for s in scores:
        bid = str(s.block.block_id)
        methods = list(s.synergy)
        main = "zip" if "zip" in methods else methods[0]
        for m in methods:
            figs.append(
                Figure.from_matplotlib(
                    plot_heatmap(s, m), f"{bid}:heatmap_{m}", f"{m.upper()} synergy, block {bid}"
                )
            )
        figs.append(Figure.from_matplotlib(plot_contour(s, main), f"{bid}:contour", "contour"))
        figs.append(
            Figure.from_matplotlib(plot_single_agents(s), f"{bid}:singles", "single agents")
        )
        ci = combination_index(s.block)
        figs.append(
            Figure.from_matplotlib(
                plot_fa_ci(ci, title=f"Fa–CI, block {bid}"), f"{bid}:fa_ci", "Fa–CI"
            )
        )
        figs.append(
            Figure(
                name=f"{bid}:surface",
                caption=f"{main.upper()} synergy surface",
                plotly=surface_figure(s, main).to_plotly_json(),
            )
        )
        ci_rows[bid] = [
            {
                "ratio": _f(r["ratio"]),
                **{f"ci_{f:g}": _f(r[f"ci_{f:g}"]) for f in ci.fa_levels},  # type: ignore[arg-type]
            }
            for r in ci.fixed_ratio
        ]
    return figs, ci_rows


def scores_result(
    scores: Sequence[BlockScores],
    *,
    inputs: Mapping[str, Any],
    parameters: Mapping[str, Any],
    extra: Mapping[str, Mapping[str, Any]] | None = None,
    figures: bool | None = None,
) -> Result:
    """The ``synergy.score`` result (figures for small runs, or when ``figures`` is True)."""
    blocks = []
    for s in scores:
        d = block_dict(s)
        d.update(dict((extra or {}).get(s.block.block_id, {})))
        blocks.append(d)
    draw = len(scores) <= MAX_FIGURE_BLOCKS if figures is None else figures
    figs, ci_rows = _figures(scores) if draw else ([], {})
    for d in blocks:
        if str(d["block_id"]) in ci_rows:
            d["combination_index_rays"] = ci_rows[str(d["block_id"])]
    measurements = [
        Measurement(
            assay="synergy",
            target=f"{d['drug1']} + {d['drug2']}",
            quantity=f"{m}_synergy",
            value=d["scores"][m],
            unit="% points",
            flags=tuple(d["flags"]),
            attributes={"block_id": str(d["block_id"]), "p_value": _pf(d["summary"][m])},
        )
        for d in blocks
        for m in d["scores"]
    ]
    warnings = [f"block {d['block_id']}: {', '.join(d['flags'])}" for d in blocks if d["flags"]][
        :50
    ]
    return Result(
        workflow="synergy.score",
        schema_version=SCHEMA_VERSION,
        provenance=Provenance.build(inputs=inputs, parameters=parameters),
        body={
            "units": {
                "response": "% inhibition",
                "scores": "percentage points (observed - expected)",
            },
            "blocks": blocks,
        },
        tables={"blocks": blocks_table(blocks), "cells": scores_table(scores)},
        measurements=measurements,
        figures=figs,
        warnings=warnings,
    )


def _pf(summary: Mapping[str, Any]) -> float | None:
    p = summary.get("p_value")
    return None if p is None else _f(p)
