"""Flask extensions, created unbound here and bound in ``create_app``."""

from __future__ import annotations

from flask import has_request_context, request
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData, event
from sqlalchemy.engine import Engine

# Named constraints let Alembic alter and drop them on every backend (SQLite batch mode needs names).
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}



db = SQLAlchemy(metadata=MetaData(naming_convention=NAMING_CONVENTION))
migrate = Migrate()
login_manager = LoginManager()
babel = Babel()
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address, default_limits=[])


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    """WAL lets readers proceed during a write; foreign keys are off by default in SQLite."""
    module = type(dbapi_connection).__module__
    if module.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()
        # Take over transaction control so that ``begin`` below can say IMMEDIATE.
        dbapi_connection.isolation_level = None


READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@event.listens_for(Engine, "begin")
def _sqlite_begin(conn) -> None:  # type: ignore[no-untyped-def]
    """Only transactions that may write take SQLite's write lock at BEGIN (``BEGIN IMMEDIATE``).

    A deferred transaction that reads and then writes can fail with SQLITE_BUSY at once (no busy wait)
    when another writer committed in between, so every write path (form posts, the API, jobs, the CLI)
    starts IMMEDIATE and writers queue on the lock. GET/HEAD requests never write, so they start a
    plain deferred transaction and read from WAL snapshots while a writer works: reads never wait.
    """
    if conn.dialect.name == "sqlite":
        read_only = has_request_context() and request.method in READ_ONLY_METHODS
        conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")
