"""Tumour microenvironment: the per-tumour study view and baseline-biomarker association.

Public API (``kinresist tme associate`` is generated from :mod:`kinresist.tme.workflow`):

* :func:`study_view`, :func:`study_from_store` - one row per tumour: CD8⁺ %, neutrophil %,
  CXCL9/10/1/2, IFN-γ score, response (table and/or the project store)
* :func:`associate` - Mann-Whitney, ROC AUC (DeLong or bootstrap CI), Youden (flagged
  optimistic, with leave-one-out CV), logistic regression for one marker
* :func:`associate_study` / :func:`associate_file` - every marker + KM by high/low marker
  (:mod:`kinresist.clinical.survival`) as a :class:`kinresist.core.Result`

The flow, ELISA and GSEA workflows live in :mod:`kinresist.flow`, :mod:`kinresist.elisa` and
:mod:`kinresist.gsea`. Names are imported lazily so that :mod:`kinresist.tme.io` (used by those
readers) and :mod:`kinresist.tme.workflow` stay cheap to import.
"""

from __future__ import annotations

from kinresist._lazy import lazy_module_attrs

__all__ = [
    "BIOMARKERS",
    "DEFAULT_RESPONDERS",
    "STUDY_COLUMNS",
    "BiomarkerAssociation",
    "associate",
    "associate_file",
    "associate_study",
    "delong_auc",
    "responder_mask",
    "roc_curve",
    "study_from_store",
    "study_view",
    "youden",
]

_LAZY = {
    "associate_file": "kinresist.tme.analyze",
    "associate_study": "kinresist.tme.analyze",
    "DEFAULT_RESPONDERS": "kinresist.tme.association",
    "BiomarkerAssociation": "kinresist.tme.association",
    "associate": "kinresist.tme.association",
    "delong_auc": "kinresist.tme.association",
    "responder_mask": "kinresist.tme.association",
    "roc_curve": "kinresist.tme.association",
    "youden": "kinresist.tme.association",
    "BIOMARKERS": "kinresist.tme.study",
    "STUDY_COLUMNS": "kinresist.tme.study",
    "study_from_store": "kinresist.tme.study",
    "study_view": "kinresist.tme.study",
}


__getattr__, __dir__ = lazy_module_attrs(__name__, _LAZY)
