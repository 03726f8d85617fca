"""Online metrics per path and content type, from what moderators decided.

- precision(path) = confirmed / decided among what the path flagged (alerts for ``similarity``,
  positive detections for ``llm`` and ``baseline``), with the decision in force (reverts honoured);
- recall(path) = share of sanctioned accounts (found by any path, by users' reports, or by audit
  samples) that this path had flagged: its denominator is every confirmed professional seller we
  know of, so a path cannot look complete by only counting what it found itself;
- each with a Wilson 95 % interval and its sample size.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from detector.alerts.models import Alert
from detector.metrics.stats import wilson
from detector.posts.models import Author, Post
from detector.review.models import Detection
from detector.review.service import decisions_in_force
from detector.similarity.models import ClusterMember


def compute(session: Session, *, since: datetime | None = None) -> list[dict]:
    """One row per (path, content type): precision and recall with intervals and sample sizes."""
    sanctioned = set(session.scalars(select(Author.id).where(Author.status == "sanctioned")))
    rows: list[dict] = []
    alert_decisions = {k: d.decision for k, d in decisions_in_force(session, "alert", since=since).items()}
    by_type: dict[str, list[int]] = {}
    for alert_id, content_type, cluster_id in session.execute(select(Alert.id, Alert.content_type, Alert.cluster_id)
                                                              .where(Alert.path == "similarity")):
        by_type.setdefault(content_type, []).append(alert_id)
    for content_type, alert_ids in sorted(by_type.items()):
        decided = [alert_decisions[a] for a in alert_ids if a in alert_decisions and alert_decisions[a] != "escalate"]
        flagged_authors = set(session.scalars(
            select(Post.author_id).join(ClusterMember, ClusterMember.post_id == Post.id)
            .join(Alert, Alert.cluster_id == ClusterMember.cluster_id)
            .where(Alert.content_type == content_type, Alert.path == "similarity")))
        rows.append(_row("similarity", content_type, decided, flagged_authors, sanctioned))
    detection_decisions = {k: d.decision for k, d in
                           decisions_in_force(session, "detection", since=since).items()}
    for path in ("llm", "baseline"):
        found = session.execute(select(Detection.id, Detection.content_type, Post.author_id)
                                .join(Post, Post.id == Detection.post_id)
                                .where(Detection.path == path, Detection.is_positive.is_(True))).all()
        for content_type in sorted({c for _i, c, _a in found}):
            mine = [(i, a) for i, c, a in found if c == content_type]
            decided = [detection_decisions[i] for i, _a in mine
                       if i in detection_decisions and detection_decisions[i] != "escalate"]
            rows.append(_row(path, content_type, decided, {a for _i, a in mine}, sanctioned))
    return rows


def _row(path: str, content_type: str, decided: list[str], flagged_authors: set, sanctioned: set[int]) -> dict:
    precision = wilson(sum(d == "confirm_abuse" for d in decided), len(decided))
    recall = wilson(len(sanctioned & flagged_authors), len(sanctioned))
    return {"path": path, "content_type": content_type, "precision": precision.as_dict(),
            "recall": recall.as_dict(), "flagged_accounts": len(flagged_authors - {None})}
