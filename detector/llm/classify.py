"""Stage 2: classify posts with the active prompt version and store verdicts as detections.

A positive verdict is a ``Detection(path="llm", is_positive=True)``: that row is the post's entry in the
review queue. Nothing else happens automatically unless the caller passes an ``AutoAction``, whose
daily cap is counted in the audit log (off by default: zero-shot verdicts need a moderator).

Posts are never lost: a post the path could not classify (no endpoint, endpoint down, budget spent,
no active version) simply has no llm detection for the active version, and ``unclassified_post_ids``
finds it for a backfill. A refusal or an answer that stayed malformed is logged as an ``LLMCall``
with status ``refused``/``invalid``, gets no detection (never a made-up verdict), and is not retried
for that version. Texts that normalize alike are classified once: within a batch by grouping, across
batches by ``cached_verdict`` (the cache is the detections table; see ``detector.llm.client``).
``Detection.score`` is the model's confidence in its own answer (for a negative verdict too). The
budget is checked before each group of ``client.concurrency`` calls, so it is overshot by at most one.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, time as dtime, timezone
from typing import Callable

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from detector.audit.models import AuditLog
from detector.db.dialect import insert_for
from detector.llm.client import (CallResult, LLMClient, LLMError, Verdict, cached_verdict, endpoint_configured)
from detector.llm.models import BATCH_OPEN, LLMBatch, LLMBatchItem, LLMCall, PromptVersion
from detector.llm.profiles import FALLBACK_CONTENT_TYPE, active_version, template_of
from detector.llm.prompts import build_classify_messages
from detector.normalize import normalize, text_hash
from detector.posts.models import Post
from detector.review.models import Detection

log = logging.getLogger(__name__)
TERMINAL = ("refused", "invalid")


@dataclass(frozen=True)
class AutoAction:
    """An optional action on confident positives (e.g. hide the post), at most ``daily_cap`` per UTC day."""

    action: Callable[[Session, Detection], None]
    daily_cap: int = 0  # 0: disabled
    min_confidence: float = 0.95


@dataclass
class Outcome:
    detections: list[Detection] = field(default_factory=list)
    error: LLMError | None = None  # set when the batch stopped early; the rest waits for a retry


def llm_status(settings, session: Session | None = None, content_type: str | None = None) -> tuple[str, str]:
    """``(state, message)`` for the demo, the admin UI and ``detector status``."""
    if not endpoint_configured(settings):
        return ("disabled", "set DETECTOR_LLM_BASE_URL (any OpenAI-compatible server) and/or "
                "DETECTOR_LLM_API_KEY (api.openai.com) to enable the LLM path; posts wait and are "
                "classified once an endpoint is configured")
    if session is not None and content_type and active_version(session, content_type) is None:
        return ("no_active_version", f"no active prompt version for {content_type!r}: run `detector prompts "
                "generate`, `eval` and `activate`; posts wait until one is active")
    from detector.settings import redact_url

    return "enabled", f"endpoint {redact_url(settings.llm_base_url or 'https://api.openai.com/v1')}"


def post_text(post: Post) -> str:
    return f"{post.title}\n{post.text}" if post.title else post.text


def _text_sha(post: Post) -> str:
    return post.normalized_sha256 or text_hash(normalize(post_text(post)))


def classify_posts(session: Session, client: LLMClient, post_ids: list[int], *, content_type: str | None = None,
                   mode: str = "active", auto_action: AutoAction | None = None) -> list[Detection]:
    """Classify the posts (those of ``content_type`` only, when given) with their active version.

    Idempotent: a post already classified by the active version is returned, not asked again. Raises
    ``BudgetExceeded``/``LLMUnavailable``/``LLMRequestError`` when the batch has to stop, after
    flushing what was done; the exception's ``done`` holds those detections. ``classify_safely`` is
    the variant that returns the error instead (so the caller's transaction can still commit).
    """
    query = select(Post).where(Post.id.in_(list(post_ids))).order_by(Post.id)
    if content_type:
        query = query.where(Post.content_type == content_type)
    versions: dict[str, PromptVersion | None] = {}
    groups: dict[int, list[Post]] = {}
    for post in session.scalars(query):
        if post.content_type not in versions:
            versions[post.content_type] = active_version(session, post.content_type)
        version = versions[post.content_type]
        if version is None:
            log.info("post %s waits: no active prompt version for %r", post.id, post.content_type)
            continue
        groups.setdefault(version.id, []).append(post)
    done: list[Detection] = []
    for version_id, posts in groups.items():
        try:
            _classify_version(session, client, session.get(PromptVersion, version_id), posts, mode, auto_action, done)
        except LLMError as err:
            session.flush()
            err.done = done
            raise
    return done


def classify_safely(session: Session, client: LLMClient, post_ids: list[int], **kwargs) -> Outcome:
    try:
        return Outcome(classify_posts(session, client, post_ids, **kwargs))
    except LLMError as err:
        return Outcome(getattr(err, "done", []), err)


def _classify_version(session, client, version, posts, mode, auto_action, done) -> None:
    model = client.classify_model
    pending = pending_groups(session, version, model, posts, mode, auto_action, done)
    template = template_of(version)
    for start in range(0, len(pending), client.concurrency):
        chunk = pending[start:start + client.concurrency]
        client.ensure_budget(session)
        results = client.classify_many([build_classify_messages(template, version.text, post_text(g[0]))
                                        for g in chunk])
        failure = None
        for group, result in zip(chunk, results):
            if isinstance(result, LLMError):
                session.add(LLMCall(stage="classify", post_id=group[0].id, prompt_version_id=version.id,
                                    model=model, status="error", error=str(result)[:1000]))
                failure = failure or result
                continue
            done.extend(store_group_answer(session, group, version, result, stage="classify", mode=mode,
                                           auto_action=auto_action))
        session.flush()
        if failure is not None:
            raise failure


def pending_groups(session: Session, version: PromptVersion, model: str, posts: list[Post], mode: str,
                   auto_action: AutoAction | None, done: list[Detection]) -> list[list[Post]]:
    """The posts still to ask, grouped by normalized text (one request per group, bulk texts once).

    Posts already judged by this version are appended to ``done``; a group whose text has a cached
    verdict is stored now (an ``LLMCall`` with ``cache_hit``, no request); posts held by an open
    batch of this version are left to that batch.
    """
    keys = {f"llm:{p.id}:{version.id}": p for p in posts}
    existing = {d.dedupe_key: d for d in session.scalars(select(Detection).where(Detection.dedupe_key.in_(list(keys))))}
    held = set(session.scalars(held_by_open_batch(version.id).where(LLMBatchItem.post_id.in_([p.id for p in posts]))))
    by_text: dict[str, list[Post]] = {}
    for key, post in keys.items():
        if key in existing:
            done.append(existing[key])
        elif post.id not in held:
            by_text.setdefault(_text_sha(post), []).append(post)
    pending = []
    for sha, group in by_text.items():
        verdict = cached_verdict(session, text_sha256=sha, prompt_version_id=version.id, model=model)
        if verdict is None:
            pending.append(group)
            continue
        for post in group:
            session.add(LLMCall(stage="classify", post_id=post.id, prompt_version_id=version.id, model=model,
                                cache_hit=True, status="ok"))
            done.append(store_verdict(session, post, version, model, verdict, mode, auto_action))
    return pending


def held_by_open_batch(version_id: int):
    """Ids of posts inside a not yet ended Batch API submission of this version: that batch will answer them."""
    return (select(LLMBatchItem.post_id).join(LLMBatch, LLMBatch.id == LLMBatchItem.batch_id)
            .where(LLMBatch.prompt_version_id == version_id, LLMBatch.status.in_(BATCH_OPEN)))


def store_group_answer(session: Session, group: list[Post], version: PromptVersion, result: CallResult, *,
                       stage: str, mode: str, auto_action: AutoAction | None) -> list[Detection]:
    """One answer for posts sharing a normalized text (online call or batch line): an ``LLMCall`` per
    post, billed on the first (the rest are answered by it at no cost), and a verdict each when ok."""
    stored = []
    for i, post in enumerate(group):
        row = result.as_row(stage=stage, post_id=post.id, prompt_version_id=version.id)
        if i:
            row.cache_hit, row.prompt_tokens, row.completion_tokens, row.cost_usd = True, 0, 0, 0.0
        session.add(row)
        if result.status == "ok":
            stored.append(store_verdict(session, post, version, result.model, result.value, mode, auto_action))
    return stored


def store_verdict(session: Session, post: Post, version: PromptVersion, model: str, verdict: Verdict, mode: str,
                  auto_action: AutoAction | None) -> Detection:
    """The one writer of llm detections (online and batch): idempotent on ``llm:<post>:<version>``."""
    key = f"llm:{post.id}:{version.id}"
    session.execute(insert_for(session, Detection).values(
        dedupe_key=key, content_type=post.content_type, path="llm", mode=mode, post_id=post.id,
        is_positive=verdict.is_professional_seller, score=verdict.confidence, reason=verdict.reason,
        prompt_version_id=version.id, model=model, created_at=datetime.now(timezone.utc),
    ).on_conflict_do_nothing(index_elements=["dedupe_key"]))
    detection = session.scalar(select(Detection).where(Detection.dedupe_key == key))
    if auto_action is not None and detection.is_positive and (detection.score or 0) >= auto_action.min_confidence:
        _auto_act(session, detection, auto_action)
    return detection


def _auto_act(session: Session, detection: Detection, auto: AutoAction) -> None:
    start = datetime.combine(datetime.now(timezone.utc).date(), dtime(0), tzinfo=timezone.utc)
    used = session.scalar(select(func.count()).select_from(AuditLog).where(
        AuditLog.action == "llm.auto_action", AuditLog.created_at >= start)) or 0
    if used >= auto.daily_cap:
        log.info("automatic action skipped for detection %s: daily cap %s reached", detection.id, auto.daily_cap)
        return
    auto.action(session, detection)
    session.add(AuditLog(actor="llm", action="llm.auto_action", subject_type="detection", subject_id=detection.id,
                         details={"post_id": detection.post_id, "score": detection.score,
                                  "prompt_version_id": detection.prompt_version_id}))


def unclassified_post_ids(session: Session, version: PromptVersion, *, limit: int | None = None) -> list[int]:
    """Processed posts this version should judge that have no llm detection, no terminal failure for it,
    and are not held by an open batch of it (a submitted backfill whose results are still coming)."""
    query = select(Post.id).where(Post.status == "processed")
    if version.content_type == FALLBACK_CONTENT_TYPE:
        own = select(PromptVersion.content_type).where(PromptVersion.is_active.is_(True),
                                                       PromptVersion.content_type != FALLBACK_CONTENT_TYPE)
        query = query.where(Post.content_type.not_in(own))
    else:
        query = query.where(Post.content_type == version.content_type)
    query = query.where(
        ~exists().where(Detection.post_id == Post.id, Detection.path == "llm",
                        Detection.prompt_version_id == version.id),
        ~exists().where(LLMCall.post_id == Post.id, LLMCall.prompt_version_id == version.id,
                        LLMCall.status.in_(TERMINAL)),
        Post.id.not_in(held_by_open_batch(version.id)),
    ).order_by(Post.id)
    return list(session.scalars(query.limit(limit) if limit else query))


def backfill(session: Session, client: LLMClient, *, content_type: str | None = None, limit: int = 200) -> Outcome:
    """Classify up to ``limit`` waiting posts per active version (e.g. after an endpoint appears)."""
    query = select(PromptVersion).where(PromptVersion.is_active.is_(True)).order_by(PromptVersion.id)
    outcome = Outcome()
    for version in session.scalars(query).all():
        if content_type and version.content_type not in (content_type, FALLBACK_CONTENT_TYPE):
            continue
        ids = unclassified_post_ids(session, version, limit=limit)
        step = classify_safely(session, client, ids, content_type=content_type)
        outcome.detections += step.detections
        if step.error is not None:
            outcome.error = step.error
            break
    return outcome
