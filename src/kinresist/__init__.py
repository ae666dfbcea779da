"""kinresist: resistance to targeted kinase inhibitors, from instrument files to referenced answers.

The workflows live in subpackages, each with its own public API:

* :mod:`kinresist.kb` - the curated, versioned knowledge base (``load_kb``)
* :mod:`kinresist.interpret` - findings in, referenced per-drug interpretation out
* :mod:`kinresist.dose` - dose-response fitting in batch, fold shift, GR metrics
* :mod:`kinresist.synergy` - Bliss, HSA, Loewe, ZIP and combination index
* :mod:`kinresist.ddpcr` - droplet exports to allele fractions with detection limits
* :mod:`kinresist.ngs` - UMI-aware low-frequency variant calling and copy number
* :mod:`kinresist.store` - the project store (SQLite or PostgreSQL)

Every workflow's library entry point returns a :class:`kinresist.Result` (the core contract of
:mod:`kinresist.core`); :func:`kinresist.run` runs any registered workflow by name
(``kinresist.run("dose.plate", plate=..., plate_map=...)``; :func:`kinresist.workflows` lists
them). The names below are imported lazily so that ``import kinresist`` stays cheap. Research
use only.
"""

from __future__ import annotations

import importlib
from typing import Any

from kinresist._version import __version__
from kinresist.errors import (
    ConvergenceError,
    ExternalToolError,
    FitError,
    InputError,
    KinresistError,
    KinresistWarning,
    KnowledgeBaseError,
    NonIdentifiableError,
    StoreError,
)

__all__ = [
    "AlterationKey",
    "ConvergenceError",
    "ExternalToolError",
    "Finding",
    "FitError",
    "InputError",
    "KinresistError",
    "KinresistWarning",
    "KnowledgeBaseError",
    "Measurement",
    "NonIdentifiableError",
    "Result",
    "StoreError",
    "__version__",
    "alteration_key",
    "analyze_plate",
    "call_variants",
    "fit_batch",
    "interpret_findings",
    "load_kb",
    "open_store",
    "record",
    "run",
    "score_blocks",
    "workflows",
]

_LAZY = {
    "AlterationKey": "kinresist.core",
    "Measurement": "kinresist.core",
    "Result": "kinresist.core",
    "alteration_key": "kinresist.core",
    "record": "kinresist.core",
    "run": "kinresist.core",
    "workflows": "kinresist.core",
    "Finding": "kinresist.interpret",
    "interpret_findings": "kinresist.interpret",
    "load_kb": "kinresist.kb",
    "fit_batch": "kinresist.dose",
    "score_blocks": "kinresist.synergy",
    "analyze_plate": "kinresist.ddpcr",
    "call_variants": "kinresist.ngs",
    "open_store": "kinresist.store",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    msg = f"module 'kinresist' has no attribute {name!r}"
    raise AttributeError(msg)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
