"""Stored metric snapshots, so precision and recall can be read as a series over time.

A snapshot row is one (time bucket, span, path, content type, prompt version) figure. ``key`` is unique
and built from those parts, so the periodic task can run twice for the same bucket (Celery delivers at
least once; beat can fire late) and still store each figure once.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from detector.db.base import Base, BigIntPK, utcnow


class MetricSnapshot(Base):
    __tablename__ = "metric_snapshots"
    __table_args__ = (Index("ix_metric_snapshots_series", "path", "content_type", "span", "bucket"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    key: Mapped[str] = mapped_column(String(256), unique=True)
    bucket: Mapped[datetime]  # start of the period the snapshot stands for (e.g. the hour)
    span: Mapped[str] = mapped_column(String(16))  # decisions counted over: 1d | 7d | 30d | all
    path: Mapped[str] = mapped_column(String(32))
    content_type: Mapped[str] = mapped_column(String(64))
    prompt_version_id: Mapped[int | None] = mapped_column(ForeignKey("prompt_versions.id"))
    precision_hits: Mapped[int] = mapped_column(default=0)
    precision_n: Mapped[int] = mapped_column(default=0)
    recall_hits: Mapped[int] = mapped_column(default=0)
    recall_n: Mapped[int] = mapped_column(default=0)
    payload: Mapped[dict] = mapped_column(default=dict)  # the full row as `detector metrics --json` prints it
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
