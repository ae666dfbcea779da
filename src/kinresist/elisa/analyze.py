"""ELISA entry point: :class:`ElisaData` -> :class:`kinresist.core.Result` (tables, measurements,
standard-curve figures)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from kinresist.elisa.curves import ElisaAnalysis, Model, Weighting, quantify
from kinresist.elisa.readers import ElisaData, read_elisa

if TYPE_CHECKING:
    from matplotlib.figure import Figure as MplFigure

    from kinresist.core.result import Result

__all__ = ["SCHEMA_VERSION", "analyze_elisa_file", "curve_figure", "elisa_result"]

SCHEMA_VERSION = "1.0"


def _clean(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if v is pd.NA:
        return None
    if isinstance(v, np.generic):
        return v.item()
    return v


def curve_figure(analysis: ElisaAnalysis, analyte: str, *, unit: str = "") -> MplFigure:
    """Standards, the fitted curve, LLOQ/ULOQ and the quantified unknowns of one analyte."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ac = next(c for c in analysis.curves if c.analyte == analyte)
    fig, ax = plt.subplots(figsize=(5.2, 4.0))
    std = ac.standards
    ax.scatter(std["concentration"], std["net_signal_mean"], color="#1d2430", zorder=3,
               label="standards (mean, blank-corrected)")  # fmt: skip
    if ac.converged:
        xs = np.geomspace(std["concentration"].min() / 3, std["concentration"].max() * 3, 300)
        ys = ac.curve.fit.predict(xs)[0]  # type: ignore[attr-defined]
        ax.plot(xs, ys, color="#0969da", lw=1.6, label=f"{ac.model} fit")
    for lim, name in ((ac.lloq, "LLOQ"), (ac.uloq, "ULOQ")):
        if lim is not None:
            ax.axvline(lim, color="#9a6700", ls="--", lw=1)
            ax.text(lim, ax.get_ylim()[1], f" {name}", color="#9a6700", fontsize=8, va="top")
    unk = analysis.unknowns[analysis.unknowns["analyte"] == analyte]
    q = unk[unk["call"] == "quantified"]
    if len(q):
        ax.scatter(q["conc_in_well"], q["signal_mean"] - ac.blank, marker="x", color="#cf222e",
                   zorder=4, label="unknowns (in-well concentration)")  # fmt: skip
    ax.set_xscale("log")
    ax.set_xlabel(f"concentration{f' ({unit})' if unit else ''}")
    ax.set_ylabel("signal - blank")
    ax.set_title(f"{analyte}: {ac.model} standard curve", fontsize=10)
    ax.spines["top"].set_visible(False)
    ax.spines["right"].set_visible(False)
    ax.legend(fontsize=7, frameon=False)
    fig.tight_layout()
    return fig


def elisa_result(
    data: ElisaData,
    /,
    *,
    model: Model = "4PL",
    weighting: Weighting = "none",
    blank: Literal["auto", "none"] = "auto",
    cv_limit: float = 20.0,
    unit: str = "pg/mL",
    ci_level: float = 0.95,
    plots: bool = True,
    inputs: Mapping[str, Any] | None = None,
) -> Result:
    """Quantify ``data`` and package the result (tables: unknowns, standards, curves)."""
    from kinresist.core.result import Figure, Measurement, Provenance, Result

    analysis = quantify(
        data, model=model, weighting=weighting, blank=blank, cv_limit=cv_limit, ci_level=ci_level
    )
    unknowns = analysis.unknowns
    measurements = []
    for row in unknowns.itertuples(index=False):
        quantified = row.call == "quantified"
        below = row.call == "below_lloq"
        flags = [f for f in str(row.flags).split(";") if f]
        if not quantified:
            flags.append(row.call)
        measurements.append(
            Measurement(
                assay="elisa",
                target=row.analyte,
                quantity="concentration",
                value=row.concentration if quantified else None,
                unit=unit,
                subject=row.subject,
                sample=row.sample,
                ci_low=row.ci_low if quantified else None,
                ci_high=row.ci_high if quantified else None,
                lod=row.lloq if below else None,
                call="detected" if quantified else ("not_detected" if below else "indeterminate"),
                flags=tuple(flags),
                attributes={"dilution": row.dilution, "uloq": _clean(row.uloq)},
            )
        )
    figures = (
        [
            Figure.from_matplotlib(
                curve_figure(analysis, c.analyte, unit=unit),
                name=f"curve_{c.analyte}",
                caption=(
                    f"{c.analyte}: standards and {c.model} fit (log concentration); dashed lines "
                    "LLOQ/ULOQ; crosses = quantified unknowns at their in-well concentration."
                ),
            )
            for c in analysis.curves
        ]
        if plots
        else []
    )
    body = {
        "settings": {**analysis.settings, "unit": unit},
        "curves": [
            {k: _clean(v) for k, v in r.items()}
            for r in analysis.curve_table.to_dict(orient="records")
        ],
        "summary": {str(call): int(n) for call, n in unknowns["call"].value_counts().items()},
        "rules": [
            "values below LLOQ, above ULOQ or outside the fitted asymptotes are reported as "
            "flags without a number (never extrapolated)",
            "LLOQ/ULOQ: lowest/highest standard with recovery 80-120 % and replicate CV within "
            "the limit",
        ],
    }
    return Result(
        workflow="elisa.quantify",
        schema_version=SCHEMA_VERSION,
        provenance=Provenance.build(
            inputs=dict(inputs or {}),
            parameters={
                "model": model,
                "weighting": weighting,
                "blank": blank,
                "cv_limit": cv_limit,
                "unit": unit,
                "ci_level": ci_level,
            },
        ),
        body=body,
        tables={
            "unknowns": unknowns,
            "standards": analysis.standards,
            "curves": analysis.curve_table,
        },
        measurements=measurements,
        figures=figures,
        warnings=list(analysis.warnings),
    )


def analyze_elisa_file(
    path: str | PathLike[str],
    *,
    standards: str | PathLike[str] | Mapping[str, float] | None = None,
    layout: str | PathLike[str] | None = None,
    analyte: str | None = None,
    model: Model = "4PL",
    weighting: Weighting = "none",
    blank: Literal["auto", "none"] = "auto",
    cv_limit: float = 20.0,
    unit: str = "pg/mL",
    ci_level: float = 0.95,
    plots: bool = True,
) -> Result:
    """Read a plate/table (+ standards, layout) and quantify it."""
    data = read_elisa(path, standards=standards, layout=layout, analyte=analyte)
    inputs: dict[str, Any] = {"plate": Path(path)}
    if layout is not None:
        inputs["layout"] = Path(layout)
    if standards is not None and not isinstance(standards, Mapping) and Path(standards).is_file():
        inputs["standards"] = Path(standards)
    return elisa_result(
        data,
        model=model,
        weighting=weighting,
        blank=blank,
        cv_limit=cv_limit,
        unit=unit,
        ci_level=ci_level,
        plots=plots,
        inputs=inputs,
    )
