"""Task adapters. Names are the wire contract with producers and other workers: keep them stable.

Ids cross the wire, never ORM objects; each task opens one unit of work and calls one domain
function. ``detector.ingest_post`` is the producers' entry point: marketplace backends send one
post (a JSON object) by name, e.g. ``app.send_task("detector.ingest_post", args=[post])``.
"""

from __future__ import annotations

from datetime import timedelta

from detector.db.session import session_scope
from detector.deps import get_deps
from detector.posts import processing
from detector.posts.ingest import ingest_record
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
    """Post or edit one alert's Slack message through the outbox (at most one message per alert)."""
    from detector.alerts.delivery import deliver_alert as deliver
    from detector.alerts.slack_sink import SlackRateLimited, SlackSink, make_client

    settings = get_settings()
    if not (settings.slack_bot_token and settings.slack_channel):
        return "slack_not_configured"
    sink = SlackSink(make_client(settings.slack_bot_token.get_secret_value(), settings.slack_api_url),
                     settings.slack_channel)
    try:
        outcome = deliver(session_scope, alert_id, sink, admin_base_url=settings.admin_base_url,
                          claim_ttl=timedelta(seconds=settings.slack_claim_ttl_seconds))
    except SlackRateLimited as exc:
        raise self.retry(exc=exc, countdown=max(1, exc.retry_after)) from exc
    if outcome == "in_progress":  # another worker holds the claim; look again after its lease
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
    """Classify processed posts the active profile has not seen (an endpoint that just appeared, an outage)."""
    from detector.llm.classify import backfill
    from detector.llm.client import endpoint_configured

    if not endpoint_configured(get_settings()):
        return 0
    with session_scope() as session:
        return len(backfill(session, _llm(), limit=limit).detections)
