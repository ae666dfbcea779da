"""Droplet digital PCR: QX100/QX200/QX600 exports to allele fractions with the lab's own limits.

Public API (library functions are the API; ``kinresist ddpcr`` is a thin adapter):

* readers: :func:`load_plate`, :func:`read_amplitude_csv`, :func:`read_results_csv`,
  :func:`read_qx_cluster_data`, :func:`read_assay_map`;
* gating: :func:`gate_plate`; analysis: :func:`analyze_plate` (plate, folder, zip or files),
  :func:`recompute_results`, :func:`analyze_clusters` - each returns a :class:`DdpcrResult`
  (a :class:`kinresist.core.Result`: tables, measurements, findings, warnings);
* QuantaSoft arithmetic: :func:`concentration`, :func:`poisson_ci`, :func:`ratio_fa`,
  :func:`merge_wells`, :func:`recompute_results`;
* limits and calls: :func:`lob_nonparametric`, :func:`lob_parametric`, :func:`lod_parametric`,
  :func:`adaptive_lob`, :func:`lod_copies`, :class:`CallSettings`, :func:`call_rows`;
* biology: :func:`parse_assay_name` (assay name or assay map -> canonical alteration key).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kinresist._lazy import lazy_module_attrs

# names are imported on first use, so that ``import kinresist.ddpcr.workflow`` stays cheap
if TYPE_CHECKING:
    from kinresist.ddpcr.analyze import analyze_clusters, analyze_plate
    from kinresist.ddpcr.assays import AssayTarget, parse_assay_name, read_assay_map
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
    from kinresist.ddpcr.recompute import recompute_results
    from kinresist.ddpcr.result import DdpcrResult

__all__ = [
    "DROPLET_VOLUME_UL",
    "AssayTarget",
    "CallSettings",
    "DdpcrResult",
    "Gating",
    "Plate",
    "ResultsTable",
    "WellDroplets",
    "adaptive_lob",
    "analyze_clusters",
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
    "read_assay_map",
    "read_qx_cluster_data",
    "read_results_csv",
    "recompute_results",
    "two_target_counts",
]

_LAZY = {
    "analyze_clusters": "kinresist.ddpcr.analyze",
    "analyze_plate": "kinresist.ddpcr.analyze",
    "AssayTarget": "kinresist.ddpcr.assays",
    "parse_assay_name": "kinresist.ddpcr.assays",
    "read_assay_map": "kinresist.ddpcr.assays",
    "CallSettings": "kinresist.ddpcr.calls",
    "call_rows": "kinresist.ddpcr.calls",
    "Gating": "kinresist.ddpcr.gating",
    "gate_plate": "kinresist.ddpcr.gating",
    "adaptive_lob": "kinresist.ddpcr.limits",
    "lob_nonparametric": "kinresist.ddpcr.limits",
    "lob_parametric": "kinresist.ddpcr.limits",
    "lod_copies": "kinresist.ddpcr.limits",
    "lod_parametric": "kinresist.ddpcr.limits",
    "Plate": "kinresist.ddpcr.plate",
    "WellDroplets": "kinresist.ddpcr.plate",
    "DROPLET_VOLUME_UL": "kinresist.ddpcr.poisson",
    "concentration": "kinresist.ddpcr.poisson",
    "poisson_ci": "kinresist.ddpcr.poisson",
    "merge_wells": "kinresist.ddpcr.quantify",
    "quantify_counts": "kinresist.ddpcr.quantify",
    "linkage": "kinresist.ddpcr.ratios",
    "ratio_fa": "kinresist.ddpcr.ratios",
    "load_plate": "kinresist.ddpcr.read_amplitude",
    "read_amplitude_csv": "kinresist.ddpcr.read_amplitude",
    "read_qx_cluster_data": "kinresist.ddpcr.read_qx600",
    "two_target_counts": "kinresist.ddpcr.read_qx600",
    "ResultsTable": "kinresist.ddpcr.read_results",
    "read_results_csv": "kinresist.ddpcr.read_results",
    "recompute_results": "kinresist.ddpcr.recompute",
    "DdpcrResult": "kinresist.ddpcr.result",
}


__getattr__, __dir__ = lazy_module_attrs(__name__, _LAZY)
