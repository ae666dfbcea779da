"""The shared core of every workflow: result contract, alteration key, store writer, registry.

* :class:`Result` (+ :class:`Measurement`, :class:`Figure`, :class:`Provenance`): what every
  workflow's library entry point returns; one serialiser writes it as JSON, TSV or Parquet.
* :func:`alteration_key` / :class:`AlterationKey`: one canonical name per alteration.
* :func:`record`: the one store writer (one transaction per result).
* :class:`Workflow` / :class:`Param` / :class:`InputSpec`: declarations the CLI and the web app
  are generated from (:func:`workflows`).
"""

from __future__ import annotations

from kinresist.core.alteration import AlterationKey, alteration_key, normalise_gene, parse_target
from kinresist.core.record import RecordSummary, SampleInfo, record
from kinresist.core.registry import (
    InputSpec,
    Param,
    Workflow,
    get_workflow,
    group_help,
    run,
    workflows,
)
from kinresist.core.result import CALLS, Figure, Measurement, Provenance, Result

__all__ = [
    "CALLS",
    "AlterationKey",
    "Figure",
    "InputSpec",
    "Measurement",
    "Param",
    "Provenance",
    "RecordSummary",
    "Result",
    "SampleInfo",
    "Workflow",
    "alteration_key",
    "get_workflow",
    "group_help",
    "normalise_gene",
    "parse_target",
    "record",
    "run",
    "workflows",
]
