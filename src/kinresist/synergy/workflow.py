"""Registry declarations of the synergy workflows (``kinresist synergy ...``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from kinresist.core.registry import InputSpec, Param, Workflow
from kinresist.core.result import Result

__all__ = ["GROUP_HELP", "WORKFLOWS"]

GROUP_HELP = {"synergy": "Drug-combination synergy: Bliss, HSA, Loewe, ZIP, CI."}

_TABLE = InputSpec("input", help="Long table (SynergyFinder columns) or dose matrix.")
_RESPONSE = Param(
    "response",
    ("viability", "inhibition"),
    default="viability",
    help="What the response column holds (% viability or % inhibition).",
)


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
) -> Result:
    """Score every block (``synergy.score``)."""
    import numpy as np

    from kinresist.synergy.engine import score_blocks
    from kinresist.synergy.io import read_blocks
    from kinresist.synergy.replicates import bootstrap_scores, correct_baseline
    from kinresist.synergy.result import scores_result

    if plate_map is not None:
        from kinresist.synergy.plates import read_checkerboard_plates

        blocks, _qc = read_checkerboard_plates(input, plate_map)
    else:
        blocks = read_blocks(input, response=response)
    meths = [m.strip() for m in methods.split(",") if m.strip()]
    blocks = [correct_baseline(b, baseline, mode=mode) for b in blocks]  # type: ignore[arg-type]
    scores = score_blocks(blocks, mode=mode, methods=meths)
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
        parameters={
            "mode": mode,
            "response": response,
            "methods": meths,
            "baseline": baseline,
            "bootstrap_iterations": iterations,
            "seed": seed,
        },
        extra=extra,
        figures=figures,
    )


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
