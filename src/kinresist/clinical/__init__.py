"""Clinical efficacy summaries: survival, response rates and biomarker associations, with R's numbers.

* :mod:`kinresist.clinical.survival` - the project's one survival implementation: Kaplan-Meier
  (CI transforms log / log-log / plain, medians with Brookmeyer-Crowley CI or NR, landmarks,
  numbers at risk, reverse-KM follow-up), log-rank (stratified), Cox (Efron/Breslow) and
  Firth-penalised Cox.
* :mod:`kinresist.clinical.response` - ORR/DCR with exact CIs, Newcombe differences, Fisher's
  exact test with the conditional odds ratio.
* :mod:`kinresist.clinical.summary` - the ALEX-style per-arm table and subgroup hazard ratios.
* :mod:`kinresist.clinical.readers` - patient-level CSV/TSV/XLSX with row/column errors.
* :mod:`kinresist.clinical.analyze` - file -> :class:`kinresist.core.Result` entry points.

Names are imported lazily so that ``kinresist.clinical.workflow`` stays cheap to import.
"""

from __future__ import annotations

from kinresist._lazy import lazy_module_attrs

__all__ = [
    "CoxResult",
    "KaplanMeier",
    "LogRankResult",
    "MedianSurvival",
    "analyze_survival",
    "cox_ph",
    "efficacy_summary",
    "firth_cox",
    "fisher_exact",
    "kaplan_meier",
    "logrank_test",
    "orr_difference",
    "proportion",
    "proportion_ci",
    "read_patient_table",
    "response_rates",
    "response_rates_from_counts",
    "reverse_kaplan_meier",
    "run_response",
    "run_summary",
    "run_survival",
    "subgroup_hazard_ratios",
]

_LAZY = {
    "CoxResult": "kinresist.clinical.survival",
    "KaplanMeier": "kinresist.clinical.survival",
    "LogRankResult": "kinresist.clinical.survival",
    "MedianSurvival": "kinresist.clinical.survival",
    "analyze_survival": "kinresist.clinical.survival",
    "cox_ph": "kinresist.clinical.survival",
    "firth_cox": "kinresist.clinical.survival",
    "kaplan_meier": "kinresist.clinical.survival",
    "logrank_test": "kinresist.clinical.survival",
    "reverse_kaplan_meier": "kinresist.clinical.survival",
    "fisher_exact": "kinresist.clinical.response",
    "orr_difference": "kinresist.clinical.response",
    "proportion": "kinresist.clinical.response",
    "proportion_ci": "kinresist.clinical.response",
    "response_rates": "kinresist.clinical.response",
    "response_rates_from_counts": "kinresist.clinical.response",
    "efficacy_summary": "kinresist.clinical.summary",
    "subgroup_hazard_ratios": "kinresist.clinical.summary",
    "read_patient_table": "kinresist.clinical.readers",
    "run_response": "kinresist.clinical.analyze",
    "run_summary": "kinresist.clinical.analyze",
    "run_survival": "kinresist.clinical.analyze",
}


__getattr__, __dir__ = lazy_module_attrs(__name__, _LAZY)
