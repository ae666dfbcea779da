"""Frozen end-to-end outputs: every workflow's JSON equals its golden copy under the written
tolerance policy (tests/golden/README.md). A change here is a change of numbers or format:
regenerate with ``python tests/golden/regenerate.py CASE`` and say why in the commit."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cases import CASES, DATA, compare, strip


@pytest.mark.parametrize("name", sorted(CASES))
def test_golden(name: str, tmp_path: Path) -> None:
    from kinresist.core.serialise import to_json

    frozen = DATA / f"{name}.json"
    assert frozen.exists(), f"no golden file {frozen}; run python tests/golden/regenerate.py {name}"
    got = strip(json.loads(to_json(CASES[name](tmp_path))))
    want = json.loads(frozen.read_text())
    diffs = compare(got, want)
    assert diffs == [], "\n".join(diffs[:40])


def test_comparator_catches_changes() -> None:
    """The comparator itself fails on a changed number, call, key or length."""
    base = {"a": 1.0, "call": "sensitive", "rows": [1, 2], "n": 3}
    assert compare(base, base) == []
    assert compare({**base, "a": 1.0 + 1e-9}, base) == []
    assert compare({**base, "a": 1.001}, base)
    assert compare({**base, "call": "resistant"}, base)
    assert compare({**base, "rows": [1]}, base)
    assert compare({k: v for k, v in base.items() if k != "n"}, base)
