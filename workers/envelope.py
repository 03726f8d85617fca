"""One decorator for every task: stable name, queue, retries with backoff, dead letters.

Transient failures (database or broker connectivity, timeouts) are retried with exponential
backoff and jitter; when retries run out, or on an error retrying cannot fix, the task is parked
as a dead letter with its error instead of looping, and ``on_dead_letter`` lets the task mark
what it was working on (e.g. the posts) as failed with a reason.
"""

from __future__ import annotations

import logging
import traceback
from typing import Callable

from celery import Task

from detector.db.session import session_scope
from detector.jobs.errors import is_transient
from detector.jobs.service import record_dead_letter
from detector.settings import get_settings
from workers.celery_app import app

log = logging.getLogger(__name__)

class DetectorTask(Task):
    """Base class: dead-letters a task that failed for good."""

    on_dead_letter: Callable[[tuple, dict, str], None] | None = None

    def on_failure(self, exc, task_id, args, kwargs, einfo):  # noqa: ANN001 - Celery's signature
        error = "".join(traceback.format_exception_only(type(exc), exc)).strip()[:4000]
        log.error("task %s[%s] failed for good: %s", self.name, task_id, error)
        try:
            with session_scope() as session:
                record_dead_letter(session, task_name=self.name, task_id=task_id or "unknown",
                                   args={"args": list(args or ()), "kwargs": dict(kwargs or {})},
                                   error=error, attempts=self.request.retries + 1)
                if self.on_dead_letter:
                    self.on_dead_letter(session, tuple(args or ()), dict(kwargs or {}), error)
        except Exception:  # the database itself may be what failed; the broker log keeps the error
            log.exception("could not record dead letter for %s[%s]", self.name, task_id)


def detector_task(name: str, *, on_dead_letter=None, **options):
    """Register ``fn(self, ...)`` as a bound task with the project's delivery guarantees."""
    settings = get_settings()

    def wrap(fn):
        def run(self, *args, **kwargs):
            try:
                return fn(self, *args, **kwargs)
            except Exception as exc:
                if is_transient(exc) and self.request.retries < self.max_retries:
                    delay = min(settings.task_retry_backoff_max, 2 ** self.request.retries)
                    log.warning("task %s transient error, retry in %ss: %s", name, delay, type(exc).__name__)
                    raise self.retry(exc=exc, countdown=delay) from exc
                raise

        run.__name__, run.__doc__, run.__module__ = fn.__name__, fn.__doc__, fn.__module__
        base = type(f"{fn.__name__}_task", (DetectorTask,), {"on_dead_letter": staticmethod(on_dead_letter)
                                                            if on_dead_letter else None})
        return app.task(run, name=name, bind=True, base=base, max_retries=settings.task_max_retries, **options)

    return wrap
