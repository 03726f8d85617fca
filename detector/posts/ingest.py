"""The ingest flow: a stream of raw JSONL lines (a file of any size, or a task's posts) into the store.

Lines are read as bytes and validated one by one; valid posts and rejections of a batch are
written in one transaction, so memory stays flat and a crash loses at most the uncommitted batch,
which a re-run then adds (ingest is idempotent).

Producers' tasks hand over decoded JSON instead: one post (``ingest_record``) or a list of up to
``MAX_TASK_BATCH`` (``ingest_batch``), both through ``ingest_records``. A batch's rejections are
keyed by position in the message, so a redelivered message stores nothing new.
"""

from __future__ import annotations

import json
from contextlib import AbstractContextManager
from typing import BinaryIO, Callable, Iterable, Iterator

from sqlalchemy.orm import Session

from detector.posts.schema import PostIn, Rejection, parse_line, validate_record
from detector.posts.service import IngestCounts, store_posts, store_rejections
from detector.settings import Settings

SessionFactory = Callable[[], AbstractContextManager[Session]]
MAX_TASK_BATCH = 500  # records per ``detector.ingest_posts`` message: one transaction, a bounded message


def iter_lines(stream: BinaryIO) -> Iterator[tuple[int, bytes]]:
    """Numbered raw lines, blank ones skipped (they are not posts), line endings removed."""
    for line_no, line in enumerate(stream, start=1):
        line = line.rstrip(b"\r\n")
        if line.strip():
            yield line_no, line


def ingest_lines(lines: Iterable[tuple[int | None, bytes]], *, settings: Settings, session_factory: SessionFactory,
                 source: str, content_type: str | None = None,
                 on_batch: Callable[[IngestCounts, int], None] | None = None) -> IngestCounts:
    """Validate and store lines in batches; ``on_batch(counts, bytes_read)`` reports progress."""
    total = IngestCounts()
    default_ct = content_type or settings.default_content_type
    posts: list[PostIn] = []
    rejections: list[tuple[Rejection, bytes, int | None]] = []
    read = 0

    def flush() -> None:
        with session_factory() as session:
            batch = store_posts(session, posts, source=source)
            batch.rejected = store_rejections(session, rejections, source=source)
        total.add(batch)
        posts.clear()
        rejections.clear()
        if on_batch:
            on_batch(batch, read)

    for line_no, raw in lines:
        read += len(raw) + 1
        item = parse_line(raw, default_content_type=default_ct, max_text_chars=settings.max_text_chars,
                          max_record_bytes=settings.max_record_bytes)
        if isinstance(item, Rejection):
            rejections.append((item, raw, line_no))
        else:
            posts.append(item)
        if len(posts) + len(rejections) >= settings.ingest_batch_size:
            flush()
    if posts or rejections:
        flush()
    return total


def ingest_record(record: object, *, settings: Settings, session: Session, source: str) -> IngestCounts:
    """One post from a producer (already decoded JSON), as the Celery task receives it."""
    return ingest_records([record], settings=settings, session=session, source=source, numbered=False)


def ingest_batch(records: object, *, settings: Settings, session: Session, source: str) -> IngestCounts:
    """A producer's list of posts (``detector.ingest_posts``); any other message is one rejection."""
    if isinstance(records, list) and len(records) <= MAX_TASK_BATCH:
        return ingest_records(records, settings=settings, session=session, source=source)
    if isinstance(records, list):
        bad = Rejection("batch_too_large", f"a batch holds at most {MAX_TASK_BATCH} posts, got "
                        f"{len(records):,}; nothing of it was stored: send smaller batches")
    else:
        bad = Rejection("not_a_list", "a batch of posts must be a JSON array of post objects")
    return IngestCounts(rejected=store_rejections(session, [(bad, _raw_of(records), None)], source=source))


def ingest_records(records: list[object], *, settings: Settings, session: Session, source: str,
                   numbered: bool = True) -> IngestCounts:
    """Validate each record on its own and store posts and rejections in the caller's transaction.

    ``numbered``: rejections carry their position (1-based) as ``line_no``, which tells two equal
    bad records of one message apart; a single post keeps ``None``, as it always has.
    """
    posts: list[PostIn] = []
    rejections: list[tuple[Rejection, bytes, int | None]] = []
    for position, record in enumerate(records, start=1):
        item = validate_record(record, default_content_type=settings.default_content_type,
                               max_text_chars=settings.max_text_chars)
        raw = _raw_of(record)
        if isinstance(item, PostIn) and len(raw) > settings.max_record_bytes:
            item = Rejection("too_large", f"the record is {len(raw):,} bytes; the limit is "
                             f"{settings.max_record_bytes:,}", external_id=item.external_id,
                             content_type=item.content_type)
        if isinstance(item, Rejection):
            rejections.append((item, raw, position if numbered else None))
        else:
            posts.append(item)
    counts = store_posts(session, posts, source=source)
    counts.rejected = store_rejections(session, rejections, source=source)
    return counts


def _raw_of(record: object) -> bytes:
    try:
        return json.dumps(record, ensure_ascii=False, default=repr).encode("utf-8", "replace")
    except (ValueError, TypeError, RecursionError):
        return repr(record)[:10_000].encode("utf-8", "replace")
