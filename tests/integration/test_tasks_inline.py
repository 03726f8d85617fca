"""Tasks under the embedded default (memory broker: they run in the sending process).

Retries of transient errors, and dead letters for poison messages: the post ends ``failed`` with
the reason instead of looping or vanishing.
"""

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from detector.db.session import session_scope
from detector.jobs.models import DeadLetter
from detector.posts import processing
from detector.posts.models import Post, RejectedInput


@pytest.fixture
def tasks(use_settings, sqlite_url):
    use_settings(database_url=sqlite_url)
    from workers import tasks as module

    assert module.ingest_post.app.conf.task_always_eager
    return module


def test_ingest_post_task_stores_and_processes(tasks, sqlite_url):
    result = tasks.ingest_post.delay({"id": "x1", "text": "ㅎㅖ어져서 팝니ㄷr ☆"}).get()
    assert result == {"accepted": 1, "duplicates": 0, "rejected": 0}
    assert tasks.ingest_post.delay({"id": "x1", "text": "ㅎㅖ어져서 팝니ㄷr ☆"}).get()["duplicates"] == 1
    with session_scope(sqlite_url) as s:
        post = s.scalars(select(Post)).one()
        assert post.status == "processed" and post.normalized_text and "☆" not in post.normalized_text


def test_bad_post_is_rejected_not_raised(tasks, sqlite_url):
    assert tasks.ingest_post.delay({"id": "x2", "text": {"nested": 1}}).get()["rejected"] == 1
    with session_scope(sqlite_url) as s:
        assert s.scalars(select(RejectedInput.reason_code)).one() == "wrong_type"


def test_transient_errors_are_retried(tasks, sqlite_url, monkeypatch):
    real = processing.process_posts
    calls = []

    def flaky(session, ids, deps):
        calls.append(ids)
        if len(calls) < 3:
            raise OperationalError("select 1", {}, Exception("server closed the connection"))
        return real(session, ids, deps)

    monkeypatch.setattr(processing, "process_posts", flaky)
    tasks.ingest_post.delay({"id": "x3", "text": "hello"})
    assert len(calls) == 3
    with session_scope(sqlite_url) as s:
        assert s.scalars(select(Post.status)).one() == "processed"
        assert s.scalars(select(DeadLetter)).all() == []


def test_poison_message_ends_as_dead_letter_and_failed_post(tasks, sqlite_url, monkeypatch):
    def poison(session, ids, deps):
        raise ValueError("cannot process this post")

    monkeypatch.setattr(processing, "process_posts", poison)
    tasks.ingest_post.delay({"id": "x4", "text": "hello"})
    with session_scope(sqlite_url) as s:
        post = s.scalars(select(Post)).one()
        letter = s.scalars(select(DeadLetter)).one()
    assert post.status == "failed" and "cannot process this post" in post.status_reason
    assert letter.task_name == "detector.process_posts" and "ValueError" in letter.error


def test_sweeper_redispatches_stalled_posts(tasks, sqlite_url, monkeypatch):
    dispatch = tasks.dispatch_processing
    monkeypatch.setattr(tasks, "dispatch_processing", lambda ids: None)  # the message is "lost"
    tasks.ingest_post.delay({"id": "x5", "text": "hello"})
    monkeypatch.setattr(tasks, "dispatch_processing", dispatch)
    with session_scope(sqlite_url) as s:
        assert s.scalars(select(Post.status)).one() == "pending"
    assert tasks.sweep_stalled_posts.delay(older_than_minutes=0).get() == 1
    with session_scope(sqlite_url) as s:
        assert s.scalars(select(Post.status)).one() == "processed"
