"""Backfills through the OpenAI Batch API: half the price of online calls, results within 24 hours.

``submit`` picks what the active version has not judged, exactly as the online backfill does (bulk
texts grouped so each is asked once, cached verdicts stored at once, posts held by an open batch
skipped), writes the ``LLMBatch`` row (``preparing``) and one ``LLMBatchItem`` per post, and commits
BEFORE anything is uploaded. Then ``files.create`` (its id is recorded), ``batches.create`` with
``metadata.sellerwatch_batch_id`` and, last, the provider's id (``submitted``). A worker that dies in
between leaves a ``preparing`` row; ``recover`` (run by every poll) first looks for its provider batch
by that metadata (``batches.list``) and only creates one when there is none, so one row never becomes
two provider batches: the Slack outbox's idea (``detector.alerts.delivery``).

Each input line is ``{"custom_id": "post-<id>", "method": "POST", "url": "/v1/chat/completions",
"body": ...}`` where the body comes from ``LLMClient.classify_body``, the builder the online call uses,
so the two cannot drift. ``batch_ingest.poll`` follows a batch to its end and stores the verdicts.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from detector.db.base import utcnow
from detector.llm.classify import backfill as online_backfill
from detector.llm.classify import pending_groups, post_text, unclassified_post_ids
from detector.llm.client import LLMClient, LLMError, LLMRequestError
from detector.llm.models import BATCH_OPEN, LLMBatch, LLMBatchItem, PromptVersion
from detector.llm.profiles import FALLBACK_CONTENT_TYPE, template_of
from detector.llm.prompts import build_classify_messages
from detector.posts.models import Post

log = logging.getLogger(__name__)
SessionFactory = Callable[[], AbstractContextManager[Session]]
ENDPOINT = "/v1/chat/completions"
METADATA_KEY = "sellerwatch_batch_id"
MAX_REQUESTS = 50_000  # OpenAI's limit per batch
MAX_FILE_BYTES = 190 * 1024 * 1024  # OpenAI takes input files up to 200 MB
PREPARE_GRACE = timedelta(minutes=10)  # a ``preparing`` row untouched this long belongs to a dead worker
CLOCK_SKEW = timedelta(hours=1)  # how far the provider's clock may trail ours when looking a batch up


@dataclass
class Submission:
    """What one ``submit`` did for one active version."""

    content_type: str
    prompt_version_id: int
    batch_id: int | None = None
    provider_batch_id: str | None = None
    requests: int = 0
    posts: int = 0
    cached: int = 0
    waiting: int = 0

    def as_dict(self) -> dict:
        return asdict(self)


def custom_id(post_id: int) -> str:
    return f"post-{post_id}"


def request_line(client: LLMClient, version: PromptVersion, post: Post, *, model: str) -> dict:
    """One input line: the online request body for this post, addressed to the chat completions endpoint."""
    messages = build_classify_messages(template_of(version), version.text, post_text(post))
    return {"custom_id": custom_id(post.id), "method": "POST", "url": ENDPOINT,
            "body": client.classify_body(messages, model=model)}


def submit(sessions: SessionFactory, client: LLMClient, *, content_type: str | None = None, limit: int | None = None,
           min_posts: int = 1, max_requests: int = MAX_REQUESTS, mode: str = "active") -> list[Submission]:
    """One batch per active version with at least ``min_posts`` posts waiting (of ``content_type`` when given).

    Raises ``BudgetExceeded`` before preparing anything when today's budget is spent, and
    ``LLMUnavailable``/``LLMRequestError`` when the upload or the creation fails: the row then stays
    ``preparing`` and ``recover`` finishes it later (its posts wait, they are not lost).
    """
    with sessions() as session:
        query = select(PromptVersion.id, PromptVersion.content_type).where(PromptVersion.is_active.is_(True))
        versions = [vid for vid, ctype in session.execute(query.order_by(PromptVersion.id))
                    if not content_type or ctype in (content_type, FALLBACK_CONTENT_TYPE)]
    done = []
    for version_id in versions:
        sub = _prepare(sessions, client, version_id, content_type=content_type, limit=limit, min_posts=min_posts,
                       max_requests=min(max_requests, MAX_REQUESTS), mode=mode)
        if sub.batch_id is not None:
            sub.provider_batch_id = send_or_fail(sessions, client, sub.batch_id)
        done.append(sub)
    return done


def _prepare(sessions, client, version_id, *, content_type, limit, min_posts, max_requests, mode) -> Submission:
    with sessions() as session:
        # Serializes submitters of one version on PostgreSQL (SQLite serializes all writers anyway).
        version = session.get(PromptVersion, version_id, with_for_update=True)
        sub = Submission(version.content_type, version.id)
        client.ensure_budget(session)
        query = select(Post).where(Post.id.in_(unclassified_post_ids(session, version, limit=limit or max_requests)))
        if content_type:
            query = query.where(Post.content_type == content_type)
        done: list = []
        groups = pending_groups(session, version, client.classify_model, list(session.scalars(query.order_by(Post.id))),
                                mode, None, done)
        sub.cached, sub.waiting = len(done), sum(len(g) for g in groups)
        if not groups or sub.waiting < min_posts:
            return sub
        taken, size = [], 0
        for group in groups[:max_requests]:
            size += len(json.dumps(request_line(client, version, group[0], model=client.classify_model),
                                   ensure_ascii=False).encode("utf-8")) + 1
            if size > MAX_FILE_BYTES:
                break
            taken.append(group)
        batch = LLMBatch(content_type=version.content_type, prompt_version_id=version.id, model=client.classify_model,
                         status="preparing", request_count=len(taken), counts={})
        session.add(batch)
        session.flush()
        session.add_all(LLMBatchItem(batch_id=batch.id, post_id=post.id, custom_id=custom_id(group[0].id))
                        for group in taken for post in group)
        sub.batch_id, sub.requests, sub.posts = batch.id, len(taken), sum(len(g) for g in taken)
    return sub  # committed: the row exists before anything is uploaded


def input_jsonl(session: Session, client: LLMClient, batch: LLMBatch) -> bytes:
    """The input file, rebuilt from the items (the builders are pure, so a retry uploads the same bytes)."""
    version = session.get(PromptVersion, batch.prompt_version_id)
    rows = session.execute(select(LLMBatchItem.custom_id, Post).join(Post, Post.id == LLMBatchItem.post_id)
                           .where(LLMBatchItem.batch_id == batch.id).order_by(Post.id)).all()
    firsts = {cid: post for cid, post in rows if cid == custom_id(post.id)}
    return "".join(json.dumps(request_line(client, version, post, model=batch.model), ensure_ascii=False) + "\n"
                   for post in firsts.values()).encode("utf-8")


def send(sessions: SessionFactory, client: LLMClient, batch_id: int, *, look_up: bool = False) -> str | None:
    """Upload and create the provider batch of a ``preparing`` row; ``look_up`` first searches for one."""
    with sessions() as session:
        batch = session.get(LLMBatch, batch_id)
        if batch is None or batch.status != "preparing" or batch.provider_batch_id:
            return batch.provider_batch_id if batch else None
        input_file_id, created_at = batch.input_file_id, batch.created_at
        payload = None if input_file_id else input_jsonl(session, client, batch)
    if look_up and input_file_id:  # without an uploaded file no batch can have been created
        found = find_provider_batch(client, batch_id, created_at)
        if found is not None:
            return record(sessions, client, batch_id, found)
    if input_file_id is None:
        uploaded = client.call_api("files.create", lambda: client.sdk.files.create(
            file=(f"sellerwatch-batch-{batch_id}.jsonl", payload, "application/jsonl"), purpose="batch"))
        input_file_id = uploaded.id
        with sessions() as session:
            session.execute(update(LLMBatch).where(LLMBatch.id == batch_id, LLMBatch.input_file_id.is_(None))
                            .values(input_file_id=input_file_id, updated_at=utcnow()))
    created = client.call_api("batches.create", lambda: client.sdk.batches.create(
        input_file_id=input_file_id, endpoint=ENDPOINT, completion_window="24h",
        metadata={METADATA_KEY: str(batch_id)}))
    return record(sessions, client, batch_id, created)


def send_or_fail(sessions: SessionFactory, client: LLMClient, batch_id: int, *, look_up: bool = False) -> str | None:
    """``send``; a refused request (no Batch API on this server, a bad file) closes the row ``failed``, so its
    posts return to the pool instead of waiting on a batch that cannot exist; a transient error leaves it
    ``preparing`` for ``recover``."""
    try:
        return send(sessions, client, batch_id, look_up=look_up)
    except LLMRequestError as err:
        with sessions() as session:
            session.execute(update(LLMBatch).where(LLMBatch.id == batch_id, LLMBatch.status == "preparing",
                                                   LLMBatch.provider_batch_id.is_(None))
                            .values(status="failed", error=f"not submitted: {err}"[:1000], completed_at=utcnow()))
        raise


def record(sessions: SessionFactory, client: LLMClient, batch_id: int, provider) -> str:
    """Write the provider batch's id on the row; a provider batch the row no longer wants is cancelled."""
    with sessions() as session:
        claimed = session.execute(
            update(LLMBatch).where(LLMBatch.id == batch_id, LLMBatch.status == "preparing",
                                   LLMBatch.provider_batch_id.is_(None))
            .values(provider_batch_id=provider.id, input_file_id=provider.input_file_id, status="submitted",
                    updated_at=utcnow())).rowcount
        kept = session.scalar(select(LLMBatch.provider_batch_id).where(LLMBatch.id == batch_id))
    if not claimed and kept != provider.id:  # cancelled while preparing, or (never) recorded twice
        log.warning("llm batch %s does not take provider batch %s (has %s): cancelling it", batch_id, provider.id, kept)
        try:
            client.call_api("batches.cancel", lambda: client.sdk.batches.cancel(provider.id))
        except LLMError as err:
            log.error("could not cancel orphaned provider batch %s: %s", provider.id, err)
    return kept or provider.id


def find_provider_batch(client: LLMClient, batch_id: int, since: datetime):
    """The provider batch whose metadata names this row, searching newest first back to ``since``."""
    after, oldest = None, int((since - CLOCK_SKEW).timestamp())
    while True:
        cursor = {"after": after} if after else {}
        page = client.call_api("batches.list", lambda cursor=cursor: client.sdk.batches.list(limit=100, **cursor))
        for provider in page.data:
            if (provider.metadata or {}).get(METADATA_KEY) == str(batch_id):
                return provider
        if not page.data or not page.has_more or page.data[-1].created_at < oldest:
            return None
        after = page.data[-1].id


def recover(sessions: SessionFactory, client: LLMClient, *, grace: timedelta = PREPARE_GRACE,
            now: datetime | None = None) -> list[int]:
    """Finish ``preparing`` rows untouched for ``grace`` (their worker died); returns their ids."""
    now = now or utcnow()
    with sessions() as session:
        stale = session.execute(select(LLMBatch.id, LLMBatch.updated_at).where(
            LLMBatch.status == "preparing", LLMBatch.updated_at <= now - grace)).all()
    done = []
    for batch_id, seen in stale:
        with sessions() as session:  # whoever moves updated_at owns the row for another grace period
            if not session.execute(update(LLMBatch).where(LLMBatch.id == batch_id, LLMBatch.status == "preparing",
                                                          LLMBatch.updated_at == seen)
                                   .values(updated_at=utcnow())).rowcount:
                continue
        try:
            send_or_fail(sessions, client, batch_id, look_up=True)
            done.append(batch_id)
        except LLMError as err:
            log.warning("llm batch %s still preparing: %s", batch_id, err)
    return done


def cancel(sessions: SessionFactory, client: LLMClient, batch_id: int) -> str:
    """Ask the provider to stop a batch (it ends ``cancelled``; answered lines are still ingested)."""
    with sessions() as session:
        batch = session.get(LLMBatch, batch_id)
        if batch is None:
            raise LookupError(f"no llm batch {batch_id}")
        if batch.status not in BATCH_OPEN:
            raise ValueError(f"llm batch {batch_id} is already closed ({batch.status})")
        provider_id, input_file_id, created_at = batch.provider_batch_id, batch.input_file_id, batch.created_at
    if provider_id is None and input_file_id:
        found = find_provider_batch(client, batch_id, created_at)
        provider_id = found.id if found is not None else None
    if provider_id is None:  # nothing runs at the provider: close it here; a late ``record`` cancels its batch
        with sessions() as session:
            session.execute(update(LLMBatch).where(LLMBatch.id == batch_id, LLMBatch.provider_batch_id.is_(None))
                            .values(status="cancelled", error="cancelled before submission", completed_at=utcnow()))
        return "cancelled"
    provider = client.call_api("batches.cancel", lambda: client.sdk.batches.cancel(provider_id))
    with sessions() as session:
        session.execute(update(LLMBatch).where(LLMBatch.id == batch_id, LLMBatch.status.in_(BATCH_OPEN))
                        .values(status="cancelling", provider_batch_id=provider_id, updated_at=utcnow()))
    return provider.status


def list_batches(session: Session, *, limit: int = 50) -> list[dict]:
    """The latest batches, newest first, as plain dicts (CLI and admin UI)."""
    rows = session.scalars(select(LLMBatch).order_by(LLMBatch.id.desc()).limit(limit))
    return [{"id": b.id, "content_type": b.content_type, "prompt_version_id": b.prompt_version_id, "model": b.model,
             "status": b.status, "provider_batch_id": b.provider_batch_id, "requests": b.request_count,
             "counts": b.counts or {}, "error": b.error, "created_at": b.created_at.isoformat(),
             "completed_at": b.completed_at.isoformat() if b.completed_at else None} for b in rows]


def backfill(sessions: SessionFactory, client: LLMClient, *, content_type: str | None = None,
             min_posts: int = 100, max_requests: int = MAX_REQUESTS, online_limit: int = 200) -> dict:
    """The batch-mode backfill: a batch per version with ``min_posts`` waiting; a smaller remainder online.

    Returns ``{"submitted": posts sent in batches, "classified": detections stored now}``.
    """
    subs = submit(sessions, client, content_type=content_type, min_posts=min_posts, max_requests=max_requests)
    classified = sum(s.cached for s in subs)
    if any(s.batch_id is None and s.waiting for s in subs):  # too few for a batch: not worth a 24 h wait
        with sessions() as session:
            classified += len(online_backfill(session, client, content_type=content_type,
                                              limit=online_limit).detections)
    return {"submitted": sum(s.posts for s in subs), "classified": classified,
            "batches": [s.batch_id for s in subs if s.batch_id is not None]}
