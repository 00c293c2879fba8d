"""The Alembic migrations build the same schema as the models, on SQLite and on PostgreSQL."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from market.app import create_app
from market.config import PROJECT_ROOT
from market.extensions import db
from tests.conftest import TEST_DATABASE_URL, app_config, scratch_postgres_database


@pytest.fixture
def fresh_database_url(tmp_path):
    if not TEST_DATABASE_URL:
        yield f"sqlite:///{tmp_path / 'migrated.db'}"
        return
    with scratch_postgres_database("migr") as url:
        yield url


def test_upgrade_from_empty_matches_the_models(tmp_path, fresh_database_url):
    app = create_app(app_config(tmp_path, SQLALCHEMY_DATABASE_URI=fresh_database_url))
    with app.app_context():
        upgrade(directory=str(PROJECT_ROOT / "migrations"))
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
        assert diff == [], f"models and migrations differ; run `jinshang db migrate`: {diff}"
        downgrade(directory=str(PROJECT_ROOT / "migrations"), revision="base")
        db.engine.dispose()
