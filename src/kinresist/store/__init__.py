"""Project store: studies, subjects, samples, therapy lines, findings, measurements, runs.

SQLite by default (a file in the user data directory, or ``--db``/``$KINRESIST_DB``);
PostgreSQL by URL for a shared lab server. The schema is managed by Alembic.
"""

from kinresist.store.api import Store, Transaction, open_store
from kinresist.store.engine import current_revision, default_db_path, resolve_url

__all__ = [
    "Store",
    "Transaction",
    "current_revision",
    "default_db_path",
    "open_store",
    "resolve_url",
]
