"""Prompt versions and the log of every LLM call (tokens, cost, latency) for cost control."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from detector.db.base import Base, BigIntPK, utcnow


class PromptVersion(Base):
    """An immutable generated profile; at most one is active per content type."""

    __tablename__ = "prompt_versions"
    # The partial unique index makes "one active version per content type" a database fact, so two
    # concurrent activations cannot both win (the loser's transaction fails and is retried or reported).
    __table_args__ = (UniqueConstraint("content_type", "version"),
                      Index("uq_prompt_versions_one_active", "content_type", unique=True,
                            sqlite_where=text("is_active"), postgresql_where=text("is_active")))

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    content_type: Mapped[str] = mapped_column(String(64))
    version: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    provenance: Mapped[dict] = mapped_column(default=dict)
    eval_scores: Mapped[dict] = mapped_column(default=dict)
    is_active: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    activated_at: Mapped[datetime | None]


class LLMCall(Base):
    __tablename__ = "llm_calls"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    stage: Mapped[str] = mapped_column(String(16))  # profile | classify
    post_id: Mapped[int | None] = mapped_column(ForeignKey("posts.id"), index=True)
    prompt_version_id: Mapped[int | None] = mapped_column(ForeignKey("prompt_versions.id"))
    model: Mapped[str] = mapped_column(String(128))
    prompt_tokens: Mapped[int] = mapped_column(default=0)
    completion_tokens: Mapped[int] = mapped_column(default=0)
    cost_usd: Mapped[float] = mapped_column(Float, default=0.0)
    latency_ms: Mapped[float] = mapped_column(Float, default=0.0)
    cache_hit: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16))  # ok | error | refused
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


# A batch in one of these holds its posts: they are not sent again (online or in another batch) until
# it is closed (ingested, or failed/expired/cancelled, which returns its unanswered posts to the pool).
BATCH_OPEN = ("preparing", "submitted", "validating", "in_progress", "finalizing", "completed", "cancelling")
BATCH_CLOSED = ("ingested", "failed", "expired", "cancelled")


class LLMBatch(Base):
    """One submission to the provider's Batch API (backfills: half the price, results within 24 h).

    The row is written before the upload is submitted (status ``preparing``), so a worker that dies
    between the two leaves a visible row instead of an orphaned provider batch; ``provider_batch_id``
    is unique so a retried submission cannot record the same provider batch twice.
    """

    __tablename__ = "llm_batches"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    content_type: Mapped[str] = mapped_column(String(64))
    prompt_version_id: Mapped[int] = mapped_column(ForeignKey("prompt_versions.id"))
    model: Mapped[str] = mapped_column(String(128))
    # preparing | submitted | validating | in_progress | finalizing | completed | failed | expired
    # | cancelling | cancelled | ingested
    status: Mapped[str] = mapped_column(String(32), default="preparing", index=True)
    provider_batch_id: Mapped[str | None] = mapped_column(String(128), unique=True)
    input_file_id: Mapped[str | None] = mapped_column(String(128))
    output_file_id: Mapped[str | None] = mapped_column(String(128))
    error_file_id: Mapped[str | None] = mapped_column(String(128))
    request_count: Mapped[int] = mapped_column(default=0)
    counts: Mapped[dict] = mapped_column(default=dict)  # what ingestion stored: detections, refused, invalid, failed
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    completed_at: Mapped[datetime | None]


class LLMBatchItem(Base):
    """A post inside a batch; while its batch is open the post is not sent again by the backfill."""

    __tablename__ = "llm_batch_items"

    batch_id: Mapped[int] = mapped_column(ForeignKey("llm_batches.id", ondelete="CASCADE"), primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id"), primary_key=True, index=True)
    custom_id: Mapped[str] = mapped_column(String(64))
