"""Where the ../shared reference data is, for tests (importable as ``from sharedpaths import
shared_path``; a uniquely named module, because ``conftest`` is ambiguous across folders)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("KINRESIST_SHARED", REPO.parent / "shared"))


def shared_path(*parts: str) -> Path:
    """A path under ../shared; FAILS the calling test with a clear reason when absent.

    Reference tests must never pass by skipping: CI runs next to a copy of ../shared, and a
    missing folder is a broken setup, not a reason to stop checking numbers.
    """
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.fail(
            f"reference data {path} not found: these tests need the project's ../shared folder "
            "(set KINRESIST_SHARED to its location)"
        )
    return path
