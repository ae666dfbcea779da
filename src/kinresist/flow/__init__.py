"""Flow cytometry: FCS + Gating-ML 2.0 / FlowJo 10 workspace -> populations, % of CD45⁺, counts.

Public API (library first; ``kinresist flow gate`` is generated from :mod:`kinresist.flow.workflow`):

* :func:`read_fcs`, :func:`read_gating`, :func:`read_compensation` - inputs (FlowKit/flowio)
* :func:`gate_samples` - every gate, every sample: count, % of parent, % of total
* :func:`named_populations` - CD45⁺, CD8⁺ T cells, neutrophils, beads; % CD45⁺, cells/µL, log2 ratio
* :func:`gate_flow` / :func:`analyze_flow_files` - the whole workflow as a
  :class:`kinresist.core.Result`
* :data:`FLOWJO_BINNING_CAVEAT` - why FlowJo polygon counts differ slightly from exact counts
"""

from kinresist.flow.analyze import analyze_flow_files, gate_flow
from kinresist.flow.gating import FLOWJO_BINNING_CAVEAT, FlowGating, SampleGating, gate_samples
from kinresist.flow.populations import DEFINITIONS, SampleSheet, gate_markers, named_populations
from kinresist.flow.readers import GatingSource, read_compensation, read_fcs, read_gating

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
