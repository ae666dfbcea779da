"""Chemokine ELISA (CXCL9/10/1/2...): 4PL/5PL standard curves on the dose engine, back-calculation.

Public API (``kinresist elisa quantify`` is generated from :mod:`kinresist.elisa.workflow`):

* :func:`read_elisa` - long table or plate grid + layout -> :class:`ElisaData`
* :func:`quantify` - blank, curve (kinresist.dose), QC, LLOQ/ULOQ, unknowns x dilution with CIs
* :func:`elisa_result` / :func:`analyze_elisa_file` - the workflow as a :class:`kinresist.core.Result`
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kinresist._lazy import lazy_module_attrs

if TYPE_CHECKING:
    from kinresist.elisa.analyze import analyze_elisa_file, elisa_result
    from kinresist.elisa.curves import AnalyteCurve, ElisaAnalysis, quantify
    from kinresist.elisa.readers import ElisaData, parse_standards, read_elisa

_LAZY = {
    "analyze_elisa_file": "kinresist.elisa.analyze",
    "elisa_result": "kinresist.elisa.analyze",
    "AnalyteCurve": "kinresist.elisa.curves",
    "ElisaAnalysis": "kinresist.elisa.curves",
    "quantify": "kinresist.elisa.curves",
    "ElisaData": "kinresist.elisa.readers",
    "parse_standards": "kinresist.elisa.readers",
    "read_elisa": "kinresist.elisa.readers",
}
__getattr__, __dir__ = lazy_module_attrs(__name__, _LAZY)

__all__ = [
    "AnalyteCurve",
    "ElisaAnalysis",
    "ElisaData",
    "analyze_elisa_file",
    "elisa_result",
    "parse_standards",
    "quantify",
    "read_elisa",
]
