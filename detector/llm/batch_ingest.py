"""Follow open Batch API submissions to their end and store what came back.

``poll`` asks the provider about every open batch (``batches.retrieve``) and records its status. A
batch that ended is downloaded (output and error files) and ingested in one transaction that first
moves the row to its final status with a compare-and-set on the open statuses, so a re-poll or a
redelivered task finds it closed and stores nothing twice (detections are also idempotent on their
``dedupe_key``). Each output line is judged by ``read_completion``, the online path's reader (a
refusal is ``refused``, a malformed or out-of-range body ``invalid``, never a made-up verdict), and
stored by ``store_group_answer``, the online path's writer, so positives reach the review queue the same
way. ``LLMCall`` rows carry ``stage="batch"``, the tokens, the discounted cost and no latency.

``completed`` ends ``ingested``; ``failed``/``expired``/``cancelled`` keep that status with the error,
after ingesting any partial output. Either way the batch is closed, so its unanswered posts (a
per-request error, an expired line) return to the pool and the next backfill picks them up.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from detector.db.base import utcnow
from detector.llm.batch import PREPARE_GRACE, SessionFactory, recover
from detector.llm.classify import AutoAction, store_group_answer
from detector.llm.client import CallResult, LLMClient, LLMError, Verdict
from detector.llm.completions import read_completion, usage_of
from detector.llm.models import BATCH_OPEN, LLMBatch, LLMBatchItem, LLMCall, PromptVersion
from detector.posts.models import Post

log = logging.getLogger(__name__)
PROVIDER_ENDED = ("completed", "failed", "expired", "cancelled")


@dataclass
class PollResult:
    batch_id: int
    status: str
    counts: dict = field(default_factory=dict)
    error: str | None = None

    def as_dict(self) -> dict:
        return {"batch_id": self.batch_id, "status": self.status, "counts": self.counts, "error": self.error}


def poll(sessions: SessionFactory, client: LLMClient, *, discount: float = 0.5, mode: str = "active",
         auto_action: AutoAction | None = None, batch_ids: list[int] | None = None,
         grace: timedelta = PREPARE_GRACE) -> list[PollResult]:
    """Recover interrupted submissions, then check every open batch once; ingest those that ended."""
    recover(sessions, client, grace=grace)
    with sessions() as session:
        query = select(LLMBatch.id, LLMBatch.provider_batch_id).where(
            LLMBatch.status.in_(BATCH_OPEN), LLMBatch.provider_batch_id.is_not(None)).order_by(LLMBatch.id)
        if batch_ids is not None:
            query = query.where(LLMBatch.id.in_(batch_ids))
        rows = session.execute(query).all()
    results = []
    for batch_id, provider_id in rows:
        try:
            results.append(_poll_one(sessions, client, batch_id, provider_id, discount, mode, auto_action))
        except LLMError as err:  # the provider is down: this batch is asked again at the next poll
            log.warning("llm batch %s: poll failed: %s", batch_id, err)
            results.append(PollResult(batch_id, "unchanged", error=str(err)[:300]))
    return results


def _poll_one(sessions, client, batch_id, provider_id, discount, mode, auto_action) -> PollResult:
    provider = client.call_api("batches.retrieve", lambda: client.sdk.batches.retrieve(provider_id))
    if provider.status not in PROVIDER_ENDED:
        with sessions() as session:
            session.execute(update(LLMBatch).where(LLMBatch.id == batch_id, LLMBatch.status.in_(BATCH_OPEN),
                                                   LLMBatch.status != provider.status)
                            .values(status=provider.status, updated_at=utcnow()))
        return PollResult(batch_id, provider.status)
    output = _download(client, provider.output_file_id)
    errors = _download(client, provider.error_file_id)
    final = "ingested" if provider.status == "completed" else provider.status
    with sessions() as session:
        claimed = session.execute(update(LLMBatch).where(LLMBatch.id == batch_id, LLMBatch.status.in_(BATCH_OPEN))
                                  .values(status=final, updated_at=utcnow())).rowcount
        if not claimed:  # another poller ingested it first
            return PollResult(batch_id, session.scalar(select(LLMBatch.status).where(LLMBatch.id == batch_id)))
        batch = session.get(LLMBatch, batch_id)
        counts = ingest(session, client, batch, output + errors, discount=discount, mode=mode, auto_action=auto_action)
        batch.counts, batch.completed_at = counts, utcnow()
        batch.output_file_id, batch.error_file_id = provider.output_file_id, provider.error_file_id
        batch.error = _error_of(provider, counts)
        return PollResult(batch_id, final, counts, batch.error)


def _download(client: LLMClient, file_id: str | None) -> list[str]:
    if not file_id:
        return []
    content = client.call_api("files.content", lambda: client.sdk.files.content(file_id))
    return content.text.splitlines()


def _error_of(provider, counts: dict) -> str | None:
    messages = [e.message or e.code or "" for e in (provider.errors.data or [])] if provider.errors else []
    if provider.status == "completed":
        return None
    unanswered = counts.get("requests", 0) - counts.get("ok", 0) - counts.get("refused", 0) - counts.get("invalid", 0)
    return (f"batch {provider.status}: {unanswered} of {counts.get('requests', 0)} requests unanswered go back to "
            "the backfill" + (f"; {'; '.join(messages)[:500]}" if messages else ""))


def ingest(session: Session, client: LLMClient, batch: LLMBatch, lines: list[str], *, discount: float,
           mode: str = "active", auto_action: AutoAction | None = None) -> dict:
    """Store one ended batch's output and error lines; returns the counts written on the row."""
    version = session.get(PromptVersion, batch.prompt_version_id)
    groups: dict[str, list[Post]] = {}
    for cid, post in session.execute(select(LLMBatchItem.custom_id, Post).join(Post, Post.id == LLMBatchItem.post_id)
                                     .where(LLMBatchItem.batch_id == batch.id).order_by(Post.id)):
        groups.setdefault(cid, []).append(post)
    counts = {"requests": len(groups), "ok": 0, "refused": 0, "invalid": 0, "failed": 0, "unreadable": 0,
              "detections": 0, "positives": 0, "cost_usd": 0.0}
    seen = set()
    for raw in lines:
        try:
            line = json.loads(raw)
            group = groups[line["custom_id"]]
        except (ValueError, KeyError, TypeError):
            counts["unreadable"] += 1
            continue
        if line["custom_id"] in seen:
            continue
        seen.add(line["custom_id"])
        response = line.get("response") if isinstance(line.get("response"), dict) else {}
        if line.get("error") or response.get("status_code") != 200:
            counts["failed"] += 1
            detail = line.get("error") or (response.get("body") or {}).get("error") or {}
            session.add(LLMCall(stage="batch", post_id=group[0].id, prompt_version_id=version.id, model=batch.model,
                                latency_ms=0.0, status="error",
                                error=f"batch {batch.provider_batch_id}: HTTP {response.get('status_code')}: "
                                      f"{json.dumps(detail, ensure_ascii=False)[:500]}"))
            continue
        body = response.get("body")
        status, verdict, error = read_completion(body, Verdict)
        prompt_tokens, completion_tokens = usage_of(body)
        result = CallResult(status=status, model=batch.model, value=verdict, prompt_tokens=prompt_tokens,
                            completion_tokens=completion_tokens, error=error,
                            cost_usd=client.cost(batch.model, prompt_tokens, completion_tokens) * discount)
        counts[status] += 1
        counts["cost_usd"] += result.cost_usd
        stored = store_group_answer(session, group, version, result, stage="batch", mode=mode, auto_action=auto_action)
        counts["detections"] += len(stored)
        counts["positives"] += sum(d.is_positive for d in stored)
    counts["cost_usd"] = round(counts["cost_usd"], 8)
    session.flush()
    return counts
