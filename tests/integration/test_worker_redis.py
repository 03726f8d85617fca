"""A real Celery worker process consuming from the real Redis, writing to the real PostgreSQL.

Producers send ``detector.ingest_post`` by name with their own Celery client, as a marketplace
backend would. The kill test proves at-least-once delivery plus idempotent tasks: a worker killed
with SIGKILL in the middle of a task leaves nothing behind, the task is redelivered to the next
worker, and it completes exactly once.
"""

import json

import pytest
from sqlalchemy import create_engine, func, select, text

from detector.db.session import session_scope
from detector.jobs.models import DeadLetter
from detector.posts.models import Post, RejectedInput
from tests.workerproc import WorkerProcess, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]


def worker_env(pg_url, redis_url, tmp_path, **extra):
    env = {"DETECTOR_DATABASE_URL": pg_url, "DETECTOR_BROKER_URL": redis_url,
           "DETECTOR_DATA_DIR": str(tmp_path / "worker-data")}
    env.update({f"DETECTOR_{k.upper()}": str(v) for k, v in extra.items()})
    return env


def post_rows(url):
    with session_scope(url) as s:
        return [(p.external_id, p.status) for p in s.scalars(select(Post).order_by(Post.external_id))]


def test_worker_consumes_posts_sent_by_name(pg_url, redis_url, producer, tmp_path):
    worker = WorkerProcess(worker_env(pg_url, redis_url, tmp_path), tmp_path / "worker.log").wait_ready()
    try:
        for post in ({"id": "r1", "text": "헤어져서 팝니다 ☆"}, {"id": "r2", "text": "desk, must go"},
                     {"id": "r1", "text": "헤어져서 팝니다 ☆"}, {"id": "r3", "text": 999}, "garbage"):
            producer.send_task("detector.ingest_post", args=[post], queue="ingest")
        wait_for(lambda: post_rows(pg_url) == [("r1", "processed"), ("r2", "processed")], 60,
                 "two processed posts")
        with session_scope(pg_url) as s:
            wait_for(lambda: s.scalar(select(func.count()).select_from(RejectedInput)) == 2, 30, "2 rejections")
            reasons = sorted(s.scalars(select(RejectedInput.reason_code)))
        assert reasons == ["not_an_object", "wrong_type"]
        assert worker.proc.poll() is None, "the worker must survive bad input"
    finally:
        worker.stop()


def test_worker_killed_mid_task_is_redelivered_and_completes_once(pg_url, redis_url, producer, tmp_path):
    # Scan for orphaned messages every second (production: every ~100 s, after an hour's visibility).
    env = worker_env(pg_url, redis_url, tmp_path, broker_visibility_timeout=3, broker_transport_options=json.dumps(
        {"unacked_restore_interval": 1, "unacked_restore_throttle": 1}))
    first = WorkerProcess(env, tmp_path / "first.log").wait_ready()
    locker = create_engine(pg_url)
    db_name = pg_url.rsplit("/", 1)[1]
    try:
        with locker.connect() as lock_conn:
            # Hold a lock that the task's INSERT must wait for: the task is then provably mid-flight.
            lock_conn.execute(text("LOCK TABLE posts IN SHARE ROW EXCLUSIVE MODE"))
            producer.send_task("detector.ingest_post", args=[{"id": "k1", "text": "급매 팝니다"}], queue="ingest")
            # AUTOCOMMIT: pg_stat_activity is snapshotted once per transaction otherwise.
            with locker.connect().execution_options(isolation_level="AUTOCOMMIT") as probe:
                wait_for(lambda: probe.execute(text(
                    "select count(*) from pg_stat_activity where datname = :db and wait_event_type = 'Lock'"),
                    {"db": db_name}).scalar(), 30, "the task to block on the lock")
            first.kill9()
            lock_conn.rollback()
        assert post_rows(pg_url) == []  # the killed task left nothing behind
        second = WorkerProcess(env, tmp_path / "second.log").wait_ready()
        try:
            wait_for(lambda: post_rows(pg_url) == [("k1", "processed")], 90, "the redelivered task")
            with session_scope(pg_url) as s:
                assert s.scalar(select(func.count()).select_from(DeadLetter)) == 0
            log = (tmp_path / "second.log").read_text()
            assert "detector.ingest_post" in log and "succeeded" in log
        finally:
            second.stop()
    finally:
        first.stop()
        locker.dispose()
