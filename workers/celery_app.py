"""The Celery application, configured from ``detector.settings``.

Workers are started with ``detector worker`` (or ``celery -A workers.celery_app worker``). With the
embedded default (``memory://``) there is no separate worker: tasks execute in the process that
sends them, so the same code path runs on a laptop and in production.
"""

from __future__ import annotations

from celery import Celery
from celery.schedules import crontab
from celery.signals import worker_process_init
from kombu import Queue

from detector.settings import Settings, get_settings

QUEUES = ("ingest", "embed", "cluster", "llm", "alerts", "maintenance")

# Task name prefix -> queue. Names are the wire contract with producers: keep them stable.
ROUTES = {
    "detector.ingest_post": {"queue": "ingest"},
    "detector.ingest_posts": {"queue": "ingest"},
    "detector.report_post": {"queue": "ingest"},
    "detector.process_posts": {"queue": "embed"},
    "detector.maintenance.*": {"queue": "maintenance"},
    "detector.cluster.*": {"queue": "cluster"},
    "detector.alerts.*": {"queue": "alerts"},
    "detector.llm.*": {"queue": "llm"},
}


def celery_config(settings: Settings) -> dict:
    inline = settings.tasks_run_inline
    return {
        "broker_url": settings.broker_url,
        "result_backend": settings.result_backend,
        "task_ignore_result": settings.result_backend is None,
        "task_serializer": "json",
        "result_serializer": "json",
        "accept_content": ["json"],
        "task_queues": [Queue(name) for name in QUEUES],
        "task_default_queue": "ingest",
        "task_routes": ROUTES,
        # At-least-once: a task is acknowledged after it ran, and redelivered if its worker died.
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "broker_transport_options": {**settings.broker_transport_options,
                                     "visibility_timeout": settings.broker_visibility_timeout},
        "broker_connection_retry_on_startup": True,
        "worker_hijack_root_logger": False,
        "task_always_eager": inline,
        # A failing inline task is dead-lettered like a worker's would be; it must not abort the caller.
        "task_eager_propagates": False,
        "timezone": "UTC",
        "beat_schedule": {
            "recluster": {
                "task": "detector.cluster.schedule_reclustering",
                "schedule": crontab(minute=f"*/{settings.recluster_every_minutes}"),
                "options": {"expires": settings.recluster_every_minutes * 60 - 30},
            },
            "sweep-alert-deliveries": {
                "task": "detector.maintenance.sweep_alert_deliveries",
                "schedule": crontab(minute="*"),
                "options": {"expires": 50},
            },
            "llm-backfill": {
                "task": "detector.llm.backfill",
                "schedule": crontab(minute="*/5"),
                "options": {"expires": 240},
            },
            "llm-poll-batches": {
                "task": "detector.llm.poll_batches",
                "schedule": crontab(minute="*/5"),
                "options": {"expires": 240},
            },
            "snapshot-metrics": {
                "task": "detector.maintenance.snapshot_metrics",
                "schedule": crontab(minute=5),
                "options": {"expires": 3000},
            },
            "sample-audit": {  # hourly; the per-day bound makes every run after the day's first a no-op
                "task": "detector.maintenance.sample_audit",
                "schedule": crontab(minute=20),
                "options": {"expires": 3000},
            },
            "sweep-stalled-posts": {
                "task": "detector.maintenance.sweep_stalled_posts",
                "schedule": crontab(minute="*/5"),
                "options": {"expires": 240},
            },
            "purge-shingle-bands": {
                "task": "detector.maintenance.purge_shingle_bands",
                "schedule": crontab(hour="3", minute="40"),
                "options": {"expires": 3000},
            },
        },
    }


def create_app(settings: Settings | None = None) -> Celery:
    celery = Celery("sellerwatch", include=["workers.tasks"])
    celery.conf.update(celery_config(settings or get_settings()))
    return celery


app = create_app()


@worker_process_init.connect
def _fresh_connections(**_kwargs) -> None:
    """A forked child must not reuse the parent's database connections."""
    from detector.db.session import reset_engines

    reset_engines(close=False)
