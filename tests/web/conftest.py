"""Fixtures of the web tests: a real app (FastAPI TestClient) on a real store (SQLite and
PostgreSQL through the ``store_url`` fixture) with real accounts (helpers: web_helpers.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from web_helpers import WebEnv, add_accounts, make_settings

from kinresist.web.main import create_app


def _env(store_url: str, tmp_path: Path) -> Iterator[WebEnv]:
    settings = make_settings(store_url, tmp_path)
    app = create_app(settings)
    with TestClient(app) as client:
        store = app.state.kinresist.store
        yield WebEnv(client, store, settings, settings.data_dir or tmp_path, add_accounts(store))


@pytest.fixture
def web(store_url: str, tmp_path: Path) -> Iterator[WebEnv]:
    """The app on a fresh store (SQLite, then PostgreSQL) with four accounts: admin; ana
    (analyst) and vic (viewer) in Study A; bob (analyst) in Study B."""
    yield from _env(store_url, tmp_path)


@pytest.fixture
def plate_files(tmp_path: Path) -> tuple[Path, Path]:
    """The example 384-well plate and its map (kinresist.dose.examples)."""
    from kinresist.dose.examples import write_example_plate

    return write_example_plate(tmp_path / "plate")
