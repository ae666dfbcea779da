"""Flow cytometry: FCS + Gating-ML 2.0 / FlowJo 10 workspace -> populations, % of CD45⁺, counts.

Public API (library first; ``kinresist flow gate`` is generated from :mod:`kinresist.flow.workflow`):

* :func:`read_fcs`, :func:`read_gating`, :func:`read_compensation` - inputs (FlowKit/flowio)
* :func:`gate_samples` - every gate, every sample: count, % of parent, % of total
* :func:`named_populations` - CD45⁺, CD8⁺ T cells, neutrophils, beads; % CD45⁺, cells/µL, log2 ratio
* :func:`gate_flow` / :func:`analyze_flow_files` - the whole workflow as a
  :class:`kinresist.core.Result`
* :data:`FLOWJO_BINNING_CAVEAT` - why FlowJo polygon counts differ slightly from exact counts
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kinresist._lazy import lazy_module_attrs

if TYPE_CHECKING:
    from kinresist.flow.analyze import analyze_flow_files, gate_flow
    from kinresist.flow.gating import FLOWJO_BINNING_CAVEAT, FlowGating, SampleGating, gate_samples
    from kinresist.flow.populations import DEFINITIONS, SampleSheet, gate_markers, named_populations
    from kinresist.flow.readers import GatingSource, read_compensation, read_fcs, read_gating

_LAZY = {
    "analyze_flow_files": "kinresist.flow.analyze",
    "gate_flow": "kinresist.flow.analyze",
    "FLOWJO_BINNING_CAVEAT": "kinresist.flow.gating",
    "FlowGating": "kinresist.flow.gating",
    "SampleGating": "kinresist.flow.gating",
    "gate_samples": "kinresist.flow.gating",
    "DEFINITIONS": "kinresist.flow.populations",
    "SampleSheet": "kinresist.flow.populations",
    "gate_markers": "kinresist.flow.populations",
    "named_populations": "kinresist.flow.populations",
    "GatingSource": "kinresist.flow.readers",
    "read_compensation": "kinresist.flow.readers",
    "read_fcs": "kinresist.flow.readers",
    "read_gating": "kinresist.flow.readers",
}
__getattr__, __dir__ = lazy_module_attrs(__name__, _LAZY)

__all__ = [
    "DEFINITIONS",
    "FLOWJO_BINNING_CAVEAT",
    "FlowGating",
    "GatingSource",
    "SampleGating",
    "SampleSheet",
    "analyze_flow_files",
    "gate_flow",
    "gate_markers",
    "gate_samples",
    "named_populations",
    "read_compensation",
    "read_fcs",
    "read_gating",
]
