"""Keeping a process's vector index in step with the database, the source of truth.

An embedded index lives in each worker process. Before answering for a namespace it catches up:
it reads every processed post (with its cached embedding) newer than its cursor, minus an overlap
that covers transactions committed out of order, and upserts the ones it lacks. A restarted or
new worker thus starts empty and is complete after its first catch-up; nothing is lost. A shared
remote index (Pinecone) is written by every worker and needs no catch-up; ``detector index
rebuild`` refills it from the database after a loss.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from detector.embedding.cache import from_bytes
from detector.index.base import VectorIndex, VectorRecord
from detector.posts.models import Post
from detector.similarity.models import Embedding

# Re-read a short overlap on every catch-up (transactions commit out of order by seconds), and a long
# one now and then (a slow transaction, clock skew between workers): bounded work per batch, and a
# post committed late is still indexed within RECONCILE_EVERY.
OVERLAP = timedelta(seconds=15)
RECONCILE_OVERLAP = timedelta(minutes=10)
RECONCILE_EVERY = timedelta(minutes=5)
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def record_for(post_id: int, author_id: int | None, created_at: datetime, vector) -> VectorRecord:
    return VectorRecord(str(post_id), vector, {"post_id": post_id, "author_id": str(author_id or ""),
                                               "created_at": int(created_at.timestamp())})


class IndexCache:
    """One process's index plus a per-namespace catch-up cursor."""

    def __init__(self, index: VectorIndex, model: str, *, local: bool):
        self.index, self.model, self.local = index, model, local
        self._cursor: dict[str, datetime] = {}
        self._present: dict[str, set[str]] = {}
        self._reconciled: dict[str, float] = {}

    def add(self, namespace: str, records: list[VectorRecord]) -> None:
        self.index.upsert(namespace, records)
        self._present.setdefault(namespace, set()).update(r.id for r in records)

    def catch_up(self, session: Session, namespace: str, batch: int = 5_000) -> int:
        """Upsert what the database has and this index lacks. Returns how many records were added."""
        if not self.local:
            return 0
        present = self._present.setdefault(namespace, set())
        overlap = OVERLAP
        if time.monotonic() - self._reconciled.get(namespace, 0.0) >= RECONCILE_EVERY.total_seconds():
            overlap, self._reconciled[namespace] = RECONCILE_OVERLAP, time.monotonic()
        since = self._cursor.get(namespace, _EPOCH) - overlap
        newest = self._cursor.get(namespace, _EPOCH)
        missing: list[int] = []
        # Ids first (cheap): the overlap re-reads recent posts, and most of them are already here.
        for post_id, processed_at in session.execute(
                select(Post.id, Post.processed_at).where(Post.content_type == namespace, Post.status == "processed",
                                                         Post.processed_at >= since)):
            newest = max(newest, processed_at)
            if str(post_id) not in present:
                missing.append(post_id)
        added = 0
        for start in range(0, len(missing), batch):
            rows = session.execute(
                select(Post.id, Post.author_id, Post.created_at, Embedding.vector)
                .join(Embedding, (Embedding.text_sha256 == Post.normalized_sha256) & (Embedding.model == self.model))
                .where(Post.id.in_(missing[start:start + batch])))
            records = [record_for(pid, author, created, from_bytes(raw)) for pid, author, created, raw in rows]
            self.add(namespace, records)
            added += len(records)
        self._cursor[namespace] = newest
        return added
