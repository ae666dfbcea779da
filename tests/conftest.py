"""Shared fixtures: the ../shared reference data, CLI runner, project stores."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from pgdatabase import fresh_pg_database
from sharedpaths import shared_path


@pytest.fixture(autouse=True)
def _isolated_user_dirs(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Keep tests away from the user's own KB overlays and project store."""
    home = tmp_path_factory.mktemp("kinresist-user")
    monkeypatch.setenv("KINRESIST_KB_DIR", str(home / "kb"))
    monkeypatch.delenv("KINRESIST_DB", raising=False)


@pytest.fixture
def shared() -> Callable[..., Path]:
    """``shared("ddpcr-data", "twoddpcr")`` -> path, or skip when ../shared is absent."""
    return shared_path


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Callable[[Sequence[str]], CliResult]:
    """Run ``kinresist ARGS`` in-process and capture exit code, stdout and stderr."""
    from kinresist.cli.main import main

    def run(args: Sequence[str]) -> CliResult:
        capsys.readouterr()
        code = main([str(a) for a in args])
        out, err = capsys.readouterr()
        return CliResult(code, out, err)

    return run


# -- project stores -----------------------------------------------------------------
PG_URL_ENV = "KINRESIST_TEST_PG_URL"


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> object:
    """A fresh, empty project store: a SQLite file, and a PostgreSQL database when
    ``$KINRESIST_TEST_PG_URL`` names a server (``.ci/run`` starts one)."""
    if request.param == "sqlite":
        yield str(tmp_path / "store.sqlite")
        return
    base = os.environ.get(PG_URL_ENV)
    if not base:
        pytest.skip(f"PostgreSQL store tests need ${PG_URL_ENV} (.ci/run starts a server)")
    url, drop = fresh_pg_database(base)
    try:
        yield url
    finally:
        drop()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> object:
    """In CI (``CI`` set, as .ci/run runs) a skipped test is a failed test: the reference data,
    the PostgreSQL server and the external tools are all there, so nothing may pass by skipping."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if os.environ.get("CI") and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, where every test must run: {report.longrepr}"
    return None
