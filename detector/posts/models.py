"""Tables owned by the posts domain.

A post is identified by ``(content_type, external_id)``: the marketplace's own id inside one
namespace, so a redelivered or re-imported post is the same row. Every input that could not become a
post is kept in ``rejected_inputs`` with a machine code and a sentence a human can act on.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from detector.db.base import Base, BigIntPK, utcnow


class Author(Base):
    """A marketplace account. Sanctions from moderators land here."""

    __tablename__ = "authors"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    external_id: Mapped[str] = mapped_column(String(256), unique=True)
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    account_created_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(32), default="active")  # active | sanctioned
    sanctioned_at: Mapped[datetime | None]


class Post(Base):
    """One post as handed to the system, and where it is in the pipeline.

    ``status`` is the pipeline state: ``pending`` until the similar-content path has processed it,
    then ``processed``; ``failed`` carries ``status_reason`` after retries ran out (dead letter).
    """

    __tablename__ = "posts"
    __table_args__ = (
        UniqueConstraint("content_type", "external_id"),
        Index("ix_posts_content_type_created_at", "content_type", "created_at"),
        Index("ix_posts_status", "status"),
        Index("ix_posts_content_type_processed_at", "content_type", "processed_at"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    content_type: Mapped[str] = mapped_column(String(64))
    external_id: Mapped[str] = mapped_column(String(256))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("authors.id"), index=True)
    title: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    content_sha256: Mapped[str] = mapped_column(String(64))
    normalized_text: Mapped[str | None] = mapped_column(Text)
    normalized_sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime]
    ingested_at: Mapped[datetime] = mapped_column(default=utcnow)
    region: Mapped[str | None] = mapped_column(String(256))
    price: Mapped[Decimal | None] = mapped_column(Numeric(18, 2))
    image_urls: Mapped[list] = mapped_column(default=list)
    extra: Mapped[dict] = mapped_column("metadata", default=dict)
    source: Mapped[str] = mapped_column(String(512))
    status: Mapped[str] = mapped_column(String(32), default="pending")
    status_reason: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(default=0)
    processed_at: Mapped[datetime | None]

    author: Mapped[Author | None] = relationship()


class RejectedInput(Base):
    """Input refused at the edge. ``dedupe_key`` makes re-reading the same file add nothing."""

    __tablename__ = "rejected_inputs"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(64), unique=True)
    source: Mapped[str] = mapped_column(String(512))
    line_no: Mapped[int | None]
    content_type: Mapped[str | None] = mapped_column(String(64))
    external_id: Mapped[str | None] = mapped_column(String(256))
    reason_code: Mapped[str] = mapped_column(String(64), index=True)
    reason: Mapped[str] = mapped_column(Text)
    raw_excerpt: Mapped[str] = mapped_column(Text)
    raw_bytes: Mapped[int]
    received_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
