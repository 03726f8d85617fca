"""Storing validated posts and rejections, idempotently.

Both are plain ``INSERT ... ON CONFLICT DO NOTHING`` on a natural key, so a redelivered task, a
re-run import or two workers racing on the same post all end with one row. The caller owns the
transaction (see ``detector.db.session_scope``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from detector.db.base import utcnow
from detector.db.dialect import insert_for
from detector.posts.models import Author, Post, RejectedInput
from detector.posts.schema import PostIn, Rejection

RAW_EXCERPT_CHARS = 2_000


@dataclass
class IngestCounts:
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    new_post_ids: list[int] = field(default_factory=list)

    def add(self, other: "IngestCounts") -> None:
        self.accepted += other.accepted
        self.duplicates += other.duplicates
        self.rejected += other.rejected
        self.new_post_ids.extend(other.new_post_ids)

    def as_dict(self) -> dict[str, int]:
        return {"accepted": self.accepted, "duplicates": self.duplicates, "rejected": self.rejected}


def content_sha256(post: PostIn) -> str:
    return hashlib.sha256(f"{post.title or ''}\n{post.text}".encode("utf-8")).hexdigest()


def _author_ids(session: Session, opened: dict[str, datetime | None], now: datetime) -> dict[str, int]:
    """Upsert authors (``opened``: external id -> account creation time, when the producer knows it)."""
    if not opened:
        return {}
    rows = [{"external_id": e, "first_seen_at": now, "account_created_at": opened[e], "status": "active"}
            for e in sorted(opened)]
    session.execute(insert_for(session, Author.__table__).on_conflict_do_nothing(index_elements=["external_id"]), rows)
    known = [(e, t) for e, t in opened.items() if t is not None]
    for ext, opened_at in known:  # fill it in for authors first seen without it
        session.execute(update(Author).where(Author.external_id == ext, Author.account_created_at.is_(None))
                        .values(account_created_at=opened_at))
    found = session.execute(select(Author.external_id, Author.id).where(Author.external_id.in_(list(opened))))
    return {ext: pk for ext, pk in found}


def store_posts(session: Session, posts: list[PostIn], *, source: str) -> IngestCounts:
    """Insert posts that are new; count the rest as duplicates (same content type and id)."""
    counts = IngestCounts()
    unique: dict[tuple[str, str], PostIn] = {}
    for post in posts:
        key = (post.content_type, post.external_id)
        if key in unique:
            counts.duplicates += 1
        else:
            unique[key] = post
    if not unique:
        return counts
    now = utcnow()
    opened: dict[str, datetime | None] = {}
    for p in unique.values():
        if p.author_id:
            opened[p.author_id] = opened.get(p.author_id) or p.author_created_at
    authors = _author_ids(session, opened, now)
    rows = [{
        "content_type": p.content_type, "external_id": p.external_id,
        "author_id": authors.get(p.author_id) if p.author_id else None,
        "title": p.title, "text": p.text, "content_sha256": content_sha256(p),
        "created_at": p.created_at or now, "ingested_at": now, "region": p.region, "price": p.price,
        "image_urls": p.image_urls, "metadata": p.extra, "source": source[:512], "status": "pending",
        "attempts": 0,
    } for p in unique.values()]
    # Core, not ORM, inserts: the ORM's bulk path costs ~1 ms per row here (column names, not attributes).
    table = Post.__table__
    stmt = (insert_for(session, table).on_conflict_do_nothing(index_elements=["content_type", "external_id"])
            .returning(table.c.id))
    inserted = session.execute(stmt, rows).scalars().all()
    counts.accepted = len(inserted)
    counts.duplicates += len(unique) - len(inserted)
    counts.new_post_ids = list(inserted)
    return counts


def rejection_key(source: str, line_no: int | None, raw: bytes) -> str:
    """Same bad line of the same source → same key, so a re-run stores nothing new."""
    digest = hashlib.sha256()
    digest.update(f"{source}\x00{line_no}\x00".encode("utf-8"))
    digest.update(raw)
    return digest.hexdigest()


def store_rejections(session: Session, rejections: list[tuple[Rejection, bytes, int | None]], *,
                     source: str) -> int:
    """Record why each input was refused. Returns how many were refused (stored now or before)."""
    if not rejections:
        return 0
    rows = [{
        "dedupe_key": rejection_key(source, line_no, raw), "source": source[:512], "line_no": line_no,
        "content_type": rej.content_type, "external_id": rej.external_id, "reason_code": rej.code,
        "reason": rej.reason, "raw_excerpt": raw[:RAW_EXCERPT_CHARS * 4].decode("utf-8", "replace")
        .replace("\x00", "\ufffd")[:RAW_EXCERPT_CHARS], "raw_bytes": len(raw), "received_at": utcnow(),
    } for rej, raw, line_no in rejections]
    session.execute(insert_for(session, RejectedInput.__table__).on_conflict_do_nothing(index_elements=["dedupe_key"]),
                    rows)
    return len(rejections)
