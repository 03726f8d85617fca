"""Persistence plumbing shared by every domain: declarative base, column types, engine, sessions."""

from detector.db.base import Base, utcnow
from detector.db.session import get_engine, make_engine, reset_engines, session_scope

__all__ = ["Base", "utcnow", "get_engine", "make_engine", "reset_engines", "session_scope"]
