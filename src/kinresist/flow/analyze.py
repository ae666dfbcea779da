"""Flow cytometry entry point: FCS files + gating -> :class:`kinresist.core.Result`.

``gate_flow`` works on already-read inputs (FlowKit samples, a :class:`GatingSource`);
``analyze_flow_files`` reads the files first (what the CLI and web call).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from kinresist.errors import InputError
from kinresist.flow.gating import FLOWJO_BINNING_CAVEAT, FlowGating, gate_samples
from kinresist.flow.populations import SampleSheet, Species, named_populations
from kinresist.flow.readers import GatingSource, read_compensation, read_fcs, read_gating

if TYPE_CHECKING:
    import flowkit as fk

    from kinresist.core.result import Result

__all__ = ["SCHEMA_VERSION", "analyze_flow_files", "gate_flow"]

SCHEMA_VERSION = "1.0"

_TARGETS = {"cd45": "CD45+ leukocytes", "cd8_t": "CD8+ T cells", "neutrophils": "neutrophils"}


def _none(v: Any) -> Any:
    if v is None:
        return None
    if isinstance(v, float) and not np.isfinite(v):
        return None
    if v is pd.NA:
        return None
    return v


def gate_flow(
    samples: Sequence[fk.Sample],
    source: GatingSource,
    *,
    compensation: fk.Matrix | None = None,
    species: Species = "auto",
    populations: Mapping[str, str] | None = None,
    sheet: SampleSheet | None = None,
    beads_added: float | None = None,
    volume_ul: float | None = None,
    pseudocount: float = 0.5,
    plots: bool = True,
    max_plot_samples: int = 6,
    inputs: Mapping[str, Any] | None = None,
    parameters: Mapping[str, Any] | None = None,
) -> Result:
    """Gate ``samples`` and summarise populations (see :mod:`kinresist.flow`)."""
    from kinresist.core.result import Figure, Provenance, Result

    gating = gate_samples(samples, source, compensation=compensation)
    named, ratios = named_populations(
        gating,
        species=species,
        populations=populations,
        sheet=sheet,
        beads_added=beads_added,
        volume_ul=volume_ul,
        pseudocount=pseudocount,
    )
    table = gating.table
    warnings: list[str] = []
    for row in named.itertuples(index=False):
        if row.flags and "ambiguous" in str(row.flags):
            warnings.append(f"{row.sample}: {row.population} {row.flags}; mapped to {row.gate}")
    measurements = _measurements(named, ratios)
    body = _body(gating, named, ratios, pseudocount, species)
    figures = []
    if plots:
        from kinresist.flow.plots import gating_figure

        for sg in gating.samples[:max_plot_samples]:
            figures.append(
                Figure.from_matplotlib(
                    gating_figure(sg),
                    name=f"gating_{sg.sample_id}",
                    caption=(
                        f"{sg.sample_id}: each gate on its parent's events (2-D density, log "
                        "colour scale; 1-D gates as histograms), on the compensated and "
                        "transformed coordinates the gate was evaluated on."
                    ),
                )
            )
    params = dict(parameters or {})
    params.setdefault("species", species)
    params.setdefault("pseudocount", pseudocount)
    params.setdefault("compensation", gating.compensation)
    return Result(
        workflow="flow.gate",
        schema_version=SCHEMA_VERSION,
        provenance=Provenance.build(inputs=dict(inputs or {}), parameters=params),
        body=body,
        tables={
            "populations": table,
            "named_populations": named,
            "cd8_neutrophil": ratios,
            "notes": pd.DataFrame({"note": _notes(body)}),
        },
        measurements=measurements,
        figures=figures,
        warnings=warnings,
    )


def _measurements(named: pd.DataFrame, ratios: pd.DataFrame) -> list[Any]:
    from kinresist.core.result import Measurement

    out = []
    for row in named.itertuples(index=False):
        if row.gate is None or pd.isna(row.count):
            continue
        target = _TARGETS[row.population]
        subject = None if row.subject is None or pd.isna(row.subject) else str(row.subject)
        attrs = {"gate": row.gate, "rule": row.rule, "count": int(row.count)}
        flags = tuple(f for f in str(row.flags or "").split(";") if f)
        if row.population != "cd45":
            out.append(
                Measurement(
                    assay="flow",
                    target=target,
                    quantity="pct_of_cd45",
                    value=_none(row.pct_cd45),
                    unit="%",
                    subject=subject,
                    sample=row.sample,
                    flags=flags,
                    attributes=attrs,
                )
            )
        out.append(
            Measurement(
                assay="flow",
                target=target,
                quantity="pct_of_parent",
                value=_none(row.pct_parent),
                unit="%",
                subject=subject,
                sample=row.sample,
                flags=flags,
                attributes=attrs,
            )
        )
        if row.cells_per_ul is not None and not pd.isna(row.cells_per_ul):
            out.append(
                Measurement(
                    assay="flow",
                    target=target,
                    quantity="cells_per_ul",
                    value=float(row.cells_per_ul),
                    unit="cells/µL",
                    subject=subject,
                    sample=row.sample,
                    flags=flags,
                    attributes={**attrs, "bead_count": row.bead_count},
                )
            )
    for row in ratios.itertuples(index=False):
        if row.log2_cd8_neutrophil is None or pd.isna(row.log2_cd8_neutrophil):
            continue
        subject = None if row.subject is None or pd.isna(row.subject) else str(row.subject)
        out.append(
            Measurement(
                assay="flow",
                target="CD8+ T cells / neutrophils",
                quantity="log2_ratio",
                value=float(row.log2_cd8_neutrophil),
                unit="log2",
                subject=subject,
                sample=row.sample,
                attributes={"pseudocount_events": row.pseudocount},
            )
        )
    return out


def _body(
    gating: FlowGating,
    named: pd.DataFrame,
    ratios: pd.DataFrame,
    pseudocount: float,
    species: str,
) -> dict[str, Any]:
    src = gating.source
    table = gating.table
    fj: dict[str, Any] | None = None
    if src.kind == "flowjo":
        diffs = table["flowjo_diff_pct"].dropna()
        fj = {
            "populations_compared": int(diffs.size),
            "max_abs_diff_pct": float(diffs.abs().max()) if diffs.size else None,
        }
    return {
        "gating": {
            "file": src.path.name,
            "kind": src.kind,
            "group": src.group,
            "compensation": gating.compensation,
        },
        "samples": [
            {"sample": s.sample_id, "events": s.n_events, "fcs_version": _fcs_version(s)}
            for s in gating.samples
        ],
        "named_populations": [
            {k: _none(v) for k, v in r.items()} for r in named.to_dict(orient="records")
        ],
        "cd8_neutrophil": {
            "definition": "log2((CD8+ T-cell events + c) / (neutrophil events + c))",
            "pseudocount_events": pseudocount,
            "species": species,
            "values": [
                {k: _none(v) for k, v in r.items()} for r in ratios.to_dict(orient="records")
            ],
        },
        "flowjo_comparison": fj,
        "caveats": [FLOWJO_BINNING_CAVEAT],
    }


def _notes(body: dict[str, Any]) -> list[str]:
    """Caveats and definitions shown with the tables (and so in every HTML report)."""
    notes = list(body["caveats"])
    fj = body.get("flowjo_comparison")
    if fj and fj.get("populations_compared"):
        notes.append(
            f"FlowJo's saved counts compared for {fj['populations_compared']} populations: "
            f"largest difference {fj['max_abs_diff_pct']:.2f} % (column flowjo_diff_pct)."
        )
    ratio = body["cd8_neutrophil"]
    notes.append(
        f"CD8/neutrophil ratio = {ratio['definition']}, c = {ratio['pseudocount_events']} events."
    )
    notes.append(
        "Named populations are mapped from gate names (rule column); unmatched populations are "
        "reported as not mapped, never guessed."
    )
    return notes


def _fcs_version(sg: Any) -> str | None:
    version = getattr(sg.fk_sample, "version", None)
    return None if version is None else f"FCS{version}"


def _read_sheet(path: Path) -> SampleSheet:
    from kinresist.tme.io import read_table

    return SampleSheet(read_table(path))


def analyze_flow_files(
    fcs: Sequence[str | PathLike[str]],
    gates: str | PathLike[str],
    *,
    compensation: str | PathLike[str] | None = None,
    group: str = "All Samples",
    species: Species = "auto",
    populations: Mapping[str, str] | None = None,
    samples: str | PathLike[str] | None = None,
    beads_added: float | None = None,
    volume_ul: float | None = None,
    pseudocount: float = 0.5,
    plots: bool = True,
) -> Result:
    """Read FCS files, the gating file and optional compensation/sample sheet, then gate."""
    if not fcs:
        msg = "no FCS files given"
        raise InputError(msg)
    fk_samples = [read_fcs(p) for p in fcs]
    source = read_gating(gates, group=group)
    matrix = None
    if compensation is not None and str(compensation).lower() not in ("", "gating", "file"):
        matrix = read_compensation(compensation)
    sheet = _read_sheet(Path(samples)) if samples is not None else None
    inputs: dict[str, Any] = {f"fcs:{Path(p).name}": Path(p) for p in fcs}
    inputs["gates"] = Path(gates)
    if matrix is not None and compensation is not None:
        inputs["compensation"] = Path(compensation)
    if samples is not None:
        inputs["samples"] = Path(samples)
    return gate_flow(
        fk_samples,
        source,
        compensation=matrix,
        species=species,
        populations=populations,
        sheet=sheet,
        beads_added=beads_added,
        volume_ul=volume_ul,
        pseudocount=pseudocount,
        plots=plots,
        inputs=inputs,
        parameters={
            "group": group,
            "species": species,
            "populations": dict(populations or {}),
            "beads_added": beads_added,
            "volume_ul": volume_ul,
            "pseudocount": pseudocount,
            "compensation": "gating" if matrix is None else "user matrix",
        },
    )
