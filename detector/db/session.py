"""Engines and the one unit-of-work context manager.

Domain services take ``session`` as an argument and never commit; the adapter (task, CLI command,
UI action) opens ``session_scope`` around one unit of work, which commits or rolls back in one place.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker


def make_engine(url: str) -> Engine:
    """An engine with the per-backend settings the rest of the code relies on."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # noqa: ANN001 - DB-API objects
            cur = dbapi_conn.cursor()
            # WAL lets the admin UI read while a worker writes; FKs are off by default in SQLite.
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()
            # Let SQLAlchemy, not the driver, issue BEGIN: needed for SAVEPOINTs (per-post isolation).
            dbapi_conn.isolation_level = None

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):  # noqa: ANN001
            conn.exec_driver_sql("BEGIN")

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)


_ENGINES: dict[str, Engine] = {}
_SESSIONMAKERS: dict[str, sessionmaker] = {}


def get_engine(url: str) -> Engine:
    """One engine (and pool) per URL per process."""
    if url not in _ENGINES:
        _ENGINES[url] = make_engine(url)
    return _ENGINES[url]


def _sessionmaker(url: str) -> sessionmaker:
    if url not in _SESSIONMAKERS:
        _SESSIONMAKERS[url] = sessionmaker(get_engine(url), expire_on_commit=False)
    return _SESSIONMAKERS[url]


def reset_engines(*, close: bool = True) -> None:
    """Forget pooled connections: after a fork (``close=False``: the parent still owns them) or in tests."""
    for engine in _ENGINES.values():
        engine.dispose(close=close)
    _ENGINES.clear()
    _SESSIONMAKERS.clear()


@contextmanager
def session_scope(url: str | None = None) -> Iterator[Session]:
    """Commit on success, roll back on any error, always close."""
    if url is None:
        from detector.settings import get_settings

        url = get_settings().effective_database_url
    session = _sessionmaker(url)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
