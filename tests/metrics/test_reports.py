"""Users' reports (domain function, Celery task, CLI), and the metrics tasks through the inline Celery app."""

import json
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from detector.db.session import session_scope
from detector.jobs.models import DeadLetter
from detector.metrics.models import MetricSnapshot
from detector.review.models import Detection
from detector.review.reports import Report, ReportError, parse_report, report_post
from tests.metrics.factory import NOW, author, post


@pytest.mark.parametrize("payload,message", [
    ("not a dict", "JSON object"),
    ({"reporter": "u1"}, "'post_id' is required"),
    ({"post_id": "p1"}, "'reporter' is required"),
    ({"post_id": "p1", "reporter": "  "}, "'reporter' is empty"),
    ({"post_id": ["p1"], "reporter": "u1"}, "'post_id' must be a string"),
    ({"post_id": "p1", "reporter": "u1", "content_type": "Listing!"}, "content_type"),
    ({"post_id": "p1", "reporter": "u" * 129}, "at most 128"),
    ({"post_id": "p\x00", "reporter": "u1"}, "control characters"),
])
def test_reports_are_validated_at_the_edge(payload, message):
    with pytest.raises(ReportError) as err:
        parse_report(payload, default_content_type="listing")
    assert message in str(err.value) and err.value.code == "invalid"


def test_a_valid_report_takes_the_default_content_type():
    assert parse_report({"post_id": 42, "reporter": "u1"}, default_content_type="listing") == Report(
        "listing", "42", "u1", "")


def test_one_report_per_post_and_reporter(db_url):
    with session_scope(db_url) as s:
        p = post(s, author(s), external_id="m-100")
        first = report_post(s, Report("listing", "m-100", "user-7", "same phone number in 40 ads"))
        again = report_post(s, Report("listing", "m-100", "user-7", "resent"))
        other = report_post(s, Report("listing", "m-100", "user-8", ""))
        with pytest.raises(ReportError) as err:
            report_post(s, Report("community", "m-100", "user-7", ""))  # same id, other namespace
        rows = s.scalars(select(Detection).where(Detection.path == "report").order_by(Detection.id)).all()
    assert first[1] and again == (first[0], False) and other[1] and err.value.code == "unknown_post"
    assert [(d.post_id, d.is_positive, d.mode) for d in rows] == [(p.id, True, "report")] * 2
    assert rows[0].reason == "reported by user-7: same phone number in 40 ads"


@pytest.fixture
def tasks(use_settings, sqlite_url):
    use_settings(database_url=sqlite_url, audit_sample_per_day=3)
    from workers import tasks as module

    assert module.report_post.app.conf.task_always_eager
    return module


def test_report_task_queues_once_refuses_bad_input_and_dead_letters_unknown_posts(tasks, sqlite_url):
    with session_scope(sqlite_url) as s:
        post(s, author(s), external_id="m-1")
    sent = {"content_type": "listing", "post_id": "m-1", "reporter": "user-1", "reason": "shop"}
    first = tasks.report_post.delay(sent).get()
    assert first["status"] == "queued"
    assert tasks.report_post.delay(sent).get() == {"status": "duplicate", "detection_id": first["detection_id"]}
    assert tasks.report_post.delay({"post_id": "m-1"}).get()["status"] == "rejected"
    tasks.report_post.delay({"post_id": "never-ingested", "reporter": "user-1"})  # retried, then parked
    with session_scope(sqlite_url) as s:
        letter = s.scalars(select(DeadLetter)).one()
        assert s.scalar(select(func.count()).select_from(Detection)) == 1
    assert letter.task_name == "detector.report_post" and "never-ingested" in letter.error
    assert letter.attempts == tasks.REPORT_RETRIES + 1


def test_audit_and_snapshot_tasks_are_bounded_and_idempotent(tasks, sqlite_url):
    with session_scope(sqlite_url) as s:
        two_hours_ago = NOW - (datetime.now(timezone.utc) - timedelta(hours=2))  # the task uses the real time
        for _ in range(5):
            post(s, author(s), ago=two_hours_ago)
    assert tasks.sample_audit.delay().get() == 3  # DETECTOR_AUDIT_SAMPLE_PER_DAY=3
    assert tasks.sample_audit.delay().get() == 0  # the day's quota is met
    stored = tasks.snapshot_metrics.delay().get()
    assert stored > 0 and tasks.snapshot_metrics.delay().get() == 0
    with session_scope(sqlite_url) as s:
        assert s.scalar(select(func.count()).select_from(MetricSnapshot)) == stored


def test_report_and_metrics_commands(tmp_path):
    from tests.integration import test_cli

    def detector(*args, **kw):
        return test_cli.detector(*args, env={"DETECTOR_EMBEDDER": "hashing"}, **kw)

    assert json.loads(detector("metrics", "--json", cwd=tmp_path).stdout) == []  # a fresh store
    feed = tmp_path / "posts.jsonl"
    feed.write_text(json.dumps({"id": "m-9", "text": "아이폰 대량 매입 업체", "author_id": "shop"}) + "\n")
    detector("ingest", str(feed), cwd=tmp_path)
    out = detector("report", "m-9", "--reason", "a shop", "--reporter", "u1", "--json", cwd=tmp_path).stdout
    assert json.loads(out)["status"] == "queued"
    assert "already queued" in detector("report", "m-9", "--reporter", "u1", cwd=tmp_path).stdout
    assert detector("report", "nope", cwd=tmp_path, check=False).returncode == 1
    assert detector("report", "m-9", "--content-type", "Bad!", cwd=tmp_path, check=False).returncode == 2
    rows = json.loads(detector("metrics", "--span", "7d", "--json", cwd=tmp_path).stdout)
    assert [(r["path"], r["content_type"], r["flags"]) for r in rows] == [("report", "listing", 1),
                                                                          ("report", "all", 1),
                                                                          ("any", "all", 0)]
    assert json.loads(detector("metrics", "snapshot", "--json", cwd=tmp_path).stdout)["stored"] == 4 * 3  # every window
    history = json.loads(detector("metrics", "--history", "--span", "all", "--json", cwd=tmp_path).stdout)
    assert [r["path"] for r in history] == ["report", "report", "any"]
    assert detector("metrics", "--span", "2d", cwd=tmp_path, check=False).returncode == 2
