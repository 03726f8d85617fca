"""The admin UI's only door to ``detector``: every read and write the pages need, as plain functions.

Each function takes the database URL, opens one ``session_scope`` (one unit of work) and returns
plain dicts, never ORM rows, so pages cannot lazy-load or mutate anything. Decisions go through
``detector.review.service`` (append-only, audited), then ``mark_for_update`` so the sweeper edits
the alert's Slack message. Database failures become ``BackendUnavailable`` with a sentence a
moderator can act on; the app shows it in an error box instead of a traceback.
"""

from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime

from sqlalchemy import func, or_, select, union
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from detector.alerts.delivery import mark_for_update
from detector.alerts.models import Alert, AlertDelivery
from detector.auth import User, authenticate, user_for_identity  # noqa: F401 - used by admin_ui.auth
from detector.db.session import session_scope
from detector.jobs.service import open_dead_letters
from detector.llm.models import LLMCall, PromptVersion
from detector.posts.models import Author, Post
from detector.review.models import Detection
from detector.review.models import ModeratorDecision as Decision
from detector.review import queue
from detector.review.service import DecisionError, record_decision, revert_decision
from detector.settings import get_settings, redact_url
from detector.similarity.models import AllowlistEntry, Cluster, ClusterEvent, ClusterMember, ClusterSnapshot
from detector.similarity.models import NearDuplicateEdge as Edge

__all__ = ["BackendUnavailable", "DecisionError", "User"]  # and the functions below


class BackendUnavailable(RuntimeError):
    """The database could not be used; the message says what to do about it."""


def load_settings():
    """The process's settings (``DETECTOR_*``); ``ValueError`` with the reason when they are invalid."""
    try:
        return get_settings()
    except Exception as err:  # pydantic's ValidationError, or a bad .env file
        raise ValueError(f"the DETECTOR_* settings are invalid: {err}") from err


@contextmanager
def _session(url: str):
    try:
        with session_scope(url) as session:
            yield session
    except IntegrityError:
        raise
    except DBAPIError as err:
        text = str(err.orig or err).strip().splitlines()[0][:200]
        if "no such table" in text or "does not exist" in text:
            raise BackendUnavailable(f"The database at {redact_url(url)} has no sellerwatch tables: "
                                     "run `detector db upgrade`.") from err
        raise BackendUnavailable(f"Cannot reach the database at {redact_url(url)}: {text}") from err


def _dict(obj, *fields: str) -> dict:
    return {f: getattr(obj, f) for f in fields}


def content_types(url: str) -> list[str]:
    with _session(url) as s:
        return sorted(s.scalars(union(*(select(m.content_type) for m in (Alert, Detection, PromptVersion)))))


def list_queue(url: str, **filters) -> list[dict]:
    """The review queue (``detector.review.queue.list_queue``: its filters, plain dicts)."""
    with _session(url) as s:
        return queue.list_queue(s, **filters)


def decide(url: str, kind: str, subject_id: int, decision: str, moderator: str, *, note: str | None = None,
           allowlist_days: int = 30) -> dict:
    """Record one decision (idempotent, audited) and queue the Slack edit of the alerts it closed."""
    with _session(url) as s:
        if kind == "detection" and s.get(Detection, subject_id) is None:
            raise DecisionError(f"no detection {subject_id}")
        before = s.scalar(select(func.max(Decision.id))) or 0
        row = record_decision(s, subject_type=kind, subject_id=subject_id, decision=decision, note=note,
                              moderator=moderator, source="admin_ui", allowlist_days=allowlist_days)
        for alert_id in (row.effects or {}).get("alert_ids", []):
            mark_for_update(s, alert_id)
        return {"id": row.id, "subject_type": kind, "subject_id": subject_id, "decision": row.decision,
                "effects": dict(row.effects or {}), "repeated": row.id <= before}


def revert(url: str, decision_id: int, moderator: str) -> dict:
    """Undo a decision's effects (logged as a decision of its own) and queue the Slack edit."""
    with _session(url) as s:
        original = s.get(Decision, decision_id)
        row = revert_decision(s, decision_id, moderator=moderator, source="admin_ui")
        for alert_id in (original.effects or {}).get("alert_ids", []):
            mark_for_update(s, alert_id)
        return {"id": row.id, "subject_type": row.subject_type, "subject_id": row.subject_id}


def _history(s: Session, subjects: list[tuple[str, int]]) -> list[dict]:
    match = or_(*((Decision.subject_type == t) & (Decision.subject_id == i) for t, i in subjects))
    rows = s.scalars(select(Decision).where(match).order_by(Decision.id.desc())).all()
    reverted = {r.reverts_id for r in rows if r.reverts_id}
    return [{**_dict(r, "id", "subject_type", "subject_id", "decision", "moderator", "note", "source",
                     "created_at", "reverts_id", "effects"), "reverted": r.id in reverted} for r in rows]


def _posts(s: Session, query, limit: int = 50) -> list[dict]:
    rows = s.execute(query.add_columns(Author.external_id).outerjoin(Author, Author.id == Post.author_id)
                     .limit(limit)).all()
    return [{**_dict(p, "id", "external_id", "content_type", "author_id", "title", "text", "created_at",
                     "status"), "author": ext} for p, ext in rows]


def recent_clusters(url: str, limit: int = 25) -> list[dict]:
    with _session(url) as s:
        rows = s.scalars(select(Cluster).where(Cluster.status == "active")
                         .order_by(Cluster.updated_at.desc()).limit(limit))
        return [_dict(c, "id", "content_type", "size", "distinct_authors", "updated_at") for c in rows]


def cluster_detail(url: str, cluster_id: int, samples: int = 8) -> dict | None:
    """Everything the cluster page shows, in one unit of work."""
    with _session(url) as s:
        c = s.get(Cluster, cluster_id)
        if c is None:
            return None
        members = select(ClusterMember.post_id).where(ClusterMember.cluster_id == cluster_id)
        in_cluster = select(Post).where(Post.id.in_(members))
        first = _posts(s, in_cluster.order_by(Post.created_at, Post.id), 1)
        author_ids = select(Post.author_id).where(Post.id.in_(members))
        per_author = dict(s.execute(select(Post.author_id, func.count()).where(Post.id.in_(members))
                                    .group_by(Post.author_id)).all())
        alerts = s.scalars(select(Alert).filter_by(cluster_id=cluster_id).order_by(Alert.id.desc())).all()
        by_cluster = {"cluster_id": cluster_id}
        return {
            **_dict(c, "id", "content_type", "status", "size", "distinct_authors", "first_seen_at"),
            "snapshots": [_dict(r, "taken_at", "size", "distinct_authors", "new_account_share")
                          for r in s.scalars(select(ClusterSnapshot).filter_by(**by_cluster)
                                             .order_by(ClusterSnapshot.taken_at))],
            "added_at": list(s.scalars(select(ClusterMember.added_at).filter_by(**by_cluster)
                                       .order_by(ClusterMember.added_at))),
            "reference": first[0] if first else None,
            "samples": _posts(s, in_cluster.order_by(Post.created_at.desc()), samples),
            "authors": [{**_dict(a, "id", "external_id", "status", "account_created_at"),
                         "posts_here": per_author.get(a.id, 0)}
                        for a in s.scalars(select(Author).where(Author.id.in_(author_ids)).limit(200))],
            "other_posts": _posts(s, select(Post).where(Post.author_id.in_(author_ids), Post.id.not_in(
                members)).order_by(Post.created_at.desc()), 20),
            "alerts": [_dict(a, "id", "status", "created_at", "path") for a in alerts],
            "open_alert_id": next((a.id for a in alerts if a.status in ("open", "escalated")), None),
            "slack": [_dict(d, "alert_id", "target", "external_ref", "status") for d in s.scalars(
                select(AlertDelivery).where(AlertDelivery.alert_id.in_([a.id for a in alerts]),
                                            AlertDelivery.channel == "slack"))],
            "allowlist": [_dict(e, "id", "expires_at") for e in s.scalars(select(AllowlistEntry).filter_by(
                **by_cluster, revoked_at=None))],
            "to_sanction": queue.fresh_authors(s, [cluster_id]).get(cluster_id, 0),
            "events": [_dict(e, "kind", "other_cluster_id", "created_at") for e in
                       s.scalars(select(ClusterEvent).filter_by(**by_cluster).order_by(ClusterEvent.id))],
            "decisions": _history(s, [("cluster", cluster_id)] + [("alert", a.id) for a in alerts]),
        }


def post_detail(url: str, post_id: int) -> dict | None:
    """The post as posted and as normalized, its verdicts, neighbours, clusters and decisions."""
    with _session(url) as s:
        p = s.get(Post, post_id)
        if p is None:
            return None
        author = s.get(Author, p.author_id) if p.author_id else None
        dets = s.execute(select(Detection, PromptVersion.version).where(Detection.post_id == post_id)
                         .outerjoin(PromptVersion, PromptVersion.id == Detection.prompt_version_id)
                         .order_by(Detection.id.desc())).all()
        edges = s.scalars(select(Edge).where(or_(Edge.src_post_id == post_id, Edge.dst_post_id == post_id))
                          .order_by(Edge.similarity.desc()).limit(20)).all()
        other = {e.id: e.dst_post_id if e.src_post_id == post_id else e.src_post_id for e in edges}
        near = {r["id"]: r for r in _posts(s, select(Post).where(Post.id.in_(list(other.values()))), 20)}
        return {
            **_dict(p, "id", "external_id", "content_type", "title", "text", "normalized_text", "created_at",
                    "region", "price", "status", "status_reason", "author_id"),
            "author": author and _dict(author, "id", "external_id", "status"),
            "detections": [{**_dict(d, "id", "path", "mode", "is_positive", "score", "reason", "model",
                                    "created_at", "prompt_version_id"), "prompt_version": v}
                           for d, v in dets],
            "neighbours": [{**_dict(e, "similarity", "method", "cross_author"), "post": near.get(other[e.id])}
                           for e in edges],
            "clusters": list(s.scalars(select(ClusterMember.cluster_id).filter_by(post_id=post_id))),
            "decisions": _history(s, [("post", post_id)] + [("detection", d.id) for d, _ in dets]),
        }


def author_detail(url: str, author_id: int) -> dict | None:
    with _session(url) as s:
        a = s.get(Author, author_id)
        if a is None:
            return None
        posts = select(Post.id).where(Post.author_id == author_id)
        clusters = select(ClusterMember.cluster_id).where(ClusterMember.post_id.in_(posts))
        return {**_dict(a, "id", "external_id", "status", "account_created_at", "first_seen_at",
                        "sanctioned_at"),
                "post_count": s.scalar(select(func.count()).select_from(posts.subquery())),
                "posts": _posts(s, select(Post).filter_by(author_id=author_id)
                                .order_by(Post.created_at.desc())),
                "clusters": [_dict(c, "id", "size", "distinct_authors", "status")
                             for c in s.scalars(select(Cluster).where(Cluster.id.in_(clusters)))],
                "decisions": _history(s, [("author", author_id)])}


def prompt_versions(url: str) -> list[dict]:
    with _session(url) as s:
        rows = s.scalars(select(PromptVersion).order_by(PromptVersion.content_type,
                                                        PromptVersion.created_at.desc()))
        return [_dict(r, "id", "content_type", "version", "text", "sha256", "provenance", "eval_scores",
                      "is_active", "created_at", "activated_at") for r in rows]


def activate_prompt_version(url: str, version_id: int, actor: str, *, force: bool = False) -> None:
    """The same gate as ``detector prompts activate``: a version scoring worse than the active one (or
    never evaluated) is refused unless an admin forces it. Callers check the admin role first."""
    from detector.llm.profiles import ActivationRefused, activate

    with _session(url) as s:
        try:
            activate(s, version_id, actor=actor, force=force)
        except (ActivationRefused, LookupError) as err:
            raise DecisionError(str(err).replace("use --force", "tick 'force'")) from None


def metrics(url: str, since: datetime) -> dict:
    """Operations since ``since``: alert volume, LLM cost/latency, queue age and dead letters."""
    with _session(url) as s:
        calls = s.execute(select(LLMCall.created_at, LLMCall.cost_usd, LLMCall.latency_ms, LLMCall.status,
                                 LLMCall.stage, LLMCall.cache_hit)
                          .where(LLMCall.created_at >= since))
        return {"alerts": [r._asdict() for r in s.execute(select(Alert.created_at, Alert.path)
                                                           .where(Alert.created_at >= since))],
                "llm_calls": [r._asdict() for r in calls],
                "open_alerts": tuple(s.execute(select(func.count(), func.min(Alert.created_at))
                                               .where(Alert.status == "open")).one()),
                "pending_posts": tuple(s.execute(select(func.count(), func.min(Post.ingested_at))
                                                 .where(Post.status == "pending")).one()),
                "dead_letters": [_dict(d, "id", "task_name", "task_id", "error", "attempts", "created_at",
                                       "args") for d in open_dead_letters(s, limit=100)]}


def online_metrics(url: str, span: str) -> dict:
    """Per-path figures from ``detector.metrics`` (the CLI's rule) and that window's stored hourly series."""
    from detector.metrics.service import compute
    from detector.metrics.snapshots import history

    with _session(url) as s:
        return {"rows": compute(s, span=span), "history": history(s, span=span, content_type="all")}
