"""Monitoring: a patient's resistance over time, and the lab's resistant lines.

* :func:`read_manifest` / :func:`read_therapy` / :func:`import_study` - a study manifest (samples,
  collection times, assay files, plasma QC) and therapy lines, recorded in one transaction;
* :func:`plasma_qc` - tube rules, cfDNA haploid genome equivalents, theoretical LoD of a draw;
* :func:`build_timeline` - per alteration, every draw's value per assay (below LoD, never 0),
  therapy bands, KB interpretation per draw, alerts and the lab's IC50 fold shift;
* :func:`log_trend` - the rising-fraction test;
* :func:`record_lineage_event` / :func:`lineage_result` - dose-escalation histories of lines.

Library functions take an open :class:`~kinresist.store.api.Store` (or a transaction); the CLI
(``kinresist study import``, ``kinresist timeline``, ``kinresist lineage``) opens it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kinresist.monitoring.importer import StudyImport, analyse_manifest, import_study
    from kinresist.monitoring.lineage import lineage_result, record_lineage_event
    from kinresist.monitoring.manifest import Manifest, ManifestRow, read_manifest
    from kinresist.monitoring.plasma import PlasmaQC, plasma_qc
    from kinresist.monitoring.therapy import read_therapy
    from kinresist.monitoring.timeline import TimelineResult, build_timeline
    from kinresist.monitoring.trend import TrendTest, log_trend

__all__ = [
    "Manifest",
    "ManifestRow",
    "PlasmaQC",
    "StudyImport",
    "TimelineResult",
    "TrendTest",
    "analyse_manifest",
    "build_timeline",
    "import_study",
    "lineage_result",
    "log_trend",
    "plasma_qc",
    "read_manifest",
    "read_therapy",
    "record_lineage_event",
]

_WHERE = {
    "Manifest": "manifest",
    "ManifestRow": "manifest",
    "read_manifest": "manifest",
    "PlasmaQC": "plasma",
    "plasma_qc": "plasma",
    "StudyImport": "importer",
    "analyse_manifest": "importer",
    "import_study": "importer",
    "TimelineResult": "timeline",
    "build_timeline": "timeline",
    "TrendTest": "trend",
    "log_trend": "trend",
    "lineage_result": "lineage",
    "record_lineage_event": "lineage",
    "read_therapy": "therapy",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        msg = f"module 'kinresist.monitoring' has no attribute {name!r}"
        raise AttributeError(msg)
    import importlib

    return getattr(importlib.import_module(f"kinresist.monitoring.{module}"), name)
