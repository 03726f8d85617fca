"""Snapshots: one row per (hour, window, path, content type, prompt version), a repeat stores nothing."""

from datetime import timedelta

from sqlalchemy import select

from detector.db.session import session_scope
from detector.metrics.models import MetricSnapshot
from detector.metrics.service import compute_spans
from detector.metrics.snapshots import history, snapshot_key, take_snapshot
from detector.review.service import record_decision
from tests.metrics.factory import NOW, author, detection, post, prompt_version


def stored(url) -> list[tuple]:
    with session_scope(url) as s:
        return [(r.key, r.span, r.path, r.content_type, r.prompt_version_id, r.precision_hits, r.precision_n,
                 r.recall_hits, r.recall_n) for r in s.scalars(select(MetricSnapshot).order_by(MetricSnapshot.key))]


def test_a_repeat_run_stores_nothing_and_a_new_hour_is_a_new_point(db_url):
    with session_scope(db_url) as s:
        version = prompt_version(s, "v1")
        first = detection(s, post(s, author(s)), version=version)
        record_decision(s, subject_type="detection", subject_id=first.id, decision="confirm_abuse", moderator="m")
    with session_scope(db_url) as s:
        expected = compute_spans(s, ["1d", "7d", "30d", "all"], now=NOW)
        n = take_snapshot(s, NOW)
    once = stored(db_url)
    assert n == len(once) == sum(len(rows) for rows in expected.values())
    with session_scope(db_url) as s:
        second = detection(s, post(s, author(s)), version=version)
        record_decision(s, subject_type="detection", subject_id=second.id, decision="benign", moderator="m")
        assert take_snapshot(s, NOW + timedelta(minutes=20)) == 0  # same hour: the first figures stand
    assert stored(db_url) == once
    keys = {k for k, *_ in once}
    assert f"{NOW:%Y-%m-%dT%H}:00Z|7d|llm|listing|{version.id}" in keys and len(keys) == len(once)
    with session_scope(db_url) as s:
        assert take_snapshot(s, NOW + timedelta(hours=1)) == n
        series = history(s, span="7d", path="llm", content_type="listing")
        versions = history(s, span="7d", path="llm", content_type="listing", prompt_version_id=version.id)
        everything = history(s, span="all")
    assert [(r["bucket"], r["precision"]["hits"], r["precision"]["n"]) for r in series] == [
        (NOW, 1, 1), (NOW + timedelta(hours=1), 1, 2)]
    assert [r["prompt_version"] for r in versions] == ["v1", "v1"]
    assert {r["path"] for r in everything} == {"llm", "any"} and len(everything) == 2 * 4


def test_the_key_names_every_part():
    row = {"span": "30d", "path": "similarity", "content_type": "community", "prompt_version_id": None}
    assert snapshot_key(NOW.replace(hour=7), row) == f"{NOW:%Y-%m-%d}T07:00Z|30d|similarity|community|-"
