"""Registry declaration of ``kinresist elisa quantify`` (cheap to import)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kinresist.core.registry import InputSpec, Param, Workflow
from kinresist.core.result import Result

__all__ = ["GROUP_HELP", "WORKFLOWS"]

GROUP_HELP = {
    "elisa": "Chemokine ELISA: 4PL/5PL standard curves on the dose engine, back-calculated "
    "concentrations with CIs, LLOQ/ULOQ flags (never extrapolated), CV and recovery QC."
}


def _run_quantify(plate: Path, *, layout: Path | None = None, **options: Any) -> Result:
    from kinresist.elisa.analyze import analyze_elisa_file

    return analyze_elisa_file(plate, layout=layout, **options)


WORKFLOWS = [
    Workflow(
        group="elisa",
        command="quantify",
        help="Quantify an ELISA plate: blank subtraction, 4PL/5PL standard curve (drc LL.4/LL.5 "
        "on the dose engine; optional 1/y² weights), unknowns x dilution with delta-method CIs, "
        "LLOQ/ULOQ and out-of-range flags (no extrapolation), replicate CV and 80-120 % recovery.",
        inputs=[
            InputSpec(
                "plate",
                help="Long table (sample, signal[, well, analyte, type, concentration, dilution, "
                "subject]) or a plate grid (rows A-H, columns 1-12) with --layout.",
            ),
            InputSpec(
                "layout",
                help="Plate layout grid naming each well's sample (for a plate grid).",
                option=True,
                required=False,
            ),
        ],
        params=[
            Param(
                "standards",
                str,
                help="Standards' nominal concentrations: a table (sample, concentration[, "
                "analyte]) or inline NAME=CONC,NAME=CONC (default: the plate's concentration "
                "column).",
            ),
            Param("analyte", str, help="Analyte name when the table has no analyte column."),
            Param("model", ("4PL", "5PL"), default="4PL", help="Standard-curve model."),
            Param("weighting", ("none", "1/y2"), default="none", help="Curve weights."),
            Param(
                "blank",
                ("auto", "none"),
                default="auto",
                help="auto: subtract the mean of blank wells and zero standards.",
            ),
            Param("cv_limit", float, default=20.0, help="Replicate CV (%) above which to flag."),
            Param("unit", str, default="pg/mL", help="Concentration unit of the standards."),
            Param("ci_level", float, default=0.95, help="Confidence level of the CIs."),
            Param("plots", bool, default=True, help="Draw the standard curves."),
        ],
        run=_run_quantify,
        subject_kind="animal",
        sample_type="tumour",
    )
]
