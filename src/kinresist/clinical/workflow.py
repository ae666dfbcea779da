"""Registry declarations of the clinical workflows (``kinresist clinical ...``).

Cheap to import: the engine is imported inside each run function.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kinresist.core.registry import InputSpec, Param, Workflow
from kinresist.core.result import Result

__all__ = ["GROUP_HELP", "WORKFLOWS"]

GROUP_HELP = {
    "clinical": "Clinical efficacy: Kaplan-Meier, log-rank, Cox (R survival numbers), response "
    "rates and trial summary tables."
}

_FILE = InputSpec("file", help="Patient-level table (CSV, TSV or XLSX), one row per patient.")
_SHEET = Param("sheet", str, help="XLSX sheet name (default: the first sheet).")
_ID = Param(
    "id_col",
    str,
    help="Patient id column: each patient's values become store measurements (subject = id).",
)
_CONF = Param("conf_level", float, default=0.95, help="Confidence level of every interval.")
_CONF_TYPE = Param(
    "conf_type",
    ("log", "log-log", "plain"),
    default="log",
    help="KM pointwise CI transform: log (R survfit default), log-log (lifelines/SAS), plain.",
)
_TIES = Param(
    "ties", ("efron", "breslow"), default="efron", help="Cox tie handling (R default: efron)."
)
_FIRTH = Param(
    "firth",
    ("auto", "never", "always"),
    default="auto",
    help="Firth-penalised Cox: auto = when a group has no events (flagged); never = refuse.",
)
_LANDMARK = Param(
    "landmark", float, multiple=True, help="Landmark time for survival with CI (repeat: 12, 24)."
)
_REFERENCE = Param("reference", str, help="Reference group (default: the first, sorted).")


def _run_survival(file: Path, **options: Any) -> Result:
    from kinresist.clinical.analyze import run_survival

    return run_survival(file, **options)


def _run_response(file: Path, **options: Any) -> Result:
    from kinresist.clinical.analyze import run_response

    return run_response(file, **options)


def _run_summary(file: Path, **options: Any) -> Result:
    from kinresist.clinical.analyze import run_summary

    return run_summary(file, **options)


WORKFLOWS = [
    Workflow(
        group="clinical",
        command="survival",
        help="Kaplan-Meier per group (median with CI or NR, landmarks, numbers at risk, reverse-KM "
        "follow-up), log-rank (stratified) and Cox HR (Efron; Firth when a group has no events), "
        "as R survival computes them.",
        inputs=[_FILE],
        params=[
            Param("time_col", str, required=True, help="Follow-up time column (>= 0)."),
            Param("event_col", str, required=True, help="Event column: 1/0 or TRUE/FALSE."),
            Param("group_col", str, help="Group column (arm, biomarker class)."),
            Param("strata_col", str, help="Stratification column (log-rank and Cox)."),
            _REFERENCE,
            _CONF_TYPE,
            _TIES,
            _CONF,
            _LANDMARK,
            Param(
                "risk_times", str, help="Risk-table times, comma-separated (default: round steps)."
            ),
            Param(
                "time_unit", str, default="", help="Unit of the times, for labels (months, days)."
            ),
            _FIRTH,
            _ID,
            _SHEET,
            Param(
                "split_by_alteration",
                str,
                web=False,
                help="Groups from the store instead of --group-col: each patient (--id-col = "
                "subject label, in --study) is '<alteration> detected' (a plasma ddPCR/NGS call "
                "at or above the LoD) or 'not detected'; unmeasured patients are left out, with a "
                "warning. Needs --db. E.g. 'ALK G1202R'.",
            ),
        ],
        run=_run_survival,
        text="kinresist.clinical.text:survival_text",
        subject_kind="patient",
        # the split reads the store the result is recorded in: with it, --db and --study reach run
        extra={"store_option": "split_by_alteration"},
    ),
    Workflow(
        group="clinical",
        command="response",
        help="ORR and DCR with Clopper-Pearson CIs per group or biomarker class, ORR difference "
        "(Newcombe) and Fisher's exact test with the conditional odds ratio (as R fisher.test).",
        inputs=[_FILE],
        params=[
            Param(
                "response_col",
                str,
                default="best_response",
                help="Best-response column (CR, PR, SD, NON-CR/NON-PD, PD, NE).",
            ),
            Param("group_col", str, help="Group column (arm)."),
            _REFERENCE,
            Param("biomarker_col", str, help="Biomarker column for a biomarker x response 2x2."),
            Param(
                "biomarker_cutoff",
                float,
                help="Cutoff of a numeric biomarker: classes >= cutoff and < cutoff (e.g. 1 for "
                "PD-L1 TPS 1%).",
            ),
            Param(
                "input_kind",
                ("patients", "counts"),
                default="patients",
                help="patients: one row per patient; counts: one row per group with CR, PR, SD, "
                "PD, NE count columns.",
            ),
            Param(
                "denominator",
                ("evaluable", "all"),
                default="evaluable",
                help="N of ORR/DCR: evaluable (NE excluded) or all (NE = non-responder, ITT).",
            ),
            Param(
                "ci_method",
                ("clopper-pearson", "wilson", "agresti-coull"),
                default="clopper-pearson",
                help="CI of ORR and DCR.",
            ),
            _CONF,
            _ID,
            _SHEET,
        ],
        run=_run_response,
        text="kinresist.clinical.text:response_text",
        subject_kind="patient",
    ),
    Workflow(
        group="clinical",
        command="summary",
        help="Trial summary table (ALEX style): per arm PFS median (CI), HR (CI), log-rank p, ORR "
        "(CI), intracranial ORR; KM plot with risk table and subgroup forest plot.",
        inputs=[_FILE],
        params=[
            Param("arm_col", str, required=True, help="Treatment arm column."),
            Param("time_col", str, required=True, help="Time-to-event column (e.g. PFS months)."),
            Param("event_col", str, required=True, help="Event column: 1/0 or TRUE/FALSE."),
            _REFERENCE,
            Param("response_col", str, help="Best overall response column."),
            Param(
                "ic_response_col",
                str,
                help="Best intracranial response column (blank = no measurable CNS disease).",
            ),
            Param("strata_col", str, help="Stratification column (log-rank and Cox)."),
            Param(
                "subgroup_col",
                str,
                multiple=True,
                help="Subgroup column for the forest plot (repeat).",
            ),
            Param("endpoint", str, default="PFS", help="Name of the time-to-event endpoint."),
            Param(
                "denominator",
                ("evaluable", "all"),
                default="all",
                help="N of ORR: all randomised (ITT, as ALEX) or evaluable.",
            ),
            _CONF_TYPE,
            _TIES,
            _CONF,
            _LANDMARK,
            Param("time_unit", str, default="months", help="Unit of the times."),
            _FIRTH,
            _ID,
            _SHEET,
        ],
        run=_run_summary,
        text="kinresist.clinical.text:summary_text",
        subject_kind="patient",
    ),
]
