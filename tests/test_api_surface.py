"""The public surface is curated: a change to it is deliberate (httpx test_exported_members)."""

from __future__ import annotations

import subprocess
import sys

import kinresist

EXPECTED = [
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


def test_all_is_sorted_and_pinned() -> None:
    assert kinresist.__all__ == sorted(kinresist.__all__)
    assert kinresist.__all__ == EXPECTED


def test_every_public_name_resolves() -> None:
    for name in kinresist.__all__:
        assert getattr(kinresist, name) is not None, name


def test_import_is_cheap() -> None:
    """``import kinresist`` does not pull in the heavy scientific stack."""
    code = (
        "import sys, kinresist; "
        "heavy = [m for m in ('pandas', 'scipy', 'pysam', 'sqlalchemy', 'matplotlib', 'numba') if m in sys.modules]; "
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_error_hierarchy() -> None:
    assert issubclass(kinresist.InputError, ValueError)
    assert issubclass(kinresist.ConvergenceError, kinresist.FitError)
    for name in ("InputError", "FitError", "KnowledgeBaseError", "StoreError", "ExternalToolError"):
        assert issubclass(getattr(kinresist, name), kinresist.KinresistError)
