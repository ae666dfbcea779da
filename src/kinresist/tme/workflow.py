"""Registry declaration of ``kinresist tme associate`` (cheap to import)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kinresist.core.registry import InputSpec, Param, Workflow
from kinresist.core.result import Result

__all__ = ["GROUP_HELP", "WORKFLOWS"]

GROUP_HELP = {
    "tme": "Tumour microenvironment study view and baseline-biomarker association with response "
    "(Mann-Whitney, logistic regression, ROC AUC, KM by high/low)."
}


def _run_associate(
    table: Path | None = None,
    *,
    from_db: str | None = None,
    from_study: str | None = None,
    responders: str = "CR,PR,mCR,mPR",
    biomarker: list[str] | None = None,
    bootstrap: int = 0,
    **options: Any,
) -> Result:
    from kinresist.tme.analyze import associate_file

    return associate_file(
        table,
        db=from_db,
        study=from_study,
        responders=[r.strip() for r in responders.split(",") if r.strip()],
        biomarkers=list(biomarker or []) or None,
        n_boot=bootstrap,
        **options,
    )


WORKFLOWS = [
    Workflow(
        group="tme",
        command="associate",
        help="Per-tumour study view (CD8+ %, neutrophil %, CXCL9/10/1/2, IFN-γ score, response) "
        "from a table and/or the store's flow/elisa/gsea measurements, and each baseline "
        "biomarker vs response: Mann-Whitney, ROC AUC with DeLong (or bootstrap) CI, Youden "
        "cut-off (flagged optimistic, with leave-one-out CV), logistic OR, KM by high/low.",
        inputs=[
            InputSpec(
                "table",
                help="Per-tumour table: subject, response, time/event, optional biomarkers.",
                required=False,
            )
        ],
        params=[
            Param("from_db", str, help="Project store to read biomarker measurements from."),
            Param("from_study", str, help="Study whose measurements fill the study view."),
            Param("subject_col", str, default="subject", help="Subject (tumour) column."),
            Param("response_col", str, default="response", help="Response column."),
            Param(
                "responders",
                str,
                default="CR,PR,mCR,mPR",
                help="Response categories counted as responders (comma-separated).",
            ),
            Param("biomarker", str, multiple=True, help="Biomarker columns (default: all known)."),
            Param("time_col", str, help="Time to progression column (for KM)."),
            Param("event_col", str, help="Progression event column, 1/0 (for KM)."),
            Param(
                "km_biomarker",
                str,
                default="neutrophil_pct_cd45",
                help="Biomarker split high/low for KM.",
            ),
            Param("km_cutoff", float, help="KM cut-off (default: the median)."),
            Param("bootstrap", int, default=0, help="Bootstrap resamples for AUC CIs (0: DeLong)."),
            Param("seed", int, default=0, help="Bootstrap seed."),
        ],
        run=_run_associate,
        records=False,
        subject_kind="animal",
    )
]
