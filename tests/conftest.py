"""Shared fixtures: migrated SQLite and PostgreSQL databases, Redis, and settings overrides.

Suites that need PostgreSQL or Redis skip with a clear message when the server is not reachable;
``DETECTOR_REQUIRE_SERVICES=1`` (set by ``.ci/run``) turns those skips into failures, because CI
has the services and a silent skip there would hide a broken suite.
"""

from __future__ import annotations

import os
import uuid

import pytest

PG_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def _unavailable(what: str, err: Exception):
    message = f"{what} is not reachable ({type(err).__name__}: {str(err)[:120]})"
    if os.environ.get("DETECTOR_REQUIRE_SERVICES") == "1":
        pytest.fail(message + "; DETECTOR_REQUIRE_SERVICES=1 makes this a failure")
    pytest.skip(message + "; set DETECTOR_REQUIRE_SERVICES=1 to fail instead")


@pytest.fixture(autouse=True)
def _isolated_settings(monkeypatch, tmp_path):
    """Every test starts from the embedded default in its own data dir, whatever the shell exports."""
    from detector.db.session import reset_engines
    from detector.settings import get_settings

    for key in list(os.environ):
        if key.startswith("DETECTOR_") and key != "DETECTOR_REQUIRE_SERVICES":
            monkeypatch.delenv(key)
    monkeypatch.setenv("DETECTOR_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()
    reset_engines()


@pytest.fixture
def use_settings(monkeypatch):
    """Set DETECTOR_* variables for this test and return the fresh settings."""
    from detector.db.session import reset_engines
    from detector.settings import get_settings

    def apply(**values):
        for key, value in values.items():
            monkeypatch.setenv(f"DETECTOR_{key.upper()}", str(value))
        get_settings.cache_clear()
        reset_engines()
        return get_settings()

    return apply


@pytest.fixture
def sqlite_url(tmp_path):
    from detector.db import migrate

    url = f"sqlite:///{tmp_path / 'test.db'}"
    migrate.upgrade(url)
    return url


@pytest.fixture(scope="session")
def pg_server():
    from sqlalchemy import create_engine, text

    engine = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text("select 1"))
    except Exception as err:  # noqa: BLE001 - any failure means "not reachable"
        engine.dispose()
        _unavailable(f"PostgreSQL at {PG_ADMIN_URL}", err)
    yield engine
    engine.dispose()


@pytest.fixture
def pg_empty_url(pg_server):
    """A fresh, empty PostgreSQL database, dropped after the test."""
    from sqlalchemy import text

    name = f"sw_test_{uuid.uuid4().hex[:12]}"
    with pg_server.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    yield url
    from detector.db.session import reset_engines

    reset_engines()
    with pg_server.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def pg_url(pg_empty_url):
    from detector.db import migrate

    migrate.upgrade(pg_empty_url)
    return pg_empty_url


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request):
    """Run a test on the embedded default and on PostgreSQL."""
    return request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "pg_url")


@pytest.fixture
def redis_url():
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except Exception as err:  # noqa: BLE001
        _unavailable(f"Redis at {REDIS_URL}", err)
    client.flushdb()
    yield REDIS_URL
    client.flushdb()
    client.close()


@pytest.fixture
def producer(redis_url):
    """A marketplace backend's own Celery client: it knows task names and queues, nothing else."""
    from celery import Celery

    client = Celery("marketplace-backend", broker=redis_url)
    yield client
    client.close()
