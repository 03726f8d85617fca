"""Fault: PostgreSQL drops the worker's connections while it works. Nothing lost, nothing doubled.

The test kills every server backend of the worker's database (``pg_terminate_backend``) several
times while posts stream in; the worker's tasks fail with connection errors, are retried with
backoff, and in the end every post is stored once and processed, with no dead letter.
"""

import time

import pytest
from sqlalchemy import create_engine, func, select, text

from detector.db.session import session_scope
from detector.demo.generator import generate_stream
from detector.jobs.models import DeadLetter
from detector.posts.models import Post
from detector.similarity.models import ClusterMember
from tests.workerproc import WorkerProcess, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]


def test_connection_drops_lose_and_double_nothing(pg_url, redis_url, producer, tmp_path):
    records = [s.record for s in generate_stream(n_normal=40, n_campaigns=2, seed=5)]
    env = {"DETECTOR_DATABASE_URL": pg_url, "DETECTOR_BROKER_URL": redis_url,
           "DETECTOR_DATA_DIR": str(tmp_path / "data"), "DETECTOR_TASK_RETRY_BACKOFF_MAX": "2"}
    worker = WorkerProcess(env, tmp_path / "w.log").wait_ready()
    admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    db_name = pg_url.rsplit("/", 1)[1]
    killed = 0
    try:
        for i, record in enumerate(records):
            producer.send_task("detector.ingest_post", args=[record], queue="ingest")
            if i % 15 == 7:
                time.sleep(0.3)  # let the worker be mid-flight, then cut it off
                with admin.connect() as conn:
                    killed += conn.execute(text(
                        "select count(pg_terminate_backend(pid)) from pg_stat_activity "
                        "where datname = :db and pid <> pg_backend_pid()"), {"db": db_name}).scalar()

        def done():
            with session_scope(pg_url) as s:
                return s.scalar(select(func.count()).select_from(Post).where(Post.status == "processed"))

        wait_for(lambda: done() == len(records), 180, "every post processed after the drops")
    finally:
        worker.stop()
        admin.dispose()
    assert killed > 0, "the fault was not injected"
    with session_scope(pg_url) as s:
        assert s.scalar(select(func.count()).select_from(Post)) == len(records)
        assert s.scalar(select(func.count(func.distinct(Post.external_id)))) == len(records)
        assert s.scalars(select(DeadLetter)).all() == []
        members = s.scalars(select(ClusterMember.post_id)).all()
        assert len(members) == len(set(members))  # no post counted twice in clusters
    log = (tmp_path / "w.log").read_text(errors="replace")
    assert "retry" in log.lower() or "Retry" in log  # the drops were felt and retried
