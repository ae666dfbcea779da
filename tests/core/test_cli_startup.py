"""CLI start-up: ``main`` builds only the command group it runs, with the same commands as the
full app, and tunes the garbage collector for the run only (issue 19: the fixed start-up of
``kinresist dose fit`` weighs on screen-scale runs)."""

from __future__ import annotations

import ast
import gc
import subprocess
import sys

import pytest
import typer

from kinresist.cli import main as cli


def _commands(app: typer.Typer) -> dict[str, set[str]]:
    """Group (or top-level command) name -> its command names."""
    command = typer.main.get_command(app)
    out: dict[str, set[str]] = {}
    for name, sub in command.commands.items():  # type: ignore[attr-defined]
        out[name] = set(getattr(sub, "commands", {}) or {})
    return out


def test_one_group_app_has_that_group_only_with_the_same_commands() -> None:
    full = _commands(cli.build_app())
    for name in ("dose", "kb", "timeline", "interpret", "store"):
        one = _commands(cli.build_app(name))
        assert set(one) == {name}
        assert one[name] == full[name]
    assert {"dose", "synergy", "kb", "serve", "demo", "timeline"} <= set(full)


def test_unknown_or_missing_group_gets_the_full_app() -> None:
    assert cli.build_app("no-such-group") is cli.build_app()
    assert cli.build_app(None) is cli.build_app()
    assert cli._invoked(["--debug", "dose", "fit"]) == "dose"
    assert cli._invoked(["--version"]) is None


def test_unknown_command_is_a_usage_error_listing_the_groups(capsys) -> None:
    assert cli.main(["no-such-group"]) == 2
    err = capsys.readouterr().err
    assert "No such command" in err
    assert "no-such-group" in err


def test_gc_threshold_is_tuned_for_the_run_and_restored(monkeypatch) -> None:
    seen: list[tuple[int, ...]] = []

    def spy(argv):  # type: ignore[no-untyped-def]
        seen.append(gc.get_threshold())
        return 0

    monkeypatch.setattr(cli, "_main", spy)
    before = gc.get_threshold()
    assert cli.main(["dose", "fit", "--help"]) == 0
    assert cli.main(["serve", "--help"]) == 0
    assert seen == [cli.GC_THRESHOLD, before]  # the server keeps Python's defaults
    assert gc.get_threshold() == before


@pytest.mark.parametrize("group", ["dose", "kb"])
def test_a_group_run_imports_no_other_group(group: str) -> None:
    """``kinresist dose --help`` does not import the other hand-written command modules."""
    code = (
        f"import sys; from kinresist.cli.main import main; main([{group!r}, '--help']); "
        "print(sorted(m for m in sys.modules if m.startswith('kinresist.cli.')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.splitlines()[-1]
    loaded = set(ast.literal_eval(out))
    others = {f"kinresist.cli.{m}" for m in ("kb", "store", "study", "lineage", "users", "serve")}
    assert loaded & others == ({f"kinresist.cli.{group}"} & others)
