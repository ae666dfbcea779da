"""Registry declaration of ``kinresist flow gate`` (cheap to import; the engine loads lazily)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kinresist.core.registry import InputSpec, Param, Workflow
from kinresist.core.result import Result

__all__ = ["GROUP_HELP", "WORKFLOWS"]

GROUP_HELP = {
    "flow": "Flow cytometry: FCS + Gating-ML 2.0 / FlowJo 10 workspace -> populations, % of "
    "CD45+, CD8+ T cells and neutrophils, bead-based absolute counts."
}


def _populations(entries: list[str] | tuple[str, ...] | None) -> dict[str, str]:
    from kinresist.errors import InputError

    out = {}
    for entry in entries or ():
        name, sep, path = str(entry).partition("=")
        if not sep or not name.strip() or not path.strip():
            msg = (
                f"--population {entry!r}: expected NAME=GATE_PATH (cd8_t=root/Live/CD45+/CD3+/CD8+)"
            )
            raise InputError(msg)
        out[name.strip()] = path.strip()
    return out


def _run_gate(
    fcs: list[Path],
    *,
    gates: Path,
    comp: Path | None = None,
    samples: Path | None = None,
    population: list[str] | None = None,
    **options: Any,
) -> Result:
    from kinresist.flow.analyze import analyze_flow_files

    return analyze_flow_files(
        fcs,
        gates,
        compensation=comp,
        samples=samples,
        populations=_populations(population),
        **options,
    )


WORKFLOWS = [
    Workflow(
        group="flow",
        command="gate",
        help="Gate FCS 2.0/3.0/3.1 files with a Gating-ML 2.0 file or a FlowJo 10 workspace "
        "(compensation, logicle/asinh/hyperlog, all gate types): per sample x population event "
        "count, % of parent, % of CD45+; CD8+ T cells, neutrophils, counting-bead absolute counts, "
        "log2 CD8/neutrophil ratio; gating-hierarchy plots. Exact-event counts (FlowJo bins "
        "polygon statistics: expect <= ~1 % differences).",
        inputs=[
            InputSpec("fcs", help="FCS files (one per sample).", multiple=True, suffixes=(".fcs",)),
            InputSpec(
                "gates",
                help="Gating-ML 2.0 XML or FlowJo 10 workspace (.wsp).",
                option=True,
                suffixes=(".xml", ".wsp"),
            ),
            InputSpec(
                "comp",
                help="Spillover matrix CSV/TSV (header = detectors) replacing the gating file's "
                "compensation (default: as the gating file / FCS $SPILLOVER says).",
                option=True,
                required=False,
            ),
            InputSpec(
                "samples",
                help="Sample sheet: sample (FCS file name), subject, beads_added, volume_ul.",
                option=True,
                required=False,
            ),
        ],
        params=[
            Param("group", str, default="All Samples", help="FlowJo workspace sample group."),
            Param(
                "species",
                ("auto", "mouse", "human"),
                default="auto",
                help="Neutrophil definition: mouse CD45+CD11b+Ly6G+, human CD45+CD15+CD16+ or "
                "CD45+CD66b+ (auto: whichever the gate names match).",
            ),
            Param(
                "population",
                str,
                multiple=True,
                help="Map a named population to a gate: NAME=GATE_PATH (names: cd45, cd8_t, "
                "neutrophils, beads).",
            ),
            Param("beads_added", float, help="Counting beads added per tube (all samples)."),
            Param("volume_ul", float, help="Sample volume in µL (all samples)."),
            Param(
                "pseudocount",
                float,
                default=0.5,
                help="Events added to both counts of the log2 CD8/neutrophil ratio.",
            ),
            Param("plots", bool, default=True, help="Draw the gating-hierarchy plots."),
        ],
        run=_run_gate,
        subject_kind="animal",
        sample_type="tumour",
    )
]
