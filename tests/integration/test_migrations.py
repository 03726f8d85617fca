"""One Alembic tree for SQLite and PostgreSQL: up, down, up again, and no drift from the models."""

import pytest
from sqlalchemy import inspect

from detector.db import migrate
from detector.db.registry import metadata
from detector.db.session import make_engine


def tables(url):
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'm.db'}"
    return request.getfixturevalue("pg_empty_url")


def test_upgrade_downgrade_upgrade_and_check(empty_url):
    migrate.upgrade(empty_url)
    assert tables(empty_url) == set(metadata.tables)
    migrate.check(empty_url)  # raises on drift between models and migrations
    migrate.downgrade(empty_url, "base")
    assert tables(empty_url) == set()
    assert migrate.current_revision(empty_url) is None
    migrate.upgrade(empty_url)
    assert tables(empty_url) == set(metadata.tables)
