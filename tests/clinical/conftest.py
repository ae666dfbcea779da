"""Fixtures of the clinical tests: R's survival::lung (as shipped by lifelines) as arrays and CSV."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest


@pytest.fixture(scope="session")
def lung() -> pd.DataFrame:
    """R ``survival::lung`` (228 patients; lifelines recodes status 1/2 to 0/1)."""
    from lifelines.datasets import load_lung

    d = load_lung()
    assert len(d) == 228
    assert int(d["status"].sum()) == 165
    return d


@pytest.fixture
def lung_csv(lung: pd.DataFrame, tmp_path: Path) -> Path:
    path = tmp_path / "lung.csv"
    out = lung.copy()
    out.insert(0, "patient", [f"P{i:03d}" for i in range(len(out))])
    out.to_csv(path, index=False)
    return path
