"""The README opens with the two commands, and .ci/run calls the README's test command."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _commands() -> list[str]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    block = text.split("```bash", 1)[1].split("```", 1)[0]
    return [ln for ln in block.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]


def test_readme_starts_with_demo_and_test_commands() -> None:
    first = (REPO / "README.md").read_text(encoding="utf-8").lstrip().splitlines()
    assert first[0].startswith("# kinresist")
    demo, tests = _commands()[:2]
    assert "kinresist demo" in demo
    assert "pytest" in tests


def test_ci_runs_the_readme_test_command_verbatim() -> None:
    tests = _commands()[1]
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert tests in ci.splitlines()
