"""Droplet digital PCR: QX100/QX200/QX600 exports to allele fractions with the lab's own limits.

Public API (library functions are the API; ``kinresist ddpcr`` is a thin adapter):

* readers: :func:`load_plate`, :func:`read_amplitude_csv`, :func:`read_results_csv`,
  :func:`read_qx_cluster_data`;
* gating: :func:`gate_plate`; analysis: :func:`analyze_plate`;
* QuantaSoft arithmetic: :func:`concentration`, :func:`poisson_ci`, :func:`ratio_fa`,
  :func:`merge_wells`, :func:`recompute_results`;
* limits and calls: :func:`lob_nonparametric`, :func:`lob_parametric`, :func:`lod_parametric`,
  :func:`adaptive_lob`, :func:`lod_copies`, :class:`CallSettings`, :func:`call_rows`;
* biology: :func:`parse_assay_name`, :func:`to_findings`.
"""

from kinresist.ddpcr.analyze import PlateAnalysis, analyze_plate
from kinresist.ddpcr.assays import AssayTarget, parse_assay_name
from kinresist.ddpcr.calls import CallSettings, call_rows
from kinresist.ddpcr.gating import Gating, gate_plate
from kinresist.ddpcr.limits import (
    adaptive_lob,
    lob_nonparametric,
    lob_parametric,
    lod_copies,
    lod_parametric,
)
from kinresist.ddpcr.plate import Plate, WellDroplets
from kinresist.ddpcr.poisson import DROPLET_VOLUME_UL, concentration, poisson_ci
from kinresist.ddpcr.quantify import merge_wells, quantify_counts
from kinresist.ddpcr.ratios import linkage, ratio_fa
from kinresist.ddpcr.read_amplitude import load_plate, read_amplitude_csv
from kinresist.ddpcr.read_qx600 import read_qx_cluster_data, two_target_counts
from kinresist.ddpcr.read_results import ResultsTable, read_results_csv
from kinresist.ddpcr.recompute import Recomputed, recompute_results
from kinresist.ddpcr.record import to_findings

__all__ = [
    "DROPLET_VOLUME_UL",
    "AssayTarget",
    "CallSettings",
    "Gating",
    "Plate",
    "PlateAnalysis",
    "Recomputed",
    "ResultsTable",
    "WellDroplets",
    "adaptive_lob",
    "analyze_plate",
    "call_rows",
    "concentration",
    "gate_plate",
    "linkage",
    "load_plate",
    "lob_nonparametric",
    "lob_parametric",
    "lod_copies",
    "lod_parametric",
    "merge_wells",
    "parse_assay_name",
    "poisson_ci",
    "quantify_counts",
    "ratio_fa",
    "read_amplitude_csv",
    "read_qx_cluster_data",
    "read_results_csv",
    "recompute_results",
    "to_findings",
    "two_target_counts",
]
