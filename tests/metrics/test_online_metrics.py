"""Online precision/recall per path from decisions, with Wilson intervals."""

import json

import pytest
from sqlalchemy import select

from detector.alerts.models import Alert
from detector.db.session import session_scope
from detector.metrics.service import compute
from detector.metrics.stats import wilson
from detector.posts.models import Author, Post
from detector.review.models import Detection
from detector.review.service import record_decision, revert_decision
from detector.similarity.models import Cluster, ClusterMember


def test_wilson_matches_the_textbook_values():
    p = wilson(8, 10)
    assert (round(p.low, 3), round(p.high, 3)) == (0.490, 0.943)
    assert wilson(0, 0).value is None and wilson(0, 5).low == 0.0


def make(s, n_clusters=3, posts_per=2):
    alerts, authors = [], []
    for c in range(n_clusters):
        cluster = Cluster(content_type="listing", size=posts_per)
        s.add(cluster)
        s.flush()
        for i in range(posts_per):
            author = Author(external_id=f"a{c}-{i}")
            s.add(author)
            s.flush()
            authors.append(author.id)
            post = Post(content_type="listing", external_id=f"p{c}-{i}", author_id=author.id, text="t",
                        content_sha256="x", created_at=cluster.first_seen_at, source="t")
            s.add(post)
            s.flush()
            s.add(ClusterMember(cluster_id=cluster.id, post_id=post.id))
        alert = Alert(dedupe_key=f"k{c}", content_type="listing", path="similarity", cluster_id=cluster.id, rule="r")
        s.add(alert)
        s.flush()
        alerts.append(alert.id)
    return alerts, authors


def test_precision_and_recall_per_path(db_url):
    with session_scope(db_url) as s:
        alerts, _authors = make(s)
        outsider = Author(external_id="reported-by-users", status="sanctioned")  # caught outside the paths
        s.add(outsider)
        s.flush()
        post = Post(content_type="listing", external_id="llm1", author_id=outsider.id, text="t", content_sha256="x",
                    created_at=s.get(Alert, alerts[0]).created_at, source="t")
        s.add(post)
        s.flush()
        det = Detection(dedupe_key="llm:1", content_type="listing", path="llm", post_id=post.id, is_positive=True,
                        reason="r")
        s.add(det)
        s.flush()
        record_decision(s, subject_type="alert", subject_id=alerts[0], decision="confirm_abuse", moderator="m")
        record_decision(s, subject_type="alert", subject_id=alerts[1], decision="benign", moderator="m")
        wrong = record_decision(s, subject_type="alert", subject_id=alerts[2], decision="benign", moderator="m")
        revert_decision(s, wrong.id, moderator="m")  # reverted: no longer counts as decided
        record_decision(s, subject_type="detection", subject_id=det.id, decision="confirm_abuse", moderator="m")
    with session_scope(db_url) as s:
        rows = {r["path"]: r for r in compute(s)}
        json.dumps(rows)  # exportable as is
    sim, llm = rows["similarity"], rows["llm"]
    assert (sim["precision"]["hits"], sim["precision"]["n"]) == (1, 2)
    assert (sim["recall"]["hits"], sim["recall"]["n"]) == (2, 3)  # 2 sanctioned by the cluster + 1 outsider
    assert (llm["precision"]["hits"], llm["precision"]["n"]) == (1, 1)
    assert (llm["recall"]["hits"], llm["recall"]["n"]) == (1, 3)
    assert 0 < sim["precision"]["low"] < 0.5 < sim["precision"]["high"] < 1


def test_metrics_command_exports_json(tmp_path):
    from tests.integration.test_cli import detector

    out = detector("metrics", "--json", cwd=tmp_path).stdout
    assert json.loads(out) == []  # a fresh store: nothing flagged, nothing decided


def test_a_reverted_change_of_mind_leaves_the_earlier_decision_in_force(db_url):
    with session_scope(db_url) as s:
        alerts, _ = make(s, n_clusters=1)
        record_decision(s, subject_type="alert", subject_id=alerts[0], decision="confirm_abuse", moderator="m")
        second = record_decision(s, subject_type="alert", subject_id=alerts[0], decision="benign", moderator="m")
        revert_decision(s, second.id, moderator="m")
    with session_scope(db_url) as s:
        sim = {r["path"]: r for r in compute(s)}["similarity"]
    assert (sim["precision"]["hits"], sim["precision"]["n"]) == (1, 1)
