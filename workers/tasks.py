"""Task adapters. Names are the wire contract with producers and other workers: keep them stable.

Ids cross the wire, never ORM objects; each task opens one unit of work and calls one domain
function. ``detector.ingest_post`` is the producers' entry point: marketplace backends send one
post (a JSON object) by name, e.g. ``app.send_task("detector.ingest_post", args=[post])``, or a
list of posts to ``detector.ingest_posts`` (cheaper per post at high rates).
"""

from __future__ import annotations

from datetime import timedelta

from detector.db.session import session_scope
from detector.deps import get_deps
from detector.posts import processing
from detector.posts.ingest import ingest_batch, ingest_record
from detector.settings import get_settings
from workers.envelope import detector_task

PROCESS_BATCH = 100


def dispatch_processing(post_ids: list[int]) -> None:
    """Queue new posts for the pipeline in batches (inline under the embedded default)."""
    for start in range(0, len(post_ids), PROCESS_BATCH):
        process_posts.delay(post_ids[start:start + PROCESS_BATCH])


def dispatch_alerts(alert_ids: list[int]) -> None:
    """Deliver new alerts (Slack) once their transaction committed; without Slack they stay stored."""
    if alert_ids and get_settings().slack_bot_token and get_settings().slack_channel:
        for alert_id in alert_ids:
            deliver_alert.delay(alert_id)


def dispatch_llm(post_ids: list[int]) -> None:
    """Queue processed posts for the LLM path when an endpoint is configured (else the backfill waits)."""
    from detector.llm.client import endpoint_configured

    if post_ids and endpoint_configured(get_settings()):
        classify_posts.delay(post_ids)


@detector_task("detector.ingest_post")
def ingest_post(self, post) -> dict:
    """Store one producer's post or its rejection; a redelivery is a duplicate, never a second post."""
    with session_scope() as session:
        counts = ingest_record(post, settings=get_settings(), session=session, source=f"task:{self.request.id}")
    dispatch_processing(counts.new_post_ids)
    return counts.as_dict()


@detector_task("detector.ingest_posts")
def ingest_posts(self, posts) -> dict:
    """Store a producer's list of up to 500 posts, each accepted or rejected as ``ingest_post`` would.

    One message and one transaction per batch: the per-message cost (broker round trip, task start,
    commit) that bounded throughput is paid once. A redelivery adds nothing.
    """
    with session_scope() as session:
        counts = ingest_batch(posts, settings=get_settings(), session=session, source=f"task:{self.request.id}")
    dispatch_processing(counts.new_post_ids)
    return counts.as_dict()


def _fail_posts(session, args: tuple, kwargs: dict, error: str) -> None:
    ids = kwargs.get("post_ids") or (args[0] if args else [])
    if isinstance(ids, list) and all(isinstance(i, int) for i in ids):
        processing.mark_failed(session, ids, f"processing failed after retries: {error}")


@detector_task("detector.process_posts", on_dead_letter=_fail_posts)
def process_posts(self, post_ids: list[int]) -> int:
    """Run the pipeline on a batch of accepted posts."""
    with session_scope() as session:
        done = processing.process_posts(session, post_ids, get_deps())
    dispatch_alerts(done.alert_ids)
    dispatch_llm(done.post_ids)
    return len(done.post_ids)


@detector_task("detector.maintenance.sweep_stalled_posts")
def sweep_stalled_posts(self, older_than_minutes: int = 10) -> int:
    """Re-dispatch posts whose processing message was lost (e.g. a worker died after ingest)."""
    with session_scope() as session:
        ids = processing.stalled_post_ids(session, older_than=timedelta(minutes=older_than_minutes))
    dispatch_processing(ids)
    return len(ids)


@detector_task("detector.maintenance.purge_shingle_bands")
def purge_shingle_bands(self) -> int:
    """Drop LSH band keys of posts older than the near-duplicate window: they can no longer match."""
    from detector.db.base import utcnow
    from detector.similarity.shingle_index import purge_bands

    days = get_settings().near_duplicate_window_days + 1  # a day of slack for late-arriving posts
    with session_scope() as session:
        return purge_bands(session, older_than=utcnow() - timedelta(days=days))


@detector_task("detector.cluster.schedule_reclustering")
def schedule_reclustering(self) -> int:
    """Beat entry point: one reclustering task per namespace (fan-out keeps each small and retryable)."""
    from detector.similarity.recluster import namespaces

    with session_scope() as session:
        names = namespaces(session)
    for name in names:
        recluster_namespace.delay(name)
    return len(names)


@detector_task("detector.cluster.recluster")
def recluster_namespace(self, namespace: str) -> dict:
    """Regroup a namespace's recent window; stable ids, merges, splits, snapshots."""
    from detector.similarity.recluster import recluster_and_alert

    settings, deps = get_settings(), get_deps()
    with session_scope() as session:
        result, alert_ids = recluster_and_alert(session, namespace, settings, deps.embedder.name)
    dispatch_alerts(alert_ids)
    return {**result.as_dict(), "alerts": len(alert_ids)}


@detector_task("detector.alerts.deliver", rate_limit="1/s")
def deliver_alert(self, alert_id: int) -> str:
    """Post or edit one alert's Slack message through the outbox (at most one message per alert).

    Slack being down is weather, not a dead letter: the row records each failed attempt and stays
    pending; this task retries when the row's backoff says, and once its retries are spent returns
    ``deferred`` and leaves the row to the beat sweeper, however long the outage lasts.
    """
    from detector.alerts.delivery import deliver_alert as deliver
    from detector.alerts.slack_sink import SlackSink, SlackTransient, make_client

    settings = get_settings()
    if not (settings.slack_bot_token and settings.slack_channel):
        return "slack_not_configured"
    sink = SlackSink(make_client(settings.slack_bot_token.get_secret_value(), settings.slack_api_url),
                     settings.slack_channel)
    spent = self.request.retries >= self.max_retries
    try:
        outcome = deliver(session_scope, alert_id, sink, admin_base_url=settings.admin_base_url,
                          claim_ttl=timedelta(seconds=settings.slack_claim_ttl_seconds),
                          backoff_s=settings.slack_retry_backoff_seconds,
                          backoff_max_s=settings.slack_retry_backoff_max_seconds)
    except SlackTransient as exc:  # 429, 5xx, refused, timed out: recorded on the row
        if spent:
            return "deferred"
        raise self.retry(exc=exc, countdown=max(1, getattr(exc, "retry_after", 1))) from exc
    if outcome == "in_progress" and not spent:  # another worker holds the claim; look after its lease
        raise self.retry(countdown=settings.slack_claim_ttl_seconds)
    return outcome


@detector_task("detector.maintenance.sweep_alert_deliveries")
def sweep_alert_deliveries(self) -> int:
    """Re-dispatch deliveries left pending (a lost message, a dead worker, Slack down for a while)."""
    from detector.alerts.service import pending_deliveries

    with session_scope() as session:
        ids = pending_deliveries(session)
    dispatch_alerts(ids)
    return len(ids)


REPORT_RETRIES = 5  # a report can arrive before its post is ingested: wait for it a while


@detector_task("detector.report_post")
def report_post(self, report) -> dict:
    """A user's report ``{content_type?, post_id, reporter, reason?}``: queued for review once per reporter."""
    from detector.review.reports import ReportError, parse_report
    from detector.review.reports import report_post as store

    try:
        parsed = parse_report(report, default_content_type=get_settings().default_content_type)
    except ReportError as err:  # refused at the edge: retrying cannot fix it
        return {"status": "rejected", "reason": str(err)}
    try:
        with session_scope() as session:
            detection_id, created = store(session, parsed)
    except ReportError as err:  # unknown post: it may not be ingested yet
        if self.request.retries < REPORT_RETRIES:
            raise self.retry(exc=err, countdown=30 * 2 ** self.request.retries) from err
        raise
    return {"status": "queued" if created else "duplicate", "detection_id": detection_id}


@detector_task("detector.maintenance.sample_audit")
def sample_audit(self) -> int:
    """Queue today's random audit sample of unflagged posts (bounded per day: repeats add nothing)."""
    from detector.review.audit_sample import draw_audit_sample

    with session_scope() as session:
        return len(draw_audit_sample(session, per_day=get_settings().audit_sample_per_day))


@detector_task("detector.maintenance.snapshot_metrics")
def snapshot_metrics(self) -> int:
    """Store this hour's online metrics for every window (a repeat in the same hour stores nothing)."""
    from detector.metrics.snapshots import take_snapshot

    with session_scope() as session:
        return take_snapshot(session)


_llm_client = None


def _llm():
    """One LLM client per worker process; retries are the task's (max_retries=0 in the client)."""
    global _llm_client
    if _llm_client is None:
        from detector.llm.client import make_client

        _llm_client = make_client(get_settings(), max_retries=0)
    return _llm_client


@detector_task("detector.llm.classify")
def classify_posts(self, post_ids: list[int]) -> int:
    """Stage 2 of the LLM path on processed posts; when no endpoint is set, posts wait for the backfill."""
    from detector.llm.classify import classify_safely
    from detector.llm.client import LLMUnavailable, endpoint_configured

    if not endpoint_configured(get_settings()):
        return 0
    with session_scope() as session:
        outcome = classify_safely(session, _llm(), post_ids)
    if isinstance(outcome.error, LLMUnavailable):
        raise self.retry(exc=outcome.error, countdown=min(600, 2 ** (self.request.retries + 2)))
    return len(outcome.detections)


@detector_task("detector.llm.backfill")
def backfill_llm(self, limit: int = 200) -> int:
    """Classify processed posts the active profile has not seen (an endpoint that just appeared, an outage).

    With ``llm_backfill_mode=batch`` they go to the Batch API when enough wait; returns the posts handled."""
    from detector.llm.classify import backfill
    from detector.llm.client import endpoint_configured

    settings = get_settings()
    if not endpoint_configured(settings):
        return 0
    if settings.llm_backfill_mode == "batch":
        from detector.llm.batch import backfill as batch_backfill

        done = batch_backfill(session_scope, _llm(), min_posts=settings.llm_batch_min_posts,
                              max_requests=settings.llm_batch_max_requests, online_limit=limit)
        return done["submitted"] + done["classified"]
    with session_scope() as session:
        return len(backfill(session, _llm(), limit=limit).detections)


@detector_task("detector.llm.poll_batches")
def poll_llm_batches(self) -> list[dict]:
    """Follow open Batch API submissions; ingest the verdicts of those that ended (idempotent)."""
    from detector.llm.batch_ingest import poll
    from detector.llm.client import endpoint_configured

    settings = get_settings()
    if not endpoint_configured(settings):
        return []
    return [r.as_dict() for r in poll(session_scope, _llm(), discount=settings.llm_batch_discount)]
