"""``detector bench load``: several real worker processes on Redis and PostgreSQL under a fixed rate.

A producer sends generated posts (private sellers and campaigns) by name at ``rate`` posts/s for
``seconds``; ``workers`` worker processes (one per core is the sensible maximum here) consume them.
It prints sustained throughput, end-to-end latency (sent → processed, i.e. embedded, linked,
clustered and alert rules applied) p50/p95/p99, the deepest queue seen, and checks that every post is
accounted for. It runs on a temporary database it creates on the server and drops afterwards.

``batch`` > 1 sends lists of that many posts to ``detector.ingest_posts`` instead of one
``detector.ingest_post`` message per post, as a producer that buffers would. Latency then counts
from when each post was due at the producer, so the wait to fill its batch is included.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import numpy as np

QUEUES = ("ingest", "embed", "cluster", "alerts", "maintenance")


def run_load_bench(*, workers: int, rate: float, seconds: int, admin_url: str, broker_url: str,
                   data_dir: Path, batch: int = 1) -> dict:
    import redis
    from celery import Celery
    from sqlalchemy import create_engine, func, select, text

    from detector.db import migrate
    from detector.db.session import reset_engines, session_scope
    from detector.demo.generator import generate_stream
    from detector.posts.ingest import MAX_TASK_BATCH
    from detector.posts.models import Post, RejectedInput

    if not 1 <= batch <= MAX_TASK_BATCH:
        raise ValueError(f"batch must be between 1 and {MAX_TASK_BATCH}")
    name = f"sw_load_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin_url.rsplit("/", 1)[0] + f"/{name}"
    migrate.upgrade(url)
    broker = redis.Redis.from_url(broker_url)
    broker.flushdb()
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("DETECTOR_")},
           "DETECTOR_DATABASE_URL": url, "DETECTOR_BROKER_URL": broker_url, "DETECTOR_DATA_DIR": str(data_dir)}
    procs = [subprocess.Popen([sys.executable, "-m", "detector.cli", "worker", "-Q", ",".join(QUEUES), "--pool", "solo",
                               "-l", "WARNING"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
             for _ in range(workers)]
    producer = Celery("load-producer", broker=broker_url)
    total = int(rate * seconds)
    stream = generate_stream(n_normal=max(1, int(total * 0.8)), n_campaigns=max(1, total // 150), seed=11)[:total]
    sent_at: dict[str, float] = {}
    pending: list[tuple[dict, float]] = []  # (record, due) waiting for its batch to fill
    depth = 0
    try:
        time.sleep(8)  # workers start (imports, model load) before the clock starts
        start = time.time()
        for i, sample in enumerate(stream):
            due = start + i / rate
            if due > time.time():
                time.sleep(due - time.time())
            record = {**sample.record, "id": f"load-{i}"}
            if batch == 1:
                producer.send_task("detector.ingest_post", args=[record], queue="ingest")
                sent_at[record["id"]] = time.time()
            else:
                pending.append((record, due))
                if len(pending) == batch or i == len(stream) - 1:
                    records = [r for r, _ in pending]
                    producer.send_task("detector.ingest_posts", args=[records], queue="ingest")
                    sent_at.update((r["id"], d) for r, d in pending)
                    pending.clear()
            if i % max(1, int(rate)) == 0:
                depth = max(depth, sum(broker.llen(q) for q in QUEUES))
        sent_done = time.time()
        deadline = sent_done + 600
        while time.time() < deadline:
            depth = max(depth, sum(broker.llen(q) for q in QUEUES))
            with session_scope(url) as s:
                settled = s.scalar(select(func.count()).select_from(Post).where(Post.status != "pending"))
                rejected = s.scalar(select(func.count()).select_from(RejectedInput))
            if settled + rejected >= len(sent_at):
                break
            time.sleep(0.5)
        finished = time.time()
        with session_scope(url) as s:
            rows = s.execute(select(Post.external_id, Post.processed_at, Post.status)).all()
            rejected = s.scalar(select(func.count()).select_from(RejectedInput))
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=30)
        producer.close()
        reset_engines()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    latencies = np.array([r.processed_at.timestamp() - sent_at[r.external_id] for r in rows
                          if r.processed_at and r.external_id in sent_at])
    processed = sum(1 for r in rows if r.status == "processed")
    pct = (lambda q: round(float(np.percentile(latencies, q)), 3) if len(latencies) else None)
    return {"workers": workers, "rate": rate, "seconds": seconds, "batch": batch, "sent": len(sent_at),
            "processed": processed,
            "failed": sum(1 for r in rows if r.status == "failed"), "rejected": rejected,
            "accounted_for": processed + rejected + sum(1 for r in rows if r.status == "failed") == len(sent_at),
            "sustained_posts_per_s": round(processed / (finished - start), 1),
            "latency_p50_s": pct(50), "latency_p95_s": pct(95), "latency_p99_s": pct(99), "max_queue_depth": depth}
