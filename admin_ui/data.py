"""The admin UI's only door to ``detector``: every read and write the pages need, as plain functions.

Each function takes the database URL, opens one ``session_scope`` (one unit of work) and returns
plain dicts, never ORM rows, so pages cannot lazy-load or mutate anything. Decisions go through
``detector.review.service`` (append-only, audited), then ``mark_for_update`` so the sweeper edits
the alert's Slack message. Database failures become ``BackendUnavailable`` with a sentence a
moderator can act on; the app shows it in an error box instead of a traceback.
"""

from __future__ import annotations

from collections import Counter
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
from detector.review.service import DecisionError, decisions_in_force, record_decision, revert_decision
from detector.settings import get_settings, redact_url
from detector.similarity.models import AllowlistEntry, Cluster, ClusterEvent, ClusterMember, ClusterSnapshot
from detector.similarity.models import NearDuplicateEdge as Edge

STATUS_OF = {"confirm_abuse": "confirmed", "benign": "benign", "escalate": "escalated"}
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


def _fresh_authors(s: Session, cluster_ids) -> dict[int, int]:
    """Per cluster, how many of its authors a 'confirm abuse' would sanction now."""
    query = (select(ClusterMember.cluster_id, func.count(func.distinct(Post.author_id)))
             .join(Post, Post.id == ClusterMember.post_id).join(Author, Author.id == Post.author_id)
             .where(ClusterMember.cluster_id.in_(list(cluster_ids)), Author.status != "sanctioned"))
    return dict(s.execute(query.group_by(ClusterMember.cluster_id)).all())


def content_types(url: str) -> list[str]:
    with _session(url) as s:
        return sorted(s.scalars(union(*(select(m.content_type) for m in (Alert, Detection, PromptVersion)))))


def list_queue(url: str, *, content_types=None, paths=None, statuses=("open",), since: datetime | None = None,
               until: datetime | None = None, sort: str = "newest", limit: int = 100) -> list[dict]:
    """Alerts, and positive LLM detections (whose status comes from their decisions), filtered."""
    with _session(url) as s:
        q = (select(Alert, Cluster.size, Cluster.distinct_authors).where(Alert.status.in_(list(statuses)))
             .outerjoin(Cluster, Cluster.id == Alert.cluster_id))
        dq = (select(Detection, Post.text).join(Post, Post.id == Detection.post_id)
              .where(Detection.path == "llm", Detection.is_positive.is_(True)))
        for a_col, d_col, wanted in ((Alert.content_type, Detection.content_type, content_types),
                                     (Alert.path, Detection.path, paths)):
            if wanted:
                q, dq = q.where(a_col.in_(list(wanted))), dq.where(d_col.in_(list(wanted)))
        if since is not None:
            q, dq = q.where(Alert.created_at >= since), dq.where(Detection.created_at >= since)
        if until is not None:
            q, dq = q.where(Alert.created_at < until), dq.where(Detection.created_at < until)
        order = func.coalesce(Cluster.size, 1).desc() if sort == "largest" else Alert.created_at.desc()
        items = _alert_items(s, s.execute(q.order_by(order, Alert.id.desc()).limit(limit)).all())
        detections = s.execute(dq.order_by(Detection.created_at.desc()).limit(limit)).all()
        decided = decisions_in_force(s, "detection", [d.id for d, _ in detections])
        unsanctioned = set(s.scalars(select(Post.id).join(Author, Author.id == Post.author_id).where(
            Post.id.in_([d.post_id for d, _ in detections if d.post_id]), Author.status != "sanctioned")))
        for det, text in detections:
            d = decided.get(det.id)
            fields = _dict(det, "id", "content_type", "path", "created_at", "cluster_id", "post_id", "score")
            item = {"kind": "detection", **fields, "status": STATUS_OF[d.decision] if d else "open",
                    "size": 1, "distinct_authors": 1, "growth": {}, "new_account_share": None,
                    "rule": det.reason, "sample": text, "to_sanction": int(det.post_id in unsanctioned),
                    "decision_id": d and d.id,
                    "decided_by": d and d.moderator}
            if item["status"] in statuses:
                items.append(item)
    key = (lambda i: (i["size"], i["created_at"])) if sort == "largest" else (lambda i: i["created_at"])
    return sorted(items, key=key, reverse=True)[:limit]


def _alert_items(s: Session, rows) -> list[dict]:
    fresh = _fresh_authors(s, {a.cluster_id for a, *_ in rows if a.cluster_id})
    done_posts = set(s.scalars(select(Post.id).join(Author, Author.id == Post.author_id).where(
        Post.id.in_([a.post_id for a, *_ in rows if a.post_id]), Author.status == "sanctioned")))
    decided = decisions_in_force(s, "alert", [a.id for a, *_ in rows])
    items = []
    for alert, size, authors in rows:
        summary, d = alert.summary or {}, decided.get(alert.id)
        to_sanction = (fresh.get(alert.cluster_id, 0) if alert.cluster_id
                       else int(alert.post_id is not None and alert.post_id not in done_posts))
        items.append({"kind": "alert", **_dict(alert, "id", "content_type", "path", "status", "created_at",
                                                "cluster_id", "post_id"),
                      "size": size or summary.get("size") or 1, "score": None,
                      "distinct_authors": authors or summary.get("distinct_authors") or 1,
                      "growth": summary.get("growth") or {},
                      "new_account_share": summary.get("new_account_share"),
                      "rule": summary.get("rule") or alert.rule, "to_sanction": to_sanction,
                      "sample": str(((summary.get("samples") or [{}])[0]).get("text") or ""),
                      "decision_id": d and d.id, "decided_by": d and d.moderator})
    return items


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
            "to_sanction": _fresh_authors(s, [cluster_id]).get(cluster_id, 0),
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
    """Alert volume, decisions per path, LLM cost/latency, queue age and dead letters since ``since``."""
    with _session(url) as s:
        subjects = {kind: set(s.scalars(select(Decision.subject_id).filter_by(subject_type=kind).where(
            Decision.created_at >= since))) for kind in ("alert", "detection", "cluster")}
        path_of = {"alert": dict(s.execute(select(Alert.id, Alert.path).where(
                       Alert.id.in_(subjects["alert"]))).all()),
                   "detection": dict(s.execute(select(Detection.id, Detection.path).where(
                       Detection.id.in_(subjects["detection"]))).all())}  # cluster decisions: similarity
        per_path = Counter((path_of.get(kind, {}).get(sid, "similarity"), d.decision)
                           for kind, ids in subjects.items() for sid, d in decisions_in_force(s, kind, ids).items())
        calls = s.execute(select(LLMCall.created_at, LLMCall.cost_usd, LLMCall.latency_ms, LLMCall.status)
                          .where(LLMCall.created_at >= since))
        dead = open_dead_letters(s, limit=100)
        return {"alerts": [r._asdict() for r in s.execute(select(Alert.created_at, Alert.path)
                                                           .where(Alert.created_at >= since))],
                "decisions": [{"path": p, "decision": d, "count": n}
                              for (p, d), n in sorted(per_path.items())],
                "llm_calls": [r._asdict() for r in calls],
                "open_alerts": tuple(s.execute(select(func.count(), func.min(Alert.created_at))
                                               .where(Alert.status == "open")).one()),
                "pending_posts": tuple(s.execute(select(func.count(), func.min(Post.ingested_at))
                                                 .where(Post.status == "pending")).one()),
                "dead_letters": [_dict(d, "id", "task_name", "task_id", "error", "attempts", "created_at",
                                       "args") for d in dead]}
