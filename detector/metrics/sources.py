"""What the online metrics are counted from, read in one pass and handed over as plain values.

Three facts, all from the database as it is now:

- **flags**: every alert (of any path) and every detection that says "professional seller"
  (``is_positive``) of any detection path, plus every report and audit item (``SOURCES``: inputs to
  review that come from outside the detection paths), each with the accounts it points at (the
  cluster's authors, or the post's author) and the decision in force on it (reverts honoured);
- **sanctioned accounts**: ``Author.status == "sanctioned"`` (set by confirm decisions, lifted by
  reverts) with when, and the content types they posted in;
- **credits**: which decision sanctioned each account (the path of the alert or detection it was
  taken on, ``similarity`` for a cluster, ``manual`` for a post or author page), i.e. which path
  *caught* the account.

The arithmetic lives in ``detector.metrics.service``; keeping the queries here lets both be read
on their own.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from detector.alerts.models import Alert
from detector.llm.models import PromptVersion
from detector.posts.models import Author, Post
from detector.review.models import Detection
from detector.review.queue import for_review
from detector.review.service import decisions_in_force
from detector.similarity.models import ClusterMember

MANUAL = "manual"
CHUNK = 5000  # ids per IN (...) list: well under SQLite's bound-parameter limit


@dataclass(frozen=True)
class Flag:
    path: str
    content_type: str
    version_id: int | None
    created_at: datetime
    authors: frozenset[int]
    decision: str | None  # confirm_abuse | benign | escalate, or None while undecided


@dataclass
class Facts:
    flags: list[Flag] = field(default_factory=list)
    sanctioned: dict[int, datetime | None] = field(default_factory=dict)
    posted_in: dict[int, set[str]] = field(default_factory=dict)  # sanctioned author -> content types
    judged_by: dict[int, set[int]] = field(default_factory=dict)  # prompt version -> sanctioned authors judged
    credit: dict[int, tuple[str, int | None]] = field(default_factory=dict)  # author -> (path, version)
    versions: dict[int, str] = field(default_factory=dict)  # prompt version id -> label


def _chunks(ids) -> list[list[int]]:
    ids = sorted(ids)
    return [ids[i:i + CHUNK] for i in range(0, len(ids), CHUNK)]


def _cluster_authors(session: Session, cluster_ids) -> dict[int, set[int]]:
    out: dict[int, set[int]] = defaultdict(set)
    for chunk in _chunks(cluster_ids):
        rows = session.execute(select(ClusterMember.cluster_id, Post.author_id)
                               .join(Post, Post.id == ClusterMember.post_id)
                               .where(ClusterMember.cluster_id.in_(chunk), Post.author_id.is_not(None)))
        for cluster_id, author_id in rows:
            out[cluster_id].add(author_id)
    return out


def load(session: Session) -> Facts:
    """Everything ``compute`` needs, for all time; windows are applied afterwards, in memory."""
    facts = Facts()
    alert_decisions = decisions_in_force(session, "alert")
    detection_decisions = decisions_in_force(session, "detection")
    alerts = session.execute(select(Alert.id, Alert.path, Alert.content_type, Alert.created_at, Alert.cluster_id,
                                    Post.author_id).outerjoin(Post, Post.id == Alert.post_id)).all()
    detections = session.execute(
        select(Detection.id, Detection.path, Detection.content_type, Detection.prompt_version_id,
               Detection.created_at, Detection.cluster_id, Post.author_id)
        .outerjoin(Post, Post.id == Detection.post_id)
        .where(for_review())).all()
    members = _cluster_authors(session, {r.cluster_id for r in [*alerts, *detections] if r.cluster_id})

    def authors(row) -> frozenset[int]:
        found = set(members.get(row.cluster_id, ())) if row.cluster_id else set()
        return frozenset(found | ({row.author_id} if row.author_id is not None else set()))

    def decision(decisions, subject_id) -> str | None:
        d = decisions.get(subject_id)
        return d.decision if d else None

    facts.flags = [Flag(a.path, a.content_type, None, a.created_at, authors(a), decision(alert_decisions, a.id))
                   for a in alerts]
    facts.flags += [Flag(d.path, d.content_type, d.prompt_version_id, d.created_at, authors(d),
                         decision(detection_decisions, d.id)) for d in detections]

    facts.sanctioned = dict(session.execute(select(Author.id, Author.sanctioned_at)
                                            .where(Author.status == "sanctioned")).all())
    for chunk in _chunks(facts.sanctioned):
        for author_id, content_type in session.execute(select(Post.author_id, Post.content_type).distinct()
                                                       .where(Post.author_id.in_(chunk))):
            facts.posted_in.setdefault(author_id, set()).add(content_type)
        for version_id, author_id in session.execute(
                select(Detection.prompt_version_id, Post.author_id).distinct()
                .join(Post, Post.id == Detection.post_id)
                .where(Detection.prompt_version_id.is_not(None), Post.author_id.in_(chunk))):
            facts.judged_by.setdefault(version_id, set()).add(author_id)
    facts.versions = dict(session.execute(select(PromptVersion.id, PromptVersion.version)).all())
    facts.credit = _credits(session, alert_decisions, detection_decisions, {a.id: a.path for a in alerts})
    return facts


def _credits(session: Session, alert_decisions: dict, detection_decisions: dict,
             alert_path: dict[int, str]) -> dict[int, tuple[str, int | None]]:
    """Per sanctioned account, the path whose confirmed flag sanctioned it (the newest such decision).

    ``alert_path``: every alert's path, already read by ``load``."""
    confirmed = {"alert": alert_decisions, "detection": detection_decisions,
                 **{kind: decisions_in_force(session, kind) for kind in ("cluster", "post", "author")}}
    confirmed = {kind: {i: d for i, d in rows.items() if d.decision == "confirm_abuse"
                        and (d.effects or {}).get("sanctioned_author_ids")} for kind, rows in confirmed.items()}
    detection_of: dict[int, tuple[str, int | None]] = {}
    for chunk in _chunks(confirmed["detection"]):
        for det_id, path, version_id in session.execute(select(Detection.id, Detection.path,
                                                               Detection.prompt_version_id)
                                                        .where(Detection.id.in_(chunk))):
            detection_of[det_id] = (path, version_id)
    credit: dict[int, tuple[int, tuple[str, int | None]]] = {}
    for kind, rows in confirmed.items():
        for subject_id, d in rows.items():
            who = {"alert": (alert_path.get(subject_id, "similarity"), None),
                   "detection": detection_of.get(subject_id, (MANUAL, None)),
                   "cluster": ("similarity", None)}.get(kind, (MANUAL, None))
            for author_id in d.effects["sanctioned_author_ids"]:
                if author_id not in credit or credit[author_id][0] < d.id:
                    credit[author_id] = (d.id, who)
    return {author_id: who for author_id, (_id, who) in credit.items()}
