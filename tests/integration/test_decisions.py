"""Moderators' decisions: append-only, idempotent, with effects that a revert undoes exactly."""

import pytest
from sqlalchemy import select

from detector.alerts.models import Alert
from detector.audit.models import AuditLog
from detector.db.session import session_scope
from detector.posts.models import Author, Post
from detector.review.models import ModeratorDecision
from detector.review.service import DecisionError, latest_decision, record_decision, revert_decision
from detector.similarity.models import AllowlistEntry, Cluster, ClusterMember


@pytest.fixture
def cluster_alert(db_url):
    with session_scope(db_url) as s:
        authors = [Author(external_id=f"a{i}") for i in range(3)]
        s.add_all(authors)
        s.flush()
        cluster = Cluster(content_type="listing", size=3, distinct_authors=3)
        s.add(cluster)
        s.flush()
        for i, author in enumerate(authors):
            post = Post(content_type="listing", external_id=f"p{i}", author_id=author.id, text="t",
                        content_sha256="x", created_at=cluster.first_seen_at, source="test")
            s.add(post)
            s.flush()
            s.add(ClusterMember(cluster_id=cluster.id, post_id=post.id))
        alert = Alert(dedupe_key=f"c{cluster.id}", content_type="listing", path="similarity", cluster_id=cluster.id,
                      rule="size")
        s.add(alert)
        s.flush()
        return alert.id, cluster.id


def test_confirm_sanctions_authors_and_revert_lifts_it(db_url, cluster_alert):
    alert_id, _cluster_id = cluster_alert
    with session_scope(db_url) as s:
        decision = record_decision(s, subject_type="alert", subject_id=alert_id, decision="confirm_abuse",
                                   moderator="mod-kim", source="slack")
        again = record_decision(s, subject_type="alert", subject_id=alert_id, decision="confirm_abuse",
                                moderator="mod-kim", source="slack")
        assert again.id == decision.id  # a double click or a Slack retry is one decision
        assert s.get(Alert, alert_id).status == "confirmed"
        assert sorted(s.scalars(select(Author.status))) == ["sanctioned"] * 3
    with session_scope(db_url) as s:
        revert = revert_decision(s, decision.id, moderator="mod-lee")
        assert revert.reverts_id == decision.id
        assert sorted(s.scalars(select(Author.status))) == ["active"] * 3
        assert s.get(Alert, alert_id).status == "open"
        assert latest_decision(s, "alert", alert_id) is None
        assert [a.action for a in s.scalars(select(AuditLog).order_by(AuditLog.id))] == [
            "decision.confirm_abuse", "decision.revert"]
        with pytest.raises(DecisionError):
            revert_decision(s, decision.id, moderator="mod-lee")


def test_benign_allowlists_the_cluster_until_reverted(db_url, cluster_alert):
    alert_id, cluster_id = cluster_alert
    with session_scope(db_url) as s:
        decision = record_decision(s, subject_type="alert", subject_id=alert_id, decision="benign", moderator="m")
        entry = s.scalars(select(AllowlistEntry)).one()
        assert entry.cluster_id == cluster_id and entry.revoked_at is None and entry.expires_at > entry.created_at
        assert sorted(s.scalars(select(Author.status))) == ["active"] * 3
    with session_scope(db_url) as s:
        revert_decision(s, decision.id, moderator="m")
        assert s.scalars(select(AllowlistEntry)).one().revoked_at is not None
        assert len(s.scalars(select(ModeratorDecision)).all()) == 2  # append-only


def test_bad_decisions_are_refused(db_url, cluster_alert):
    alert_id, _ = cluster_alert
    with session_scope(db_url) as s:
        for kwargs in ({"decision": "delete_everything"}, {"subject_type": "galaxy"}, {"moderator": ""},
                       {"subject_id": 999_999}):
            args = {"subject_type": "alert", "subject_id": alert_id, "decision": "benign", "moderator": "m", **kwargs}
            with pytest.raises(DecisionError):
                record_decision(s, **args)


def test_confirming_an_llm_verdict_sanctions_the_posts_author(db_url, cluster_alert):
    from detector.review.models import Detection

    with session_scope(db_url) as s:
        post = s.scalars(select(Post).where(Post.external_id == "p0")).one()
        detection = Detection(dedupe_key="llm:x", content_type="listing", path="llm", post_id=post.id,
                              is_positive=True, reason="writes like a shop")
        s.add(detection)
        s.flush()
        record_decision(s, subject_type="detection", subject_id=detection.id, decision="confirm_abuse", moderator="m")
        assert s.get(Author, post.author_id).status == "sanctioned"
        assert sorted(s.scalars(select(Author.status))) == ["active", "active", "sanctioned"]
