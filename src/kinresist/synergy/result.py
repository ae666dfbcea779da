"""Synergy results on the core contract (``synergy.score``, ``synergy.sensitivity``,
``synergy.ci``; bodies documented in docs/formats.md).

``synergy.score``: body ``units`` + ``blocks[]`` (per block: scores, summary, single agents, flags,
cells[] with every method's score and reference); tables ``blocks`` (one row per block and
method) and ``cells`` (one row per block and dose pair); one measurement per block and method
(``<method>_synergy``, target ``drug1 + drug2``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from kinresist.core import Figure, Measurement, Provenance, Result
from kinresist.synergy.engine import BlockScores, stack_flags

if TYPE_CHECKING:
    import pyarrow as pa

    from kinresist.synergy.block import BlockStack
    from kinresist.synergy.engine import StackScores

__all__ = [
    "SCHEMA_VERSION",
    "ScoredColumns",
    "block_dict",
    "blocks_table",
    "scores_result",
    "scores_table",
    "tables_from_columns",
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


@dataclass(frozen=True, eq=False)
class ScoredColumns:
    """Scores of blocks of one shape, column-wise: what the tables are built from.

    ``order`` gives each block's position in the output (blocks of several shapes are scored
    stack by stack and put back in input order); ``flags`` and ``fit_flags`` hold each block's
    flags and its single-agent flags joined with ``";"`` (see :func:`~kinresist.synergy.engine.block_flags`).
    """

    order: np.ndarray
    block_id: np.ndarray
    drug1: np.ndarray
    drug2: np.ndarray
    conc_unit: np.ndarray
    conc1: np.ndarray
    conc2: np.ndarray
    inhibition: np.ndarray
    synergy: Mapping[str, np.ndarray]
    reference: Mapping[str, np.ndarray]
    zip_fit: np.ndarray
    loewe_unreachable: np.ndarray
    loewe_undetermined: np.ndarray
    mean: Mapping[str, np.ndarray]
    max_area: Mapping[str, np.ndarray]
    p_value: Mapping[str, np.ndarray]
    n_undefined: Mapping[str, np.ndarray]
    fit_flags: np.ndarray
    flags: np.ndarray

    @classmethod
    def from_stack(
        cls,
        order: np.ndarray,
        meta: Mapping[str, np.ndarray],
        stack: BlockStack,
        res: StackScores,
    ) -> ScoredColumns:
        """From the engine's stack scores; ``meta``: block_id, drug1, drug2, conc_unit arrays."""
        fit, every = stack_flags(res, meta["drug1"], meta["drug2"])
        return cls(
            np.asarray(order, dtype=np.int64),
            np.asarray(meta["block_id"], dtype=object),
            np.asarray(meta["drug1"], dtype=object),
            np.asarray(meta["drug2"], dtype=object),
            np.asarray(meta["conc_unit"], dtype=object),
            stack.conc1,
            stack.conc2,
            stack.inhibition,
            res.synergy,
            res.reference,
            res.zip_fit,
            res.loewe_unreachable,
            res.loewe_undetermined,
            res.mean,
            res.max_area,
            res.p_value,
            res.n_undefined,
            fit,
            every,
        )

    @classmethod
    def from_block_scores(
        cls, order: Sequence[int], scores: Sequence[BlockScores]
    ) -> ScoredColumns:
        """From per-block scores of one shape (:func:`~kinresist.synergy.engine.score_blocks`)."""
        first = scores[0]
        methods = list(first.synergy)

        def stack(get):  # type: ignore[no-untyped-def]
            return np.stack([get(s) for s in scores])

        def col(values: Sequence[Any]) -> np.ndarray:
            out = np.empty(len(values), dtype=object)
            out[:] = list(values)
            return out

        return cls(
            np.asarray(order, dtype=np.int64),
            col([str(s.block.block_id) for s in scores]),
            col([s.block.drug1 for s in scores]),
            col([s.block.drug2 for s in scores]),
            col([s.block.conc_unit for s in scores]),
            stack(lambda s: s.block.conc1),
            stack(lambda s: s.block.conc2),
            stack(lambda s: s.block.inhibition),
            {m: stack(lambda s, m=m: s.synergy[m]) for m in methods},
            {m: stack(lambda s, m=m: s.reference[m]) for m in methods},
            stack(lambda s: s.zip_fit),
            stack(lambda s: s.loewe_unreachable),
            stack(
                lambda s: (
                    np.zeros(s.block.shape, dtype=bool)
                    if s.loewe_undetermined is None
                    else s.loewe_undetermined
                )
            ),
            {m: np.array([s.summary[m]["mean"] for s in scores], dtype=float) for m in methods},
            {m: np.array([s.summary[m]["max_area_3x3"] for s in scores], float) for m in methods},
            {m: np.array([s.summary[m]["p_value"] for s in scores], float) for m in methods},
            {m: np.array([s.summary[m]["n_undefined"] for s in scores], np.int64) for m in methods},
            col([";".join(f for f in s.flags if f.startswith("single_agent_")) for s in scores]),
            col([";".join(s.flags) for s in scores]),
        )

    @property
    def n_blocks(self) -> int:
        return int(self.order.size)


def _finite(x: np.ndarray) -> np.ndarray:
    """Non-finite -> NaN (the JSON body's null)."""
    x = np.asarray(x, dtype=float)
    return np.where(np.isfinite(x), x, np.nan)


_CELL_SUFFIX = ("", "loewe_unreachable", "loewe_undetermined_step")


def _cell_flags(c: ScoredColumns, uses_fits: bool) -> pa.Array:
    """Each cell's flags: single-agent flags (when ZIP/Loewe are scored) + Loewe flags of the
    cell; none in monotherapy cells."""
    import pyarrow as pa

    nb, n1, n2 = c.inhibition.shape
    combo = np.zeros((n1, n2), dtype=bool)
    combo[1:, 1:] = True
    code = (
        c.loewe_unreachable.astype(np.int32) + 2 * c.loewe_undetermined.astype(np.int32)
    ) * combo
    vocab = [*_CELL_SUFFIX, ";".join(_CELL_SUFFIX[1:])]
    codes = code.reshape(nb, -1).copy()
    index: dict[str, int] = {v: i for i, v in enumerate(vocab)}
    prefixed = np.flatnonzero(c.fit_flags != "") if uses_fits else np.zeros(0, dtype=np.int64)
    flat_combo = combo.ravel()
    for k in prefixed:
        for cell in np.flatnonzero(flat_combo):
            suffix = vocab[codes[k, cell]]
            text = str(c.fit_flags[k]) + (";" + suffix if suffix else "")
            codes[k, cell] = index.setdefault(text, len(index))
    return pa.array(list(index)).take(pa.array(codes.ravel()))


def _cells(c: ScoredColumns, methods: Sequence[str]) -> pa.Table:
    import pyarrow as pa

    nb, n1, n2 = c.inhibition.shape
    per_block = np.repeat(np.arange(nb), n1 * n2)

    def blockwise(values: np.ndarray) -> pa.Array:
        return pa.array(values, type=pa.string()).take(pa.array(per_block))

    def cells(x: np.ndarray) -> pa.Array:
        return pa.array(np.ascontiguousarray(x).reshape(-1), from_pandas=True)

    cols: dict[str, pa.Array] = {
        "block_id": blockwise(c.block_id),
        "drug1": blockwise(c.drug1),
        "drug2": blockwise(c.drug2),
        "conc_unit": blockwise(c.conc_unit),
        "conc1": cells(np.repeat(c.conc1[:, :, None], n2, axis=2)),
        "conc2": cells(np.repeat(c.conc2[:, None, :], n1, axis=1)),
    }
    for m in methods:
        cols[m] = cells(_finite(c.synergy[m]))
    cols["response"] = cells(c.inhibition)
    for m in methods:
        cols[f"{m}_ref"] = cells(_finite(c.reference[m]))
    if "zip" in methods:
        cols["zip_fit"] = cells(_finite(c.zip_fit))
    if "loewe" in methods:
        cols["loewe_unreachable"] = pa.array(c.loewe_unreachable.reshape(-1), type=pa.bool_())
    cols["flags"] = _cell_flags(c, any(m in methods for m in ("zip", "loewe")))
    return pa.table(cols)


def _per_method(c: ScoredColumns, methods: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Row -> block and row -> method indices of the one-row-per-block-and-method tables."""
    nb, nm = c.n_blocks, len(methods)
    return np.repeat(np.arange(nb), nm), np.tile(np.arange(nm), nb)


def _blocks(c: ScoredColumns, methods: Sequence[str]) -> pa.Table:
    import pyarrow as pa

    rows, meth = _per_method(c, methods)
    take = pa.array(rows)

    def stat(d: Mapping[str, np.ndarray], dtype: Any = float) -> np.ndarray:
        if not methods:
            return np.zeros(0, dtype=dtype)
        return np.stack([np.asarray(d[m], dtype=dtype) for m in methods], axis=1).reshape(-1)

    return pa.table(
        {
            "block_id": pa.array(c.block_id, type=pa.string()).take(take),
            "drug1": pa.array(c.drug1, type=pa.string()).take(take),
            "drug2": pa.array(c.drug2, type=pa.string()).take(take),
            "method": pa.array(list(methods), type=pa.string()).take(pa.array(meth)),
            "mean": pa.array(stat(c.mean), from_pandas=True),
            "max_area_3x3": pa.array(stat(c.max_area), from_pandas=True),
            "p_value": pa.array(stat(c.p_value), from_pandas=True),
            "n_undefined": pa.array(stat(c.n_undefined, np.int64), type=pa.int64()),
            "flags": pa.array(c.flags, type=pa.string()).take(take),
        }
    )


def _measurements(c: ScoredColumns, methods: Sequence[str]) -> pa.Table:
    """The measurements table (as :meth:`Result.measurements_frame` lays it out)."""
    import pyarrow as pa

    from kinresist.core.result import MEASUREMENT_COLUMNS

    rows, meth = _per_method(c, methods)
    take = pa.array(rows)
    n = rows.size
    target = [f"{a} + {b}" for a, b in zip(c.drug1, c.drug2, strict=True)]
    mean = (
        np.stack([_finite(c.mean[m]) for m in methods], axis=1).reshape(-1)
        if methods
        else np.zeros(0)
    )
    cols = {name: pa.nulls(n) for name in MEASUREMENT_COLUMNS}
    cols.update(
        {
            "assay": pa.array(["synergy"]).take(pa.array(np.zeros(n, dtype=np.int64))),
            "target": pa.array(target, type=pa.string()).take(take),
            "quantity": pa.array([f"{m}_synergy" for m in methods], type=pa.string()).take(
                pa.array(meth)
            ),
            "value": pa.array(mean, from_pandas=True),
            "unit": pa.array(["% points"]).take(pa.array(np.zeros(n, dtype=np.int64))),
            "flags": pa.array(c.flags, type=pa.string()).take(take),
        }
    )
    return pa.table({name: cols[name] for name in MEASUREMENT_COLUMNS})


def tables_from_columns(
    groups: Sequence[ScoredColumns], methods: Sequence[str]
) -> dict[str, pa.Table]:
    """The ``blocks``, ``cells`` and ``measurements`` tables of scored blocks, in output order
    (the same whether the blocks were scored in one piece, in chunks or on a cluster)."""
    import pyarrow as pa

    out: dict[str, pa.Table] = {}
    for name, build in (("blocks", _blocks), ("cells", _cells), ("measurements", _measurements)):
        parts = [build(g, methods) for g in groups if g.n_blocks]
        if not parts:
            parts = [build(_empty_columns(methods), methods)]
        table = parts[0] if len(parts) == 1 else pa.concat_tables(parts)
        if len(parts) > 1:
            rows_per_block = [p.num_rows // g.n_blocks for p, g in zip(parts, groups, strict=True)]
            key = np.concatenate(
                [np.repeat(g.order, r) for g, r in zip(groups, rows_per_block, strict=True)]
            )
            table = table.take(pa.array(np.argsort(key, kind="stable")))
        out[name] = table
    return out


def _empty_columns(methods: Sequence[str]) -> ScoredColumns:
    """No blocks (tables with their columns and types, and no rows)."""
    z = np.zeros(0)
    zb = np.zeros((0, 2, 2))
    obj = np.zeros(0, dtype=object)
    return ScoredColumns(
        np.zeros(0, dtype=np.int64),
        obj,
        obj,
        obj,
        obj,
        np.zeros((0, 2)),
        np.zeros((0, 2)),
        zb,
        dict.fromkeys(methods, zb),
        dict.fromkeys(methods, zb),
        zb,
        zb.astype(bool),
        zb.astype(bool),
        dict.fromkeys(methods, z),
        dict.fromkeys(methods, z),
        dict.fromkeys(methods, z),
        {m: z.astype(np.int64) for m in methods},
        obj,
        obj,
    )


def _columns_of(scores: Sequence[BlockScores]) -> list[ScoredColumns]:
    groups: dict[tuple[int, int], list[int]] = {}
    for k, s in enumerate(scores):
        groups.setdefault(s.block.shape, []).append(k)
    return [
        ScoredColumns.from_block_scores(idx, [scores[k] for k in idx]) for idx in groups.values()
    ]


def scores_table(scores: Sequence[BlockScores]) -> pd.DataFrame:
    """Tidy per-cell table: one row per block and dose pair."""
    methods = list(scores[0].synergy) if scores else []
    return tables_from_columns(_columns_of(scores), methods)["cells"].to_pandas()


def blocks_table(scores: Sequence[BlockScores]) -> pd.DataFrame:
    """One row per block and method: mean score, 3x3 area, p, undefined cells, flags."""
    methods = list(scores[0].synergy) if scores else []
    return tables_from_columns(_columns_of(scores), methods)["blocks"].to_pandas()


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
    tables = tables_from_columns(_columns_of(scores), list(scores[0].synergy) if scores else [])
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
        tables={name: tables[name].to_pandas() for name in ("blocks", "cells")},
        measurements=measurements,
        figures=figs,
        warnings=warnings,
    )


def _pf(summary: Mapping[str, Any]) -> float | None:
    p = summary.get("p_value")
    return None if p is None else _f(p)
