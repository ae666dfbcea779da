"""Dose-response: plate files to IC50, fold shift and GR metrics.

Public API (library functions; the CLI ``kinresist dose`` is a thin adapter):

* :func:`fit_batch` / :class:`BatchFit` — vectorised Levenberg-Marquardt for many curves
* :func:`fit_curves`, :func:`read_dose_table`, :func:`select_models` — table level
* :func:`compare_groups` — fold shift with delta/Fieller CIs, shared parameters, F test
* :func:`ed` and the other metrics in :mod:`kinresist.dose.metrics`
* :func:`gr_values`, :func:`gr_metrics` — GR metrics (Hafner 2016)
* :func:`fit_standard`, :func:`interpolate` — standard-curve mode
* :func:`read_plate`, :func:`read_plate_map`, :func:`analyze_plate` — plate files
* :data:`MODELS`, :func:`get_model`, :class:`Model` — model declarations
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kinresist._lazy import lazy_module_attrs

if TYPE_CHECKING:
    from kinresist.dose.compare import compare_groups
    from kinresist.dose.engine import FLAG_BITS, BatchFit, fit_batch
    from kinresist.dose.fit import fit_curves, read_dose_table, select_models
    from kinresist.dose.gr import gr_metrics, gr_values
    from kinresist.dose.metrics import ed
    from kinresist.dose.models import MODELS, Model, get_model
    from kinresist.dose.pipeline import analyze_plate
    from kinresist.dose.plates import read_plate, read_plate_map
    from kinresist.dose.standard import fit_standard, interpolate

_LAZY = {
    "compare_groups": "kinresist.dose.compare",
    "FLAG_BITS": "kinresist.dose.engine",
    "BatchFit": "kinresist.dose.engine",
    "fit_batch": "kinresist.dose.engine",
    "fit_curves": "kinresist.dose.fit",
    "read_dose_table": "kinresist.dose.fit",
    "select_models": "kinresist.dose.fit",
    "gr_metrics": "kinresist.dose.gr",
    "gr_values": "kinresist.dose.gr",
    "ed": "kinresist.dose.metrics",
    "MODELS": "kinresist.dose.models",
    "Model": "kinresist.dose.models",
    "get_model": "kinresist.dose.models",
    "analyze_plate": "kinresist.dose.pipeline",
    "read_plate": "kinresist.dose.plates",
    "read_plate_map": "kinresist.dose.plates",
    "fit_standard": "kinresist.dose.standard",
    "interpolate": "kinresist.dose.standard",
}
__getattr__, __dir__ = lazy_module_attrs(__name__, _LAZY)

__all__ = [
    "FLAG_BITS",
    "MODELS",
    "BatchFit",
    "Model",
    "analyze_plate",
    "compare_groups",
    "ed",
    "fit_batch",
    "fit_curves",
    "fit_standard",
    "get_model",
    "gr_metrics",
    "gr_values",
    "interpolate",
    "read_dose_table",
    "read_plate",
    "read_plate_map",
    "select_models",
]
