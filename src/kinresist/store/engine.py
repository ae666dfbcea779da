"""Opening a project store: URL resolution, engine set-up, Alembic migrations."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError

from kinresist.errors import StoreError

__all__ = ["default_db_path", "make_engine", "migrate", "resolve_url"]

_MIGRATIONS = Path(__file__).with_name("migrations")


def default_db_path() -> Path:
    """``<user data dir>/kinresist/kinresist.sqlite`` (platformdirs)."""
    from platformdirs import user_data_dir

    return Path(user_data_dir("kinresist", appauthor=False)) / "kinresist.sqlite"


def resolve_url(db: str | os.PathLike[str] | None) -> str:
    """An SQLAlchemy URL from ``--db``: a URL, a SQLite file path, or None for the default."""
    if db is None:
        db = os.environ.get("KINRESIST_DB") or default_db_path()
    text = str(db)
    if "://" in text:
        try:
            url = make_url(text)
        except ArgumentError as exc:
            msg = f"cannot parse database URL {text!r}: {exc}; expected e.g. postgresql+psycopg://user@host/db"
            raise StoreError(msg) from exc
        if url.drivername in ("postgresql", "postgres"):
            url = url.set(drivername="postgresql+psycopg")
        return url.render_as_string(hide_password=False)
    path = Path(text).expanduser().resolve()
    if path.is_dir():
        msg = f"--db {text!r} is a directory; give a file path such as {path / 'kinresist.sqlite'}"
        raise StoreError(msg)
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}"


def _sqlite_connect(foreign_keys: bool):  # type: ignore[no-untyped-def]
    def on_connect(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        # pysqlite's own transaction handling would COMMIT on a SAVEPOINT release; kinresist
        # lets SQLAlchemy emit BEGIN itself (the SQLAlchemy-documented recipe), so savepoints
        # and rollbacks are real
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}")
        cursor.execute("PRAGMA busy_timeout=1000")  # kinresist waits itself (Store.write)
        cursor.close()

    return on_connect


def _sqlite_begin(connection) -> None:  # type: ignore[no-untyped-def]
    connection.exec_driver_sql("BEGIN")


def make_engine(url: str, *, foreign_keys: bool = True) -> Engine:
    """Create the engine (SQLite: foreign keys on, busy timeout, real transactions)."""
    try:
        engine = create_engine(url, future=True, pool_pre_ping=True)
    except (ArgumentError, ModuleNotFoundError) as exc:
        msg = f"cannot open store {url!r}: {exc}"
        if isinstance(exc, ModuleNotFoundError):
            msg += "; install the PostgreSQL driver with `pip install 'kinresist[postgres]'`"
        raise StoreError(msg) from exc
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_connect(foreign_keys))
        event.listen(engine, "begin", _sqlite_begin)
    return engine


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision`` with Alembic (idempotent)."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    try:
        if engine.dialect.name == "sqlite":
            # SQLite rebuilds tables to alter them (batch mode); with foreign keys on, dropping
            # the old table would cascade-delete every child row. The migration runs on its own
            # connection with keys off, and the references are checked afterwards.
            plain = make_engine(
                engine.url.render_as_string(hide_password=False), foreign_keys=False
            )
            try:
                with plain.begin() as connection:
                    cfg.attributes["connection"] = connection
                    command.upgrade(cfg, revision)
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        msg = (
                            f"store migration left {len(broken)} rows with broken references: "
                            f"{broken[:5]}; nothing was changed"
                        )
                        raise StoreError(msg)
            finally:
                plain.dispose()
        else:
            with engine.begin() as connection:
                cfg.attributes["connection"] = connection
                command.upgrade(cfg, revision)
    except OperationalError as exc:
        msg = f"cannot reach or migrate the store at {engine.url.render_as_string(hide_password=True)}: {exc.orig}"
        raise StoreError(msg) from exc
    except SQLAlchemyError as exc:
        msg = f"store migration failed: {exc}"
        raise StoreError(msg) from exc


def current_revision(engine: Engine) -> str | None:
    """The Alembic revision the store is at (None for an empty database)."""
    if "alembic_version" not in inspect(engine).get_table_names():
        return None
    with engine.connect() as conn:
        row = conn.exec_driver_sql("SELECT version_num FROM alembic_version").first()
    return None if row is None else str(row[0])
