"""CLI start-up: ``main`` builds only the command group it runs, with the same commands as the
full app, and tunes the garbage collector and pyarrow's memory pool for the run only (issue 19:
the fixed start-up of ``kinresist dose fit`` weighs on screen-scale runs)."""

from __future__ import annotations

import ast
import gc
import subprocess
import sys
from pathlib import Path

import pytest
import typer

from kinresist.cli import main as cli
from kinresist.core import batchrun


def _commands(app: typer.Typer) -> dict[str, set[str]]:
    """Group (or top-level command) name -> its command names."""
    command = typer.main.get_command(app)
    out: dict[str, set[str]] = {}
    for name, sub in command.commands.items():  # type: ignore[attr-defined]
        out[name] = set(getattr(sub, "commands", {}) or {})
    return out


def _dose_fit_args(tmp_path: Path, out_name: str) -> tuple[list[str], Path]:
    """``dose fit`` arguments for a table of three clean 9-point curves (c0, c1, c2) written
    under ``tmp_path``; the results go to ``tmp_path / out_name``."""
    rows = ["curve,dose,response"]
    for c in range(3):
        for i, d in enumerate((0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0)):
            noise = 0.01 * ((i * 7 + c) % 3 - 1)
            rows.append(f"c{c},{d},{0.1 + 0.9 / (1 + d / (0.5 + c)) + noise}")
    table = tmp_path / "t.csv"
    table.write_text("\n".join(rows) + "\n")
    out = tmp_path / out_name
    args = ["dose", "fit", "--input", str(table), "--dose-col", "dose", "--response-col",
            "response", "--group-col", "curve", "--out", str(out), "--quiet"]  # fmt: skip
    return args, out


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
    assert seen == [batchrun.GC_THRESHOLD, before]  # the server keeps Python's defaults
    assert gc.get_threshold() == before


def test_an_exiting_run_freezes_what_is_alive_before_restoring_the_thresholds(
    monkeypatch,
) -> None:
    """Only when the process ends with the command (the console script) are the survivors
    frozen, and before Python's thresholds come back (they would trigger a collection)."""
    frozen: list[tuple[int, ...]] = []
    monkeypatch.setattr(gc, "freeze", lambda: frozen.append(gc.get_threshold()))
    before = gc.get_threshold()
    with batchrun.batch_run("dose"):
        pass
    assert frozen == []  # a library or in-process run freezes nothing
    with batchrun.batch_run("dose", exiting=True):
        pass
    assert frozen == [batchrun.GC_THRESHOLD]
    assert gc.get_threshold() == before


def test_console_script_runs_main_as_the_whole_process(monkeypatch) -> None:
    import tomllib
    from importlib.metadata import entry_points

    root = Path(__file__).resolve().parents[2]
    scripts = tomllib.loads((root / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["kinresist"] == "kinresist.cli.main:run"
    (installed,) = entry_points(group="console_scripts", name="kinresist")
    assert installed.value == "kinresist.cli.main:run"  # the install is current

    seen: list[bool] = []
    monkeypatch.setattr(cli, "_main", lambda argv: 2)
    monkeypatch.setattr(gc, "freeze", lambda: seen.append(batchrun.active()))
    monkeypatch.setattr(sys, "argv", ["kinresist", "dose", "fit"])
    with pytest.raises(SystemExit) as exit_:
        cli.run()
    assert exit_.value.code == 2
    assert seen == [False]  # frozen once, as the batch run ended


def test_console_script_process_writes_everything_and_runs_exit_handlers(tmp_path) -> None:
    """The frozen exit skips collections only: the results are complete, stdout is flushed,
    exit handlers run (and see the freeze)."""
    args, out = _dose_fit_args(tmp_path, "fits.tsv")
    code = (
        "import atexit, gc, sys; from kinresist.cli.main import run; "
        "atexit.register(lambda: print('frozen at exit:', gc.get_freeze_count() > 0)); "
        f"sys.argv = ['kinresist', *{args!r}]; run()"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().endswith("frozen at exit: True")
    lines = [ln for ln in out.read_text().splitlines() if ln and not ln.startswith("#")]
    assert len(lines) == 1 + 3  # header and one row per curve
    assert [ln.split("\t")[0] for ln in lines] == ["group", "c0", "c1", "c2"]
    assert "did not fit" not in out.read_text()


def test_arrow_pool_is_jemalloc_during_a_batch_run_only() -> None:
    """The streaming commands switch pyarrow to jemalloc in a batch run (where pyarrow has it)
    and the previous pool comes back after; as a library, or in the server, nothing changes."""
    import pyarrow as pa

    before = pa.default_memory_pool().backend_name
    batchrun.arrow_pool()  # not in a batch run: a library call changes nothing
    assert pa.default_memory_pool().backend_name == before
    has_jemalloc = batchrun.jemalloc_pool() is not None
    with batchrun.batch_run("dose"):
        assert batchrun.active()
        batchrun.arrow_pool()
        batchrun.arrow_pool()  # idempotent
        inside = pa.default_memory_pool().backend_name
        table = pa.table({"a": list(range(1000))})  # allocated from the run's pool
    assert inside == ("jemalloc" if has_jemalloc else before)
    assert not batchrun.active()
    assert pa.default_memory_pool().backend_name == before
    assert table.column("a")[999].as_py() == 999  # buffers outlive the run
    with batchrun.batch_run("serve"):
        batchrun.arrow_pool()
        assert pa.default_memory_pool().backend_name == before
        assert not batchrun.active()


def test_dose_fit_stream_runs_with_jemalloc(tmp_path, monkeypatch) -> None:
    """``kinresist dose fit`` on a table streams with the batch pool (spied at the writer)."""
    import pyarrow as pa

    from kinresist.dose import stream

    seen: list[str] = []
    orig = stream._Writer.write

    def write(self, table):  # type: ignore[no-untyped-def]
        seen.append(pa.default_memory_pool().backend_name)
        return orig(self, table)

    monkeypatch.setattr(stream._Writer, "write", write)
    args, _ = _dose_fit_args(tmp_path, "fits.parquet")
    monkeypatch.setattr("kinresist.dose.workflow.STREAM_MIN_ROWS", 1)  # stream this table
    before = pa.default_memory_pool().backend_name
    assert cli.main(args) == 0
    assert pa.default_memory_pool().backend_name == before
    expected = "jemalloc" if batchrun.jemalloc_pool() is not None else before
    assert seen
    assert set(seen) == {expected}


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
