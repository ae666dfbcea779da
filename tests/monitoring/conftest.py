"""Fixtures of the monitoring tests (the files themselves: monitoring_files.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from monitoring_files import write_vcf_study


@pytest.fixture
def vcf_study(tmp_path: Path) -> Path:
    """A 4-draw manifest (8 rows: a kinresist VCF and a findings table per draw) + therapy.csv."""
    return write_vcf_study(tmp_path)
