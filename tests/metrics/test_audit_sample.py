"""The random audit sample: only unflagged posts, bounded per day, idempotent, reproducible; and its
decisions feeding recall and the missed-rate estimate."""

import random
from datetime import timedelta

from sqlalchemy import select

from detector.db.session import session_scope
from detector.metrics.service import compute
from detector.review.audit_sample import AUDIT_REASON, draw_audit_sample, unflagged_posts
from detector.review.models import Detection
from detector.review.service import record_decision
from tests.metrics.factory import NOW, alerted_cluster, author, detection, hits, post, row


def world(s) -> dict:
    """Recent posts of every kind: the unflagged ones are the only ones an audit may pick."""
    clean = [post(s, author(s)) for _ in range(12)]
    in_alert = [post(s, author(s)) for _ in range(2)]
    alerted_cluster(s, in_alert)
    llm_flagged = post(s, author(s))
    detection(s, llm_flagged)
    llm_cleared = post(s, author(s))  # a negative verdict: still unflagged
    detection(s, llm_cleared, positive=False)
    reported = post(s, author(s))
    detection(s, reported, "report")
    known = post(s, author(s, status="sanctioned"))
    too_new = post(s, author(s), ago=timedelta(minutes=20))  # the paths have not had their say yet
    too_old = post(s, author(s), ago=timedelta(days=3))
    pending = post(s, author(s), status="pending")
    other_type = [post(s, author(s), "community") for _ in range(3)]
    return {"eligible": sorted(p.id for p in [*clean, llm_cleared]),
            "excluded": {p.id for p in [*in_alert, llm_flagged, reported, known, too_new, too_old, pending]},
            "community": sorted(p.id for p in other_type)}


def audited(s, content_type="listing") -> list[int]:
    return sorted(s.scalars(select(Detection.post_id).where(Detection.path == "audit",
                                                            Detection.content_type == content_type)))


def test_only_unflagged_posts_are_candidates(db_url):
    with session_scope(db_url) as s:
        w = world(s)
        candidates = unflagged_posts(s, "listing", NOW - timedelta(days=1, hours=1), NOW - timedelta(hours=1))
    assert candidates == w["eligible"] and not set(candidates) & w["excluded"]


def test_the_sample_is_bounded_per_day_idempotent_and_reproducible(db_url):
    with session_scope(db_url) as s:
        w = world(s)
        first = draw_audit_sample(s, per_day=5, now=NOW, seed=7)
    with session_scope(db_url) as s:
        picked = audited(s)
        again = draw_audit_sample(s, per_day=5, now=NOW + timedelta(minutes=40), seed=7)  # the hourly task
        items = s.scalars(select(Detection).where(Detection.path == "audit")).all()
    assert len(first) == 5 + 3 and again == [] and len(picked) == 5  # + the 3 community posts
    assert picked == sorted(random.Random(7).sample(w["eligible"], 5))  # the seeded draw, nothing else
    assert {(d.mode, d.is_positive, d.reason) for d in items} == {("audit", False, AUDIT_REASON)}
    assert len(audited(s, "community")) == 3  # each content type has its own quota (only 3 posts there)
    with session_scope(db_url) as s:  # a later day: a new quota, and never the same post twice
        later = draw_audit_sample(s, per_day=5, now=NOW + timedelta(hours=20), seed=7)
        assert len(later) == 5 and len(set(audited(s))) == 10
        assert draw_audit_sample(s, per_day=0, now=NOW + timedelta(days=2)) == []  # 0 disables it


def test_without_a_seed_the_draw_is_fixed_per_day(sqlite_url, pg_url):
    picks = []
    for url in (sqlite_url, pg_url):  # two fresh stores number the same posts alike
        with session_scope(url) as s:
            world(s)
            draw_audit_sample(s, per_day=4, now=NOW, content_types=["listing"])
            picks.append(audited(s))
    assert len(picks[0]) == 4 and picks[0] == picks[1]


def test_audit_decisions_give_the_missed_rate_and_recall(db_url):
    with session_scope(db_url) as s:
        w = world(s)
        seller_cluster = alerted_cluster(s, [post(s, author(s)) for _ in range(2)])
        record_decision(s, subject_type="alert", subject_id=seller_cluster.id, decision="confirm_abuse",
                        moderator="m")
        ids = draw_audit_sample(s, per_day=4, now=NOW, content_types=["listing"], seed=1)
        for det_id, verdict in zip(ids, ("confirm_abuse", "benign", "benign", "escalate"), strict=True):
            record_decision(s, subject_type="detection", subject_id=det_id, decision=verdict, moderator="m")
        assert set(audited(s)) <= set(w["eligible"])
    with session_scope(db_url) as s:
        rows = compute(s, span="1d", now=NOW)
    audit, anyp, sim = row(rows, "audit"), row(rows, "any"), row(rows, "similarity")
    assert hits(audit["missed_rate"]) == (1, 3) and audit["decisions"]["escalate"] == 1
    assert anyp["sanctioned"]["only_reports_or_audit"] == 1 and anyp["caught_by"]["audit"] == 1
    assert hits(sim["recall"]) == (2, 3)  # the audit's seller is one the similarity path missed
