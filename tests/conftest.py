"""Test fixtures. One app per session; every test starts from empty tables.

``TEST_DATABASE_URL`` reruns the whole suite on PostgreSQL (``.ci/run`` does both).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import Flask, g
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from market.app import create_app
from market.extensions import db as _db

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")


@contextmanager
def scratch_postgres_database(suffix: str) -> Iterator[str]:
    """A new, empty PostgreSQL database beside TEST_DATABASE_URL's (for migrations and real processes)."""
    url = make_url(TEST_DATABASE_URL.replace("postgresql://", "postgresql+psycopg://", 1))
    name = f"{url.database}_{suffix}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def is_postgres() -> bool:
    return TEST_DATABASE_URL.startswith(("postgres", "postgresql"))


def app_config(tmp: Path, **extra: object) -> dict[str, object]:
    """The configuration every test app uses; pass overrides for special cases."""
    config: dict[str, object] = {
        "TESTING": True,
        "MODE": "test",
        "INSTANCE_PATH": str(tmp),
        "SECRET_KEY": "test-secret-key",
        "SQLALCHEMY_DATABASE_URI": TEST_DATABASE_URL or f"sqlite:///{tmp / 'test.db'}",
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "MAIL_BACKEND": "memory",
        "SERVER_NAME": "localhost",
        "PAYMENT_PROVIDERS": "sandbox,bank_transfer,stripe",
        "STRIPE_API_KEY": "sk_test_double",
        "STRIPE_WEBHOOK_SECRETS": ["whsec_test_double"],
        "PUBLIC_BASE_URL": "http://localhost",
    }
    config.update(extra)
    return config


@pytest.fixture(scope="session")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    application = create_app(app_config(tmp_path_factory.mktemp("instance")))

    @application.before_request
    def _fresh_request_globals() -> None:
        # Each test holds one app context around many requests, so ``g`` would carry the signed-in user,
        # the locale and the acting company from one request (or client) to the next: start clean.
        for name in list(vars(g)):
            delattr(g, name)

    with application.app_context():
        _db.drop_all()
        _db.create_all()
    return application


def _empty_all_tables() -> None:
    tables = [t.name for t in reversed(_db.metadata.sorted_tables)]
    if _db.engine.dialect.name == "postgresql":
        quoted = ", ".join(f'"{name}"' for name in tables)
        _db.session.execute(text(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE"))
    else:
        for name in tables:
            _db.session.execute(text(f'DELETE FROM "{name}"'))  # noqa: S608 (our own table names)
    _db.session.commit()


def _empty_search_index(app: Flask) -> None:
    """The Whoosh index is derived data: emptied with the tables (PostgreSQL's lives in them)."""
    index = app.extensions.get("catalog_search", {}).get("index")
    if index is not None and index.name == "whoosh" and index.doc_count():
        index.replace_all([])


@pytest.fixture(autouse=True)
def _clean_database(app: Flask) -> Iterator[None]:
    """Each test runs in an app context on empty tables."""
    with app.app_context():
        yield
        _db.session.rollback()
        _db.session.remove()
        _empty_all_tables()
        _empty_search_index(app)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def db(app: Flask):  # type: ignore[no-untyped-def]
    return _db
