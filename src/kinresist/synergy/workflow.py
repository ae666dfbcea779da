"""Registry declarations of the synergy workflows (``kinresist synergy ...``)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from kinresist.core.registry import InputSpec, Param, Workflow
from kinresist.core.result import Result

__all__ = ["GROUP_HELP", "WORKFLOWS", "run_score", "stream_score"]

#: Blocks scored together (and per Dask task); also :data:`kinresist.synergy.stream.CHUNK_BLOCKS`.
CHUNK_BLOCKS = 10_000

GROUP_HELP = {"synergy": "Drug-combination synergy: Bliss, HSA, Loewe, ZIP, CI."}

_TABLE = InputSpec("input", help="Long table (SynergyFinder columns) or dose matrix.")
_RESPONSE = Param(
    "response",
    ("viability", "inhibition"),
    default="viability",
    help="What the response column holds (% viability or % inhibition).",
)


#: Rows above which ``synergy score`` refuses an in-memory result: JSON/text/HTML hold every
#: cell of every block (~0.1 MB per 8x8 block, ~0.4 MB while the JSON is written), so about
#: 7,800 8x8 blocks need ~3 GB; screens are written as Parquet/TSV tables instead (streamed).
MAX_IN_MEMORY_ROWS = 500_000
#: Parquet/TSV runs of at most this many blocks (one chunk) get the complete in-memory result
#: (per-block measurements for ``--db``, replicate bootstrap); larger ones are streamed.
IN_MEMORY_BLOCKS = 1_000


def _check_in_memory(path: Path) -> None:
    """Refuse a screen that only tables can hold, before reading it (cheap size estimate)."""
    from kinresist.errors import InputError
    from kinresist.synergy.io import PARQUET_SUFFIXES

    if not path.is_file():
        return
    if path.suffix.lower() in PARQUET_SUFFIXES:
        import pyarrow.parquet as pq

        rows = int(pq.ParquetFile(path).metadata.num_rows)
    else:
        size = path.stat().st_size
        with path.open("rb") as fh:
            head = fh.read(1 << 16)
        rows = int(size / max(1, len(head)) * max(1, head.count(b"\n")))
    if rows > MAX_IN_MEMORY_ROWS:
        msg = (
            f"about {rows:,} rows: too large for an in-memory result (JSON, text and HTML hold "
            "every cell of every block); write the tables instead, streamed in bounded memory: "
            "--format parquet --out SCORES.parquet (or --format tsv --out SCORES.tsv)"
        )
        raise InputError(msg, path=path)


def _chunks(items: list[Any], size: int) -> list[list[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def run_score(
    input: Path,
    *,
    plate_map: Path | None = None,
    mode: Literal["exact", "synergyfinder"] = "exact",
    response: Literal["viability", "inhibition"] = "viability",
    methods: str = "zip,bliss,hsa,loewe",
    baseline: str = "non",
    iterations: int = 10,
    seed: int = 123,
    sensitivity: bool = False,
    figures: bool | None = None,
    chunk_blocks: int = CHUNK_BLOCKS,
    dask: str | None = None,
) -> Result:
    """Score every block (``synergy.score``), in memory: the full result (body, figures).

    Blocks are scored in chunks of ``chunk_blocks`` (as :func:`stream_score` does, so that both
    give the same numbers), here or on the Dask cluster at ``dask``.
    """
    from functools import partial
    from itertools import chain

    import numpy as np

    from kinresist.core.distribute import map_ordered
    from kinresist.synergy.engine import score_blocks
    from kinresist.synergy.io import read_blocks
    from kinresist.synergy.replicates import bootstrap_scores, correct_baseline
    from kinresist.synergy.result import scores_result

    _check_chunk(chunk_blocks)
    if plate_map is not None:
        from kinresist.synergy.plates import read_checkerboard_plates

        blocks, _qc = read_checkerboard_plates(input, plate_map)
    else:
        _check_in_memory(input)
        blocks = read_blocks(input, response=response)
    meths = [m.strip() for m in methods.split(",") if m.strip()]
    blocks = [correct_baseline(b, baseline, mode=mode) for b in blocks]  # type: ignore[arg-type]
    scorer = partial(score_blocks, mode=mode, methods=meths)
    scores = list(
        chain.from_iterable(map_ordered(scorer, _chunks(blocks, chunk_blocks), dask=dask))
    )
    extra: dict[str, dict[str, Any]] = {}
    rng = np.random.default_rng(seed)
    for b in blocks:
        if b.replicates is not None and b.replicates.shape[2] > 1:
            stats = bootstrap_scores(b, rng=rng, mode=mode, methods=meths, iterations=iterations)
            extra.setdefault(b.block_id, {})["replicate_statistics"] = stats
        if sensitivity:
            from kinresist.synergy.sensitivity import sensitivity as css_ri

            extra.setdefault(b.block_id, {})["sensitivity"] = css_ri(b).to_dict()
    inputs: dict[str, Path] = {input.name: input}
    if plate_map is not None:
        inputs[plate_map.name] = plate_map
    return scores_result(
        scores,
        inputs=inputs,
        parameters=_parameters(mode, response, meths, baseline, iterations, seed, chunk_blocks),
        extra=extra,
        figures=figures,
    )


def _parameters(
    mode: str,
    response: str,
    methods: list[str],
    baseline: str,
    iterations: int,
    seed: int,
    chunk_blocks: int,
) -> dict[str, Any]:
    return {
        "mode": mode,
        "response": response,
        "methods": methods,
        "baseline": baseline,
        "bootstrap_iterations": iterations,
        "seed": seed,
        "chunk_blocks": chunk_blocks,
    }


def _check_chunk(chunk_blocks: int) -> None:
    if chunk_blocks < 1:
        from kinresist.errors import InputError

        msg = f"--chunk-blocks must be at least 1, got {chunk_blocks}"
        raise InputError(msg)


def stream_score(
    input: Path,
    *,
    out: Path,
    fmt: str,
    tables: Mapping[str, Path] | None = None,
    plate_map: Path | None = None,
    mode: Literal["exact", "synergyfinder"] = "exact",
    response: Literal["viability", "inhibition"] = "viability",
    methods: str = "zip,bliss,hsa,loewe",
    baseline: str = "non",
    iterations: int = 10,
    seed: int = 123,
    sensitivity: bool = False,
    chunk_blocks: int = CHUNK_BLOCKS,
    dask: str | None = None,
) -> tuple[Result, list[Path]]:
    """``synergy score`` writing Parquet/TSV tables as it goes (:mod:`kinresist.synergy.stream`).

    A long table of more than :data:`IN_MEMORY_BLOCKS` blocks is streamed (bounded memory,
    rich progress bar); a smaller one, a plate file or a dose matrix gets the complete in-memory
    result (``written`` empty), with the same tables.
    """
    from itertools import chain

    from kinresist.core.batchrun import arrow_pool
    from kinresist.core.progress import progress_bar
    from kinresist.errors import InputError
    from kinresist.synergy.engine import METHODS
    from kinresist.synergy.stream import (
        ScoreOptions,
        input_extent,
        iter_chunks,
        score_file,
        streamable,
    )

    def in_memory() -> tuple[Result, list[Path]]:
        res = run_score(
            input,
            plate_map=plate_map,
            mode=mode,
            response=response,
            methods=methods,
            baseline=baseline,
            iterations=iterations,
            seed=seed,
            sensitivity=sensitivity,
            chunk_blocks=chunk_blocks,
            dask=dask,
        )
        return res, []

    _check_chunk(chunk_blocks)
    if plate_map is not None or not streamable(input):
        return in_memory()
    arrow_pool()  # jemalloc for pyarrow in a command-line batch run (core.batchrun)
    chunks = iter_chunks(input, chunk_blocks=chunk_blocks)
    head = [next(chunks)]
    head += [c for c in [next(chunks, None)] if c is not None]
    if len(head) == 1 and head[0].n_blocks <= IN_MEMORY_BLOCKS:
        return in_memory()
    if sensitivity:
        msg = (
            f"--sensitivity adds IC50/RI/CSS per block to the JSON body; this table has more "
            f"than {IN_MEMORY_BLOCKS:,} blocks and is streamed to tables: run "
            "`kinresist synergy sensitivity` separately, or leave out --sensitivity"
        )
        raise InputError(msg, path=input)
    meths = [m.strip().lower() for m in methods.split(",") if m.strip()]
    bad = [m for m in meths if m not in METHODS]
    if bad:
        msg = f"unknown synergy method(s) {bad}; expected some of {list(METHODS)}"
        raise InputError(msg)
    outputs = [(out, fmt, "blocks")]
    for table, path in (tables or {}).items():
        outputs.append((path, _table_format(path), table or "blocks"))
    options = ScoreOptions(mode=mode, methods=tuple(meths), response=response, baseline=baseline)
    params = _parameters(mode, response, meths, baseline, iterations, seed, chunk_blocks)
    with progress_bar("synergy score", total=input_extent(input), unit="blocks") as bar:
        return score_file(
            input,
            outputs=outputs,
            options=options,
            parameters=params,
            chunk_blocks=chunk_blocks,
            dask=dask,
            progress=bar,
            chunks=chain(head, chunks),
        )


def _table_format(path: Path) -> str:
    from kinresist.errors import InputError

    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return "parquet"
    if suffix in (".csv", ".tsv", ".txt"):
        return "tsv"
    msg = f"cannot tell the table format from {path.name!r}; use a .csv, .tsv or .parquet name"
    raise InputError(msg, path=path)


def run_sensitivity(
    input: Path, *, response: Literal["viability", "inhibition"] = "viability"
) -> Result:
    """IC50, RI and CSS per block (``synergy.sensitivity``)."""
    import pandas as pd

    from kinresist.core import Provenance
    from kinresist.synergy.io import read_blocks
    from kinresist.synergy.sensitivity import sensitivity

    blocks = read_blocks(input, response=response)
    rows = [
        {"block_id": b.block_id, "drug1": b.drug1, "drug2": b.drug2, **sensitivity(b).to_dict()}
        for b in blocks
    ]
    table = pd.DataFrame(rows)
    if "flags" in table:
        table["flags"] = table["flags"].map(";".join)
    return Result(
        workflow="synergy.sensitivity",
        schema_version="2.0",
        provenance=Provenance.build(inputs={input.name: input}, parameters={"response": response}),
        body={"blocks": rows},
        tables={"blocks": table},
    )


def run_ci(input: Path, *, response: Literal["viability", "inhibition"] = "viability") -> Result:
    """Chou-Talalay combination index and DRI (``synergy.ci``)."""
    import pandas as pd

    from kinresist.core import Provenance
    from kinresist.synergy.combination_index import combination_index
    from kinresist.synergy.io import read_blocks

    blocks = read_blocks(input, response=response)
    out_blocks: list[dict[str, Any]] = []
    for b in blocks:
        res = combination_index(b)
        single = {
            name: {"m": me.m, "dm": me.dm, "r": me.r, "n": me.n, "n_dropped": me.n_dropped}
            for name, me in ((b.drug1, res.drug1), (b.drug2, res.drug2))
        }
        rays = [{k: v for k, v in r.items() if k != "mixture"} for r in res.fixed_ratio]
        out_blocks.append(
            {
                "block_id": b.block_id,
                "drug1": b.drug1,
                "drug2": b.drug2,
                "single_agents": single,
                "fixed_ratio": rays,
                "cells": res.cells,
            }
        )
    rows = [{"block_id": b["block_id"], **c} for b in out_blocks for c in b["cells"]]
    return Result(
        workflow="synergy.ci",
        schema_version="2.0",
        provenance=Provenance.build(
            inputs={input.name: input},
            parameters={"response": response, "fa_levels": [0.5, 0.75, 0.9]},
        ),
        body={"blocks": out_blocks},
        tables={"cells": pd.DataFrame(rows)},
    )


WORKFLOWS = [
    Workflow(
        group="synergy",
        command="score",
        help="Score every block: ZIP, Bliss, HSA, Loewe (block means, per-cell scores, p-values). "
        "Default mode exact (least-squares fits, root-finding Loewe); --mode synergyfinder "
        "reproduces SynergyFinder 3 for comparison with published scores (docs/synergy.md).",
        run=run_score,
        inputs=[
            InputSpec(
                "input",
                help="Long table (SynergyFinder columns), dose matrix, or plate file (with --map).",
            ),
            InputSpec(
                "plate_map",
                help="Checkerboard plate map: INPUT is then a plate-reader file.",
                option=True,
                required=False,
                flag="--map",
            ),
        ],
        params=[
            Param("mode", ("exact", "synergyfinder"), default="exact", help="Scoring mode."),
            _RESPONSE,
            Param("methods", str, default="zip,bliss,hsa,loewe", help="Comma-separated methods."),
            Param(
                "baseline",
                ("non", "part", "all"),
                default="non",
                help="SynergyFinder baseline correction.",
            ),
            Param("iterations", int, default=10, help="Bootstrap rounds for replicates."),
            Param("seed", int, default=123, help="Seed of the replicate bootstrap."),
            Param(
                "sensitivity", bool, default=False, help="Also compute IC50, RI and CSS per block."
            ),
            Param(
                "chunk_blocks",
                int,
                default=CHUNK_BLOCKS,
                help="Blocks scored together (one Dask task; a screen is streamed in chunks of "
                "this size, ~40 KB of memory per block). Recorded in the parameters: the engine "
                "may fit large batches with its compiled kernel (docs/synergy.md).",
                web=False,
            ),
            Param(
                "csv", Path, output="table:cells", help="Also write the tidy per-cell table (CSV)."
            ),
            Param("report", Path, output="html", help="Also write a self-contained HTML report."),
        ],
        report="kinresist.reports.synergy:render",
        text="kinresist.reports.synergy:text",
        subject_kind="cell_line",
        sample_type="cell_line",
        long_running=True,
        default_format="json",
        distributable=True,
        stream="kinresist.synergy.workflow:stream_score",
    ),
    Workflow(
        group="synergy",
        command="sensitivity",
        help="IC50, RI and CSS per block (SynergyFinder CalculateSensitivity, deterministic).",
        run=run_sensitivity,
        inputs=[_TABLE],
        params=[_RESPONSE],
        records=False,
        default_format="json",
    ),
    Workflow(
        group="synergy",
        command="ci",
        help="Chou-Talalay combination index and DRI (fixed-ratio rays at fa 0.5/0.75/0.9; every cell).",
        run=run_ci,
        inputs=[_TABLE],
        params=[_RESPONSE],
        records=False,
        default_format="json",
    ),
]
