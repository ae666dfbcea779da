"""``kinresist synergy``: checkerboards to Bliss, HSA, Loewe and ZIP scores."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Any

import typer

from kinresist.cli._common import DbOpt, FormatOpt, OutFormat, OutOpt, emit, emit_text, resolve_db

app = typer.Typer(no_args_is_help=True)


class ModeOpt(StrEnum):
    exact = "exact"
    synergyfinder = "synergyfinder"


class ResponseOpt(StrEnum):
    viability = "viability"
    inhibition = "inhibition"


def _num(v: float, spec: str) -> str:
    return "NA" if v != v else format(v, spec)


@app.command("score")
def score(
    input: Path = typer.Argument(
        ..., help="Long table (SynergyFinder columns), dose matrix, or plate file (with --map)."
    ),
    plate_map: Path | None = typer.Option(
        None, "--map", help="Checkerboard plate map: INPUT is then a plate-reader file."
    ),
    mode: ModeOpt = typer.Option(
        ModeOpt.exact,
        "--mode",
        help="exact (default): least-squares single-agent and ZIP fits, root-finding Loewe "
        "with unreachable effects flagged, vectorised; step-like single agents are used at "
        "their limit and flagged (single_agent_at_limit / single_agent_step_curve). "
        "synergyfinder: reproduce SynergyFinder 3.7 numbers (drc's early-stopped fits, "
        "Loewe 100-point grid with its artefacts); use it to compare with published "
        "SynergyFinder/DrugComb scores. See docs/synergy.md.",
    ),
    response: ResponseOpt = typer.Option(
        ResponseOpt.viability,
        "--response",
        help="What the response column holds (% viability or % inhibition).",
    ),
    methods: str = typer.Option(
        "zip,bliss,hsa,loewe", "--methods", help="Comma-separated methods."
    ),
    baseline: str = typer.Option(
        "non", "--baseline", help="SynergyFinder baseline correction: non, part or all."
    ),
    iterations: int = typer.Option(10, "--iterations", help="Bootstrap rounds for replicates."),
    seed: int = typer.Option(123, "--seed", help="Seed of the replicate bootstrap."),
    with_sensitivity: bool = typer.Option(
        False, "--sensitivity", help="Also compute IC50, RI and CSS per block."
    ),
    fmt: FormatOpt = OutFormat.json,
    out: OutOpt = None,
    csv: Path | None = typer.Option(
        None, "--csv", help="Also write the tidy per-cell table (CSV)."
    ),
    report: Path | None = typer.Option(
        None, "--report", help="Also write a self-contained HTML report."
    ),
    db: DbOpt = None,
    study: str | None = typer.Option(None, "--study", help="Attach the stored run to this study."),
) -> None:
    """Score every block of INPUT; JSON ``blocks[]`` with block means and per-cell scores.

    Default mode is ``exact`` (least-squares fits, root-finding Loewe); ``--mode
    synergyfinder`` reproduces SynergyFinder 3.7 for comparison with its published scores.
    """
    from kinresist.provenance import file_sha256, stamp
    from kinresist.synergy.engine import score_blocks
    from kinresist.synergy.export import (
        KIND,
        SCHEMA_VERSION,
        scores_payload,
        scores_table,
        scores_tsv,
    )
    from kinresist.synergy.io import read_blocks

    if plate_map is not None:
        from kinresist.synergy.plates import read_checkerboard_plates

        blocks, _qc = read_checkerboard_plates(input, plate_map)
    else:
        blocks = read_blocks(input, response=response.value)
    meths = [m.strip() for m in methods.split(",") if m.strip()]
    import numpy as np

    from kinresist.synergy.replicates import bootstrap_scores, correct_baseline

    if baseline not in ("non", "part", "all"):
        from kinresist.errors import InputError

        msg = f"--baseline must be non, part or all, got {baseline!r}"
        raise InputError(msg)
    blocks = [correct_baseline(b, baseline, mode=mode.value) for b in blocks]  # type: ignore[arg-type]
    scores = score_blocks(blocks, mode=mode.value, methods=meths)
    extra: dict[str, dict[str, Any]] = {}
    rng = np.random.default_rng(seed)
    for b in blocks:
        if b.replicates is not None and b.replicates.shape[2] > 1:
            stats = bootstrap_scores(
                b, rng=rng, mode=mode.value, methods=meths, iterations=iterations
            )
            extra.setdefault(b.block_id, {})["replicate_statistics"] = stats
        if with_sensitivity:
            from kinresist.synergy.sensitivity import sensitivity

            extra.setdefault(b.block_id, {})["sensitivity"] = sensitivity(b).to_dict()
    params = {
        "mode": mode.value,
        "response": response.value,
        "methods": meths,
        "baseline": baseline,
        "bootstrap_iterations": iterations,
        "seed": seed,
    }
    inputs = {input.name: file_sha256(input)}
    if plate_map is not None:
        inputs[plate_map.name] = file_sha256(plate_map)
    payload = scores_payload(scores, inputs=inputs, parameters=params, extra=extra)
    if csv is not None:
        csv.parent.mkdir(parents=True, exist_ok=True)
        scores_table(scores).to_csv(csv, index=False, na_rep="NA")
    if report is not None:
        from kinresist.reports.synergy import write_report

        write_report(scores, report, payload=payload)
    if db is not None:
        from kinresist.synergy.record import record_run

        record_run(resolve_db(db), payload, study=study)
    if fmt is OutFormat.json:
        emit(payload, out=out)
    elif fmt is OutFormat.tsv:
        emit_text(
            scores_tsv(scores, stamp(KIND, SCHEMA_VERSION, inputs=inputs, parameters=params)),
            out=out,
        )
    else:
        lines = []
        for s in scores:
            b = s.block
            parts = ", ".join(
                f"{m.upper()} {_num(s.summary[m]['mean'], '.2f')} (p {_num(s.summary[m]['p_value'], '.3g')})"
                for m in s.synergy
            )
            flags = f" [{', '.join(s.flags)}]" if s.flags else ""
            lines.append(f"block {b.block_id}: {b.drug1} + {b.drug2}: {parts}{flags}")
        emit_text("\n".join(lines), out=out)


@app.command("sensitivity")
def sensitivity_cmd(
    input: Path = typer.Argument(..., help="Long table (SynergyFinder columns) or dose matrix."),
    response: ResponseOpt = typer.Option(ResponseOpt.viability, "--response"),
    fmt: FormatOpt = OutFormat.json,
    out: OutOpt = None,
) -> None:
    """IC50, RI and CSS per block (SynergyFinder CalculateSensitivity, deterministic)."""
    from kinresist.provenance import file_sha256, stamp
    from kinresist.synergy.io import read_blocks
    from kinresist.synergy.sensitivity import sensitivity

    blocks = read_blocks(input, response=response.value)
    rows = [
        {"block_id": b.block_id, "drug1": b.drug1, "drug2": b.drug2, **sensitivity(b).to_dict()}
        for b in blocks
    ]
    head = stamp(
        "kinresist.synergy.sensitivity",
        "1.0",
        inputs={input.name: file_sha256(input)},
        parameters={"response": response.value},
    )
    if fmt is OutFormat.json:
        emit({**head, "blocks": rows}, out=out)
    else:
        import pandas as pd

        from kinresist.provenance import tsv_header

        table = pd.DataFrame(rows).assign(flags=lambda d: d["flags"].map(";".join))
        emit_text(tsv_header(head) + table.to_csv(sep="\t", index=False, na_rep="NA"), out=out)


@app.command("ci")
def ci_cmd(
    input: Path = typer.Argument(..., help="Long table (SynergyFinder columns) or dose matrix."),
    response: ResponseOpt = typer.Option(ResponseOpt.viability, "--response"),
    fmt: FormatOpt = OutFormat.json,
    out: OutOpt = None,
) -> None:
    """Chou-Talalay combination index and DRI (fixed-ratio rays at fa 0.5/0.75/0.9; every cell)."""
    from kinresist.provenance import file_sha256, stamp
    from kinresist.synergy.combination_index import combination_index
    from kinresist.synergy.io import read_blocks

    blocks = read_blocks(input, response=response.value)
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
    head = stamp(
        "kinresist.synergy.ci",
        "1.0",
        inputs={input.name: file_sha256(input)},
        parameters={"response": response.value, "fa_levels": [0.5, 0.75, 0.9]},
    )
    if fmt is not OutFormat.json:
        import pandas as pd

        from kinresist.provenance import tsv_header

        rows = [{"block_id": b["block_id"], **c} for b in out_blocks for c in b["cells"]]
        emit_text(
            tsv_header(head) + pd.DataFrame(rows).to_csv(sep="\t", index=False, na_rep="NA"),
            out=out,
        )
        return
    emit({**head, "blocks": out_blocks}, out=out)
