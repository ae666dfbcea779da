"""A fresh PostgreSQL database per test (or per module) next to ``$KINRESIST_TEST_PG_URL``
(``.ci/run`` starts the server); used by tests/conftest.py and the module-scoped web tests."""

from __future__ import annotations

from collections.abc import Callable


def fresh_pg_database(base_url: str) -> tuple[str, Callable[[], None]]:
    """Create a uniquely named database next to ``base_url``; return its URL and a dropper."""
    import uuid

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    url = make_url(base_url)
    name = f"kr_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return url.set(database=name).render_as_string(hide_password=False), drop
