"""Online precision/recall/caught per path, content type, prompt version and window, with Wilson intervals."""

import json
from datetime import timedelta

import pytest
from sqlalchemy import update

from detector.db.session import session_scope
from detector.metrics.service import compute, compute_spans
from detector.metrics.stats import wilson
from detector.posts.models import Author
from detector.review.service import record_decision, revert_decision
from tests.metrics.factory import NOW, alerted_cluster, author, detection, hits, post, prompt_version, row


def test_wilson_matches_the_textbook_values():
    p = wilson(8, 10)
    assert (round(p.low, 3), round(p.high, 3)) == (0.490, 0.943)
    assert wilson(0, 0).value is None and wilson(0, 5).low == 0.0


def campaigns(s, n_clusters=3, posts_per=2, content_type="listing"):
    """Alerted clusters, each of ``posts_per`` accounts posting once."""
    alerts = []
    for _ in range(n_clusters):
        alerts.append(alerted_cluster(s, [post(s, author(s), content_type) for _ in range(posts_per)]).id)
    return alerts


def test_precision_recall_and_caught_per_path(db_url):
    with session_scope(db_url) as s:
        alerts = campaigns(s)
        outsider = author(s, "caught-by-the-llm")
        det = detection(s, post(s, outsider))
        detection(s, post(s, author(s)), positive=False)  # a negative verdict flags nothing
        record_decision(s, subject_type="alert", subject_id=alerts[0], decision="confirm_abuse", moderator="m")
        record_decision(s, subject_type="alert", subject_id=alerts[1], decision="benign", moderator="m")
        wrong = record_decision(s, subject_type="alert", subject_id=alerts[2], decision="benign", moderator="m")
        revert_decision(s, wrong.id, moderator="m")  # reverted: no longer counts as decided
        record_decision(s, subject_type="detection", subject_id=det.id, decision="confirm_abuse", moderator="m")
    with session_scope(db_url) as s:
        rows = compute(s)
    json.dumps(rows)  # exportable as is
    sim, llm, anyp = row(rows, "similarity"), row(rows, "llm"), row(rows, "any")
    assert hits(sim["precision"]) == (1, 2) and sim["decisions"] == {"confirm_abuse": 1, "benign": 1,
                                                                     "escalate": 0, "open": 1}
    assert hits(sim["recall"]) == (2, 3)  # 2 sanctioned through the cluster + the LLM's account
    assert hits(sim["caught"]) == (2, 3) and hits(llm["caught"]) == (1, 3)
    assert hits(llm["precision"]) == (1, 1) and hits(llm["recall"]) == (1, 3)
    assert 0 < sim["precision"]["low"] < 0.5 < sim["precision"]["high"] < 1
    assert hits(anyp["precision"]) == (2, 3) and hits(anyp["recall"]) == (3, 3)
    assert anyp["sanctioned"] == {"total": 3, "flagged_by_a_path": 3, "only_reports_or_audit": 0,
                                  "found_otherwise": 0}
    assert anyp["caught_by"] == {"llm": 1, "similarity": 2}
    assert sim["flags"] == 3 and sim["flagged_accounts"] == 6 and llm["flagged_accounts"] == 1
    assert row(rows, "similarity", "all")["recall"] == sim["recall"]


def test_a_reverted_change_of_mind_leaves_the_earlier_decision_in_force(db_url):
    with session_scope(db_url) as s:
        alerts = campaigns(s, n_clusters=1)
        record_decision(s, subject_type="alert", subject_id=alerts[0], decision="confirm_abuse", moderator="m")
        second = record_decision(s, subject_type="alert", subject_id=alerts[0], decision="benign", moderator="m")
        revert_decision(s, second.id, moderator="m")
    with session_scope(db_url) as s:
        assert hits(row(compute(s), "similarity")["precision"]) == (1, 1)


def test_recall_counts_accounts_that_only_reports_or_the_audit_found(db_url):
    with session_scope(db_url) as s:
        alerts = campaigns(s, n_clusters=1, posts_per=2)
        record_decision(s, subject_type="alert", subject_id=alerts[0], decision="confirm_abuse", moderator="m")
        reported = detection(s, post(s, author(s, "only-users-saw-it")), "report")
        audited = detection(s, post(s, author(s, "only-the-audit-saw-it")), "audit", positive=False)
        benign_audit = detection(s, post(s, author(s)), "audit", positive=False)
        by_hand = author(s, "sanctioned-on-the-author-page")
        post(s, by_hand)
        for det in (reported, audited):
            record_decision(s, subject_type="detection", subject_id=det.id, decision="confirm_abuse", moderator="m")
        record_decision(s, subject_type="detection", subject_id=benign_audit.id, decision="benign", moderator="m")
        record_decision(s, subject_type="author", subject_id=by_hand.id, decision="confirm_abuse", moderator="m")
    with session_scope(db_url) as s:
        rows = compute(s)
    sim, anyp, audit = row(rows, "similarity"), row(rows, "any"), row(rows, "audit")
    assert hits(sim["recall"]) == (2, 5)  # the denominator holds the 3 accounts no path found
    assert anyp["sanctioned"] == {"total": 5, "flagged_by_a_path": 2, "only_reports_or_audit": 2,
                                  "found_otherwise": 1}
    assert anyp["caught_by"] == {"audit": 1, "manual": 1, "report": 1, "similarity": 2}
    assert hits(anyp["caught"]) == (2, 5)
    assert hits(audit["missed_rate"]) == (1, 2) and audit["kind"] == "source"
    assert hits(row(rows, "report")["precision"]) == (1, 1)
    assert hits(anyp["precision"]) == (1, 1)  # reports and audit items are not a path's flags


def test_windows_count_recent_flags_and_recent_sanctions(db_url):
    with session_scope(db_url) as s:
        for days, verdict in ((0.5, "confirm_abuse"), (3, "benign"), (20, "confirm_abuse"), (60, "benign")):
            who = author(s)
            det = detection(s, post(s, who, ago=timedelta(days=days)), ago=timedelta(days=days))
            record_decision(s, subject_type="detection", subject_id=det.id, decision=verdict, moderator="m")
            if verdict == "confirm_abuse":  # sanctioned when its flag was raised
                s.execute(update(Author).where(Author.id == who.id).values(sanctioned_at=NOW - timedelta(days=days)))
    with session_scope(db_url) as s:
        spans = compute_spans(s, ["1d", "7d", "30d", "all"], now=NOW)
    precision = {span: hits(row(rows, "llm")["precision"]) for span, rows in spans.items()}
    assert precision == {"1d": (1, 1), "7d": (1, 2), "30d": (2, 3), "all": (2, 4)}
    recall = {span: hits(row(rows, "any")["recall"]) for span, rows in spans.items()}
    assert recall == {"1d": (1, 1), "7d": (1, 1), "30d": (2, 2), "all": (2, 2)}
    assert all(r["span"] == span for span, rows in spans.items() for r in rows)
    with pytest.raises(ValueError):
        compute_spans(s, ["2d"])


def test_rows_per_prompt_version(db_url):
    with session_scope(db_url) as s:
        v1, v2 = prompt_version(s, "v1"), prompt_version(s, "v2")
        sellers = [author(s) for _ in range(3)]
        d1 = detection(s, post(s, sellers[0]), version=v1)
        detection(s, post(s, sellers[1]), version=v1, positive=False)  # v1 judged it and missed it
        d2 = detection(s, post(s, sellers[2]), version=v2)
        d3 = detection(s, post(s, author(s)), version=v2)
        for det, verdict in ((d1, "confirm_abuse"), (d2, "confirm_abuse"), (d3, "benign")):
            record_decision(s, subject_type="detection", subject_id=det.id, decision=verdict, moderator="m")
        record_decision(s, subject_type="author", subject_id=sellers[1].id, decision="confirm_abuse", moderator="m")
    with session_scope(db_url) as s:
        rows = compute(s)
    r1, r2 = row(rows, "llm", version_id=v1.id), row(rows, "llm", version_id=v2.id)
    assert (r1["prompt_version"], r2["prompt_version"]) == ("v1", "v2")
    assert hits(r1["precision"]) == (1, 1) and hits(r2["precision"]) == (1, 2)
    assert hits(r1["recall"]) == (1, 2)  # of the sellers v1 judged, it flagged one
    assert hits(r2["recall"]) == (1, 1) and hits(r2["caught"]) == (1, 1)
    assert hits(row(rows, "llm")["recall"]) == (2, 3) and hits(row(rows, "llm")["precision"]) == (2, 3)


def test_content_types_are_kept_apart(db_url):
    with session_scope(db_url) as s:
        listing = campaigns(s, n_clusters=1)
        community = campaigns(s, n_clusters=1, content_type="community")
        for alert in (listing[0], community[0]):
            record_decision(s, subject_type="alert", subject_id=alert, decision="confirm_abuse", moderator="m")
    with session_scope(db_url) as s:
        rows = compute(s)
    assert hits(row(rows, "similarity", "listing")["recall"]) == (2, 2)
    assert hits(row(rows, "similarity", "community")["recall"]) == (2, 2)
    assert hits(row(rows, "similarity", "all")["recall"]) == (4, 4)
    assert hits(row(rows, "any", "all")["precision"]) == (2, 2)


def test_an_empty_store_has_no_rows(sqlite_url):
    with session_scope(sqlite_url) as s:
        assert compute(s) == []
