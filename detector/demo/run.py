"""``detector demo``: the whole pipeline on a generated sample stream, offline, in one process.

It always uses its own SQLite file and the in-memory broker, whatever the environment says, so it
can never touch a production database or queue.
"""

from __future__ import annotations

import json
import os
import shutil
from collections import Counter, defaultdict
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
        groups = _identical_after_normalization(session)
    found = _report_groups(groups, truth, echo)
    echo(f"database:  {settings.effective_database_url}")
    return {"ingest": first.as_dict(), "reingest": second.as_dict(), "states": states, "groups": found}


def _identical_after_normalization(session) -> dict[str, list[tuple[str, int | None]]]:
    from detector.posts.models import Post

    groups: dict[str, list[tuple[str, int | None]]] = defaultdict(list)
    for ext_id, sha, author in session.execute(select(Post.external_id, Post.normalized_sha256, Post.author_id)):
        groups[sha].append((ext_id, author))
    return {sha: members for sha, members in groups.items() if len({a for _e, a in members}) >= 2}


def _report_groups(groups, truth, echo) -> list[dict]:
    """Posts that normalize to the same text across several accounts: a first, strict signal."""
    found = []
    echo(f"identical after normalization, across 2+ accounts: {len(groups)} groups")
    for members in sorted(groups.values(), key=len, reverse=True):
        campaigns = Counter(truth.get(e) for e, _a in members)
        label, _n = campaigns.most_common(1)[0]
        found.append({"size": len(members), "authors": len({a for _e, a in members}), "campaign": label})
        echo(f"  {len(members):>3} posts from {found[-1]['authors']} accounts  (truth: {label or 'private sellers'})")
    echo("near-duplicate clusters and alerts are added by the similar-content path (issues #3, #4)")
    return found
