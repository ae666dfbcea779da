"""The CLI's contract for refused input, as the issue-18 regression tests assert it."""

from __future__ import annotations

from typing import Any


def one_line(res: Any, *names: str) -> str:
    """Exit 2, exactly one stderr line, no traceback, naming each of ``names``; the line."""
    assert res.exit_code == 2, (res.exit_code, res.stdout, res.stderr)
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, res.stderr
    assert "Traceback" not in res.stderr
    for name in names:
        assert name in lines[0], lines[0]
    return lines[0]
