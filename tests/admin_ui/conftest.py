"""Fixtures and helpers for the admin UI tests: a seeded SQLite database, two accounts, a logged-in
AppTest, and small readers of the database to check what a click changed.

Password hashes are made once per session (scrypt is deliberately slow). AppTest runs the app in
this process, so the app reads the ``DETECTOR_*`` variables that ``use_settings`` sets.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import pytest
from sqlalchemy import select

from detector.alerts.models import Alert, AlertDelivery
from detector.db.session import session_scope
from detector.posts.models import Author
from detector.review.models import ModeratorDecision

APP = Path(__file__).resolve().parents[2] / "admin_ui" / "app.py"
PASSWORDS = {"kim": "kim-moderates-42", "ada": "ada-admin-secret-7"}
ROLES = {"kim": "moderator", "ada": "admin"}


@lru_cache(maxsize=1)
def admin_users_json() -> str:
    from detector.auth import hash_password

    return json.dumps({name: {"password_hash": hash_password(pw), "role": ROLES[name]}
                       for name, pw in PASSWORDS.items()})


@pytest.fixture
def seeded(sqlite_url, use_settings):
    """A migrated, seeded SQLite database that the app is pointed at."""
    from tests.admin_ui.seed import seed

    ids = seed(sqlite_url)
    use_settings(database_url=sqlite_url, admin_users=admin_users_json())
    return ids


def new_app():
    from streamlit.testing.v1 import AppTest

    return AppTest.from_file(str(APP), default_timeout=30)


def login(at, name: str = "kim", password: str | None = None):
    """Log in through the form, as a moderator would."""
    at.run()
    at.text_input(key="login_user").input(name)
    at.text_input(key="login_password").input(PASSWORDS[name] if password is None else password)
    at.button(key="login_submit").click()
    return at.run()


@pytest.fixture
def app(seeded):
    """A factory: ``app("ada")`` is an AppTest logged in as that account, on the review queue."""
    def make(name: str = "kim"):
        at = login(new_app(), name)
        assert not at.exception, at.exception
        return at
    return make


def open_page(at, page: str, **params):
    """Go to ``app_pages/<page>.py`` with query parameters, as a link (or Slack) would."""
    at.query_params.clear()
    at.query_params.update({k: str(v) for k, v in params.items()})
    at.switch_page(f"app_pages/{page}.py")
    at.run()
    assert not at.exception, at.exception
    return at


# Reading the database back, to check what a click changed.

def alert_status(url, alert_id):
    with session_scope(url) as s:
        return s.get(Alert, alert_id).status


def sanctioned(url, ids):
    with session_scope(url) as s:
        return sorted(s.scalars(select(Author.id).where(Author.id.in_(ids), Author.status == "sanctioned")))


def decisions(url, subject_type, subject_id):
    with session_scope(url) as s:
        rows = s.scalars(select(ModeratorDecision).filter_by(subject_type=subject_type, subject_id=subject_id)
                         .order_by(ModeratorDecision.id))
        return [(d.decision, d.moderator, d.source, d.note) for d in rows]


def slack_status(url, alert_id):
    with session_scope(url) as s:
        return s.scalar(select(AlertDelivery.status).where(AlertDelivery.alert_id == alert_id))


def texts(at) -> str:
    """Everything the page shows as text (labels included), joined, for 'is it on the page' checks."""
    out = []

    def walk(node):
        for child in getattr(node, "children", {}).values():
            for attr in ("value", "label", "body"):
                try:
                    value = getattr(child, attr)
                except Exception:  # noqa: BLE001 - widgets without that attribute or state
                    continue
                if isinstance(value, str):
                    out.append(value)
            walk(child)

    walk(at.main)
    walk(at.sidebar)
    return "\n".join(out)
