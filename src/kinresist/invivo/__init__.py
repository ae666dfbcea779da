"""In vivo tumour growth: readers, named TGI variants, per-animal metrics and mRECIST, the
SynergyLMM mixed model with in vivo synergy, and time to endpoint (spec invivo-clinical-tme §1).

Library entry points::

    data = read_growth("study.csv")                     # long, invivoSyn, TumGrowth, Xeva, imaging
    result = analyze_growth(data, control="Vehicle", combination="A+B=A,B", endpoint=1000)
    result.body["arms"]["A"]["tgi_delta"]               # {"estimate", "ci_low", "ci_high"}

Lower-level pieces: :func:`align` and :func:`per_animal` (RTV, AUC, slopes, mRECIST),
:func:`mrecist`, :func:`arm_tgi`, :func:`fit_lmm` / :func:`lmm_synergy`, :func:`event_times`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kinresist._lazy import lazy_module_attrs

if TYPE_CHECKING:
    from kinresist.invivo.analyze import analyze_growth
    from kinresist.invivo.data import FORMULAS, ZERO_RULES, GrowthData, caliper_volume, log_values
    from kinresist.invivo.endpoint import endpoint_analysis, event_times
    from kinresist.invivo.lmm import (
        Combination,
        LmmFit,
        adjust_pvalues,
        contrasts,
        fit_lmm,
        lmm_synergy,
        parse_combination,
        synergy_by_day,
    )
    from kinresist.invivo.metrics import MrecistResult, align, mrecist, per_animal
    from kinresist.invivo.readers import (
        read_growth,
        read_imaging,
        read_invivosyn,
        read_long,
        read_tumgrowth,
        read_xeva,
    )
    from kinresist.invivo.tgi import TGI_VARIANTS, ArmSample, arm_tgi, nci_activity

_LAZY = {
    "analyze_growth": "kinresist.invivo.analyze",
    "FORMULAS": "kinresist.invivo.data",
    "ZERO_RULES": "kinresist.invivo.data",
    "GrowthData": "kinresist.invivo.data",
    "caliper_volume": "kinresist.invivo.data",
    "log_values": "kinresist.invivo.data",
    "endpoint_analysis": "kinresist.invivo.endpoint",
    "event_times": "kinresist.invivo.endpoint",
    "Combination": "kinresist.invivo.lmm",
    "LmmFit": "kinresist.invivo.lmm",
    "adjust_pvalues": "kinresist.invivo.lmm",
    "contrasts": "kinresist.invivo.lmm",
    "fit_lmm": "kinresist.invivo.lmm",
    "lmm_synergy": "kinresist.invivo.lmm",
    "parse_combination": "kinresist.invivo.lmm",
    "synergy_by_day": "kinresist.invivo.lmm",
    "MrecistResult": "kinresist.invivo.metrics",
    "align": "kinresist.invivo.metrics",
    "mrecist": "kinresist.invivo.metrics",
    "per_animal": "kinresist.invivo.metrics",
    "read_growth": "kinresist.invivo.readers",
    "read_imaging": "kinresist.invivo.readers",
    "read_invivosyn": "kinresist.invivo.readers",
    "read_long": "kinresist.invivo.readers",
    "read_tumgrowth": "kinresist.invivo.readers",
    "read_xeva": "kinresist.invivo.readers",
    "TGI_VARIANTS": "kinresist.invivo.tgi",
    "ArmSample": "kinresist.invivo.tgi",
    "arm_tgi": "kinresist.invivo.tgi",
    "nci_activity": "kinresist.invivo.tgi",
}
__getattr__, __dir__ = lazy_module_attrs(__name__, _LAZY)

__all__ = [
    "FORMULAS",
    "TGI_VARIANTS",
    "ZERO_RULES",
    "ArmSample",
    "Combination",
    "GrowthData",
    "LmmFit",
    "MrecistResult",
    "adjust_pvalues",
    "align",
    "analyze_growth",
    "arm_tgi",
    "caliper_volume",
    "contrasts",
    "endpoint_analysis",
    "event_times",
    "fit_lmm",
    "lmm_synergy",
    "log_values",
    "mrecist",
    "nci_activity",
    "parse_combination",
    "per_animal",
    "read_growth",
    "read_imaging",
    "read_invivosyn",
    "read_long",
    "read_tumgrowth",
    "read_xeva",
    "synergy_by_day",
]
