"""``detector demo``: the whole pipeline on a generated sample stream, offline, in one process.

It always uses its own SQLite file and the in-memory broker, whatever the environment says, so it
can never touch a production database or queue.
"""

from __future__ import annotations

import json
import os
import shutil
from collections import Counter
from pathlib import Path
from typing import Callable

from sqlalchemy import func, select


def _write_sample(path: Path, seed: int) -> tuple[dict[str, str | None], int]:
    from detector.demo.generator import bad_lines, generate_stream

    stream = generate_stream(seed=seed)
    bad = bad_lines()
    truth = {s.record["id"]: s.campaign for s in stream}
    with path.open("wb") as out:
        for i, sample in enumerate(stream):
            out.write(json.dumps(sample.record, ensure_ascii=False).encode("utf-8") + b"\n")
            if i % max(1, len(stream) // len(bad)) == 0 and bad:
                out.write(bad.pop() + b"\n")  # bad lines mixed in, as a real feed would have them
        for line in bad:
            out.write(line + b"\n")
    return truth, len(bad_lines())


def run_demo(*, data_dir: str | None, seed: int, echo: Callable[[str], None]) -> dict:
    base = Path(data_dir) if data_dir else Path(os.environ.get("DETECTOR_DATA_DIR", ".sellerwatch")) / "demo"
    shutil.rmtree(base, ignore_errors=True)
    base.mkdir(parents=True)
    os.environ.update({"DETECTOR_DATA_DIR": str(base), "DETECTOR_BROKER_URL": "memory://",
                       "DETECTOR_DATABASE_URL": f"sqlite:///{base / 'demo.db'}"})
    from detector.settings import get_settings

    get_settings.cache_clear()
    settings = get_settings()

    from detector.cli.runtime import ensure_schema
    from detector.db.session import session_scope
    from detector.posts.ingest import ingest_lines, iter_lines
    from detector.posts.models import Post, RejectedInput
    from workers.tasks import dispatch_processing

    sample = base / "sample.jsonl"
    truth, n_bad = _write_sample(sample, seed)
    echo(f"sample stream: {len(truth)} posts and {n_bad} malformed lines -> {sample}")
    ensure_schema(settings)

    def run_ingest():
        with sample.open("rb") as stream:
            return ingest_lines(iter_lines(stream), settings=settings, session_factory=session_scope,
                                source=f"file:{sample}", on_batch=lambda b, _r: dispatch_processing(b.new_post_ids))

    first, second = run_ingest(), run_ingest()
    echo(f"ingest:    {json.dumps(first.as_dict())}")
    echo(f"re-ingest: {json.dumps(second.as_dict())}  (idempotent: nothing new)")
    with session_scope() as session:
        for code, n in session.execute(select(RejectedInput.reason_code, func.count())
                                       .group_by(RejectedInput.reason_code)):
            echo(f"  rejected [{code}] x{n}")
        states = {s: n for s, n in session.execute(select(Post.status, func.count()).group_by(Post.status))}
        echo(f"pipeline:  {states}")
        clusters = _clusters(session)
        found = _report_clusters(clusters, truth, echo)
        alerts = _report_alerts(session, echo)
    echo("LLM path: disabled (set DETECTOR_LLM_BASE_URL; `detector prompts serve-fake` gives an offline fake)")
    echo(f"database:  {settings.effective_database_url}")
    echo(f"admin UI:  DETECTOR_DATABASE_URL={settings.effective_database_url} DETECTOR_ADMIN_USERS='{{\"you\": "
         "{\"password_hash\": \"<detector admin hash-password>\", \"role\": \"admin\"}}' detector admin run")
    return {"ingest": first.as_dict(), "reingest": second.as_dict(), "states": states, "clusters": found,
            "alerts": alerts}


def _clusters(session) -> list[dict]:
    from detector.posts.models import Post
    from detector.similarity.models import Cluster, ClusterMember

    rows = session.execute(select(Cluster.id, Cluster.size, Cluster.distinct_authors, Post.external_id)
                           .join(ClusterMember, ClusterMember.cluster_id == Cluster.id)
                           .join(Post, Post.id == ClusterMember.post_id).where(Cluster.status == "active"))
    clusters: dict[int, dict] = {}
    for cluster_id, size, authors, ext_id in rows:
        clusters.setdefault(cluster_id, {"id": cluster_id, "size": size, "authors": authors, "posts": []})
        clusters[cluster_id]["posts"].append(ext_id)
    return sorted(clusters.values(), key=lambda c: (-c["size"], c["id"]))


def _report_clusters(clusters: list[dict], truth: dict[str, str | None], echo) -> list[dict]:
    """Each cluster against the generator's truth: which campaign, how pure; and what was missed."""
    echo(f"near-duplicate clusters: {len(clusters)}")
    found = []
    for c in clusters:
        labels = Counter(truth.get(e) or "private" for e in c["posts"])
        label, n = labels.most_common(1)[0]
        found.append({"size": c["size"], "authors": c["authors"], "campaign": label, "purity": n / len(c["posts"])})
        echo(f"  cluster {c['id']:>3}: {c['size']:>3} posts from {c['authors']} accounts  "
             f"(truth: {label}, {n}/{len(c['posts'])})")
    campaigns = Counter(v for v in truth.values() if v)
    clustered = Counter(truth.get(e) for c in clusters if c["authors"] >= 2 for e in c["posts"])
    for name, total in sorted(campaigns.items()):
        echo(f"  campaign {name}: {clustered.get(name, 0)}/{total} posts in multi-account clusters")
    private = sum(1 for c in clusters if c["authors"] >= 2 for e in c["posts"] if not truth.get(e))
    echo(f"  private sellers' posts in multi-account clusters: {private}/{sum(1 for v in truth.values() if not v)}")
    return found


def _report_alerts(session, echo) -> list[dict]:
    from detector.alerts.models import Alert

    alerts = session.scalars(select(Alert).order_by(Alert.id)).all()
    echo(f"alerts stored (no Slack configured, so they wait in the admin UI): {len(alerts)}")
    for alert in alerts:
        summary = alert.summary
        echo(f"  alert {alert.id:>3}: cluster {summary.get('cluster_id')} reached size {summary.get('level')} "
             f"({summary.get('rule')})")
    return [{"id": a.id, "cluster_id": a.cluster_id, "level": a.summary.get("level")} for a in alerts]
