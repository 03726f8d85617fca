"""Fault: the broker (Redis, with its append-only file as in docker-compose.yml) restarts under load.

A private redis-server on a free loopback port keeps the test away from the shared one. Posts are
sent before, during and after a restart; the worker reconnects by itself, and every post ends
stored once and processed (the beat sweeper's job is done by hand at the end, as beat would).
"""

import shutil
import socket
import subprocess
import time

import pytest
import redis as redis_lib
from celery import Celery
from sqlalchemy import func, select

from detector.db.session import session_scope
from detector.posts.models import Post
from tests.workerproc import WorkerProcess, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PrivateRedis:
    def __init__(self, tmp_path):
        self.port, self.dir = free_port(), tmp_path / "redis"
        self.dir.mkdir()

    def start(self) -> "PrivateRedis":
        subprocess.run(["redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "--port", str(self.port),
                        "--dir", str(self.dir), "--appendonly", "yes", "--appendfsync", "always", "--save", "",
                        "--pidfile", str(self.dir / "redis.pid"), "--logfile", str(self.dir / "redis.log")],
                       check=True)
        client = redis_lib.Redis(port=self.port)
        wait_for(lambda: _pings(client), 20, "redis to start")
        return self

    def stop(self) -> None:
        try:
            redis_lib.Redis(port=self.port).shutdown(nosave=False)
        except redis_lib.ConnectionError:
            pass  # shutting down closes the connection: that is the answer
        wait_for(lambda: not _pings(redis_lib.Redis(port=self.port)), 20, "redis to stop")

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"


def _pings(client) -> bool:
    try:
        return client.ping()
    except redis_lib.ConnectionError:
        return False


@pytest.fixture
def private_redis(tmp_path):
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    server = PrivateRedis(tmp_path).start()
    yield server
    server.stop()


def test_broker_restart_under_load_loses_nothing(pg_url, private_redis, tmp_path):
    env = {"DETECTOR_DATABASE_URL": pg_url, "DETECTOR_BROKER_URL": private_redis.url,
           "DETECTOR_DATA_DIR": str(tmp_path / "data")}
    worker = WorkerProcess(env, tmp_path / "w.log").wait_ready()
    producer = Celery("marketplace-backend", broker=private_redis.url)
    producer.conf.broker_connection_retry_on_startup = True
    sent = []
    try:
        for i in range(60):
            if i == 30:  # the broker goes away mid-stream and comes back with its append-only file
                private_redis.stop()
                time.sleep(1)
                private_redis.start()
            post = {"id": f"r{i}", "author_id": f"a{i % 7}", "text": f"중고 물품 {i}번 팝니다 상태 좋아요"}
            producer.send_task("detector.ingest_post", args=[post], queue="ingest", retry=True,
                               retry_policy={"max_retries": 20, "interval_start": 0.2, "interval_step": 0.5})
            sent.append(post["id"])

        def stored():
            with session_scope(pg_url) as s:
                return s.scalar(select(func.count()).select_from(Post))

        wait_for(lambda: stored() == len(sent), 120, "every sent post stored")
        with session_scope(pg_url) as s:  # what beat's sweeper does for processing messages lost in the restart
            pending = s.scalars(select(Post.id).where(Post.status == "pending")).all()
        if pending:
            producer.send_task("detector.process_posts", args=[pending], queue="embed")

        def processed():
            with session_scope(pg_url) as s:
                return s.scalar(select(func.count()).select_from(Post).where(Post.status == "processed"))

        wait_for(lambda: processed() == len(sent), 120, "every post processed")
    finally:
        producer.close()
        worker.stop()
    with session_scope(pg_url) as s:
        assert s.scalar(select(func.count(func.distinct(Post.external_id)))) == len(sent)
