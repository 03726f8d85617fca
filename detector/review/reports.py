"""Users' reports: "this post looks like a professional seller", sent to the moderators' review queue.

A report is stored as ``Detection(path="report", mode="report", is_positive=True)``: the reporter
says "seller", a moderator decides. It reaches the queue like a detection, and a confirmed report
sanctions the author, so accounts that only users noticed count in every path's recall denominator
(``detector.metrics``). One report per (post, reporter): a resent task or a second click by the same
person stores nothing new (``dedupe_key`` holds a hash of the reporter, so any name fits the key).

Entry points (thin adapters): the Celery task ``detector.report_post`` for the marketplace backend,
and ``detector report POST_ID`` on the command line.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from detector.db.dialect import insert_for
from detector.posts.models import Post
from detector.review.models import Detection
from detector.settings import CONTENT_TYPE_RE

REPORT_PATH = "report"
MAX_REPORTER = 128
MAX_REASON = 1000


class ReportError(ValueError):
    """The report cannot be stored; ``code`` says why (``invalid`` input or ``unknown_post``)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Report:
    content_type: str
    post_id: str  # the marketplace's own id of the post (as ingested)
    reporter: str
    reason: str


def _text(payload: dict, key: str, limit: int, *, required: bool) -> str:
    value = payload.get(key)
    if value is None or value == "":
        if required:
            raise ReportError("invalid", f"field '{key}' is required")
        return ""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ReportError("invalid", f"field '{key}' must be a string")
    value = str(value).strip()
    if not value and required:
        raise ReportError("invalid", f"field '{key}' is empty")
    if len(value) > limit or any(ord(c) < 32 and c not in "\t\n" for c in value):
        raise ReportError("invalid", f"field '{key}' must be at most {limit} characters, "
                                     "without control characters")
    return value


def parse_report(payload, *, default_content_type: str) -> Report:
    """Validate a report at the edge: ``{"content_type"?, "post_id", "reporter", "reason"?}``."""
    if not isinstance(payload, dict):
        raise ReportError("invalid", f"a report is a JSON object, got {type(payload).__name__}")
    content_type = _text(payload, "content_type", 64, required=False) or default_content_type
    if not CONTENT_TYPE_RE.match(content_type):
        raise ReportError("invalid", f"content_type {content_type[:64]!r} must be lowercase letters, digits, "
                                     "'_' or '-'")
    return Report(content_type=content_type, post_id=_text(payload, "post_id", 256, required=True),
                  reporter=_text(payload, "reporter", MAX_REPORTER, required=True),
                  reason=_text(payload, "reason", MAX_REASON, required=False))


def report_post(session: Session, report: Report, *, now: datetime | None = None) -> tuple[int, bool]:
    """Queue the reported post for review; return (detection id, whether this call created it)."""
    post = session.scalar(select(Post).where(Post.content_type == report.content_type,
                                             Post.external_id == report.post_id))
    if post is None:
        raise ReportError("unknown_post", f"no {report.content_type} post with id {report.post_id!r} "
                                          "(not ingested yet?)")
    who = hashlib.sha256(report.reporter.encode()).hexdigest()[:32]
    key = f"report:{post.id}:{who}"
    reason = f"reported by {report.reporter}" + (f": {report.reason}" if report.reason else " (no reason given)")
    inserted = session.scalars(insert_for(session, Detection).values(
        dedupe_key=key, content_type=post.content_type, path=REPORT_PATH, mode="report", post_id=post.id,
        is_positive=True, reason=reason, created_at=now or datetime.now(timezone.utc),
    ).on_conflict_do_nothing(index_elements=["dedupe_key"]).returning(Detection.id)).all()
    if inserted:
        return inserted[0], True
    return session.scalar(select(Detection.id).where(Detection.dedupe_key == key)), False
