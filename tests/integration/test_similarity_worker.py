"""The similar-content path on a real worker (Redis broker, PostgreSQL store, real USE embeddings).

A campaign of mutated posts from several accounts must end in one cluster within seconds of its
posts arriving; and a restarted worker, whose in-memory index starts empty, must catch up from
the database so new posts still join the clusters of posts it never saw.
"""

import time

import pytest
from sqlalchemy import select

from detector.db.session import session_scope
from detector.demo.generator import generate_stream
from detector.posts.models import Post
from detector.similarity.models import Cluster, ClusterMember
from tests.workerproc import WorkerProcess, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]


def split_stream():
    stream = generate_stream(n_normal=40, n_campaigns=2, seed=11)
    campaigns = sorted({s.campaign for s in stream if s.campaign})
    first = [s.record for s in stream if s.campaign == campaigns[0]]
    second = [s.record for s in stream if s.campaign == campaigns[1]]
    normal = [s.record for s in stream if not s.campaign]
    return first, second, normal


def clusters_of(url, external_ids):
    with session_scope(url) as s:
        rows = s.execute(select(Post.external_id, ClusterMember.cluster_id, Post.status)
                         .outerjoin(ClusterMember, ClusterMember.post_id == Post.id)
                         .where(Post.external_id.in_(external_ids))).all()
    return {e: (c, status) for e, c, status in rows}


def all_processed(url, n):
    with session_scope(url) as s:
        return len(s.scalars(select(Post.id).where(Post.status == "processed")).all()) == n


def test_campaign_clusters_within_seconds_and_survives_a_restart(pg_url, redis_url, producer, tmp_path):
    env = {"DETECTOR_DATABASE_URL": pg_url, "DETECTOR_BROKER_URL": redis_url,
           "DETECTOR_DATA_DIR": str(tmp_path / "data")}
    first, second, normal = split_stream()
    late = second[len(second) // 2:]
    early = first + second[:len(second) // 2] + normal
    worker = WorkerProcess(env, tmp_path / "w1.log").wait_ready()
    try:
        for record in early:
            producer.send_task("detector.ingest_post", args=[record], queue="ingest")
        sent = time.monotonic()
        wait_for(lambda: all_processed(pg_url, len(early)), 120, "every post processed")
        print(f"\n{len(early)} posts processed {time.monotonic() - sent:.1f} s after the last was sent")
    finally:
        worker.stop()

    placed = clusters_of(pg_url, [r["id"] for r in first])
    cluster_ids = {c for c, _status in placed.values()}
    assert len(cluster_ids) == 1 and None not in cluster_ids, placed
    with session_scope(pg_url) as s:
        cluster = s.get(Cluster, cluster_ids.pop())
        assert cluster.size == len(first)
        assert cluster.distinct_authors == len({r["author_id"] for r in first}) >= 3

    # A new worker process: its index is empty until it catches up from the database.
    worker = WorkerProcess(env, tmp_path / "w2.log").wait_ready()
    try:
        for record in late:
            producer.send_task("detector.ingest_post", args=[record], queue="ingest")
        wait_for(lambda: all_processed(pg_url, len(early) + len(late)), 120, "late posts processed")
    finally:
        worker.stop()
    placed = clusters_of(pg_url, [r["id"] for r in second])
    assert len({c for c, _s in placed.values()}) == 1 and None not in {c for c, _s in placed.values()}, placed
