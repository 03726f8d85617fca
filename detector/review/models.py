"""Detections and moderator decisions.

Decisions are append-only: a change of mind is a new row that ``reverts_id`` the old one, so the
metrics can be recomputed for any past moment and the audit trail is complete.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from detector.db.base import Base, BigIntPK, utcnow


class Detection(Base):
    """One path's verdict on a post or a cluster. ``dedupe_key`` keeps retried tasks idempotent."""

    __tablename__ = "detections"
    __table_args__ = (Index("ix_detections_path_created_at", "path", "created_at"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(256), unique=True)
    content_type: Mapped[str] = mapped_column(String(64))
    path: Mapped[str] = mapped_column(String(32))  # similarity | llm | baseline | minhash
    mode: Mapped[str] = mapped_column(String(16), default="active")  # active | monitor
    post_id: Mapped[int | None] = mapped_column(ForeignKey("posts.id"), index=True)
    cluster_id: Mapped[int | None] = mapped_column(ForeignKey("clusters.id"), index=True)
    is_positive: Mapped[bool] = mapped_column(Boolean)
    score: Mapped[float | None] = mapped_column(Float)
    reason: Mapped[str] = mapped_column(Text)
    prompt_version_id: Mapped[int | None] = mapped_column(ForeignKey("prompt_versions.id"))
    model: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ModeratorDecision(Base):
    __tablename__ = "moderator_decisions"
    __table_args__ = (Index("ix_moderator_decisions_subject", "subject_type", "subject_id"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    subject_type: Mapped[str] = mapped_column(String(32))  # alert | detection | cluster | post | author
    subject_id: Mapped[int]
    decision: Mapped[str] = mapped_column(String(32))  # confirm_abuse | benign | escalate | revert
    moderator: Mapped[str] = mapped_column(String(128))
    note: Mapped[str | None] = mapped_column(Text)
    reverts_id: Mapped[int | None] = mapped_column(ForeignKey("moderator_decisions.id"))
    source: Mapped[str] = mapped_column(String(32), default="admin_ui")  # admin_ui | slack | cli
    effects: Mapped[dict] = mapped_column(default=dict)  # what it changed, so a revert can undo exactly that
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
