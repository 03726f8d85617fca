"""Stored snapshots of the online metrics, so precision and recall can be read as a series.

``take_snapshot`` stores ``compute``'s rows for every window (``SPANS``) under the hour they were
taken in. The row key is ``bucket|span|path|content type|prompt version``, unique in the table, and
the insert ignores a key already there: a duplicate run in the same hour (at-least-once delivery, a
late beat, a manual ``detector metrics snapshot``) stores nothing, and the first figures of the hour
stand.
"""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from detector.db.dialect import insert_for
from detector.metrics.models import MetricSnapshot
from detector.metrics.service import SPANS, compute_spans


def bucket_of(now: datetime) -> datetime:
    return now.astimezone(timezone.utc).replace(minute=0, second=0, microsecond=0)


def snapshot_key(bucket: datetime, row: dict) -> str:
    version = row["prompt_version_id"] if row["prompt_version_id"] is not None else "-"
    return f"{bucket:%Y-%m-%dT%H:00Z}|{row['span']}|{row['path']}|{row['content_type']}|{version}"


def take_snapshot(session: Session, now: datetime | None = None) -> int:
    """Store this hour's rows for every window; return how many were new (0 on a repeat run)."""
    now = now or datetime.now(timezone.utc)
    bucket = bucket_of(now)
    values = [{"key": snapshot_key(bucket, row), "bucket": bucket, "span": span, "path": row["path"],
               "content_type": row["content_type"], "prompt_version_id": row["prompt_version_id"],
               "precision_hits": row["precision"]["hits"], "precision_n": row["precision"]["n"],
               "recall_hits": row["recall"]["hits"], "recall_n": row["recall"]["n"], "payload": row,
               "created_at": now}
              for span, rows in compute_spans(session, list(SPANS), now=now).items() for row in rows]
    stored = 0
    for start in range(0, len(values), 500):
        stmt = insert_for(session, MetricSnapshot).values(values[start:start + 500])
        stored += len(session.scalars(stmt.on_conflict_do_nothing(index_elements=["key"])
                                      .returning(MetricSnapshot.id)).all())
    return stored


def history(session: Session, *, span: str = "7d", path: str | None = None, content_type: str | None = None,
            prompt_version_id: int | None = None, since: datetime | None = None, limit: int = 5000) -> list[dict]:
    """Stored rows, oldest first: each is ``compute``'s row (``payload``) plus its ``bucket``.

    ``path``/``content_type`` None means every one; ``prompt_version_id`` None means the rows that
    are not per prompt version.
    """
    query = select(MetricSnapshot).where(MetricSnapshot.span == span)
    if path is not None:
        query = query.where(MetricSnapshot.path == path)
    if content_type is not None:
        query = query.where(MetricSnapshot.content_type == content_type)
    query = query.where(MetricSnapshot.prompt_version_id.is_(None) if prompt_version_id is None
                        else MetricSnapshot.prompt_version_id == prompt_version_id)
    if since is not None:
        query = query.where(MetricSnapshot.bucket >= since)
    newest_first = query.order_by(MetricSnapshot.bucket.desc(), MetricSnapshot.id.desc()).limit(limit)
    rows = session.scalars(newest_first).all()
    return [{**r.payload, "bucket": r.bucket} for r in reversed(rows)]
