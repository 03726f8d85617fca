"""Small builders for the metrics tests: accounts, posts, alerted clusters, detections."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from itertools import count

from detector.alerts.models import Alert
from detector.llm.models import PromptVersion
from detector.posts.models import Author, Post
from detector.review.models import Detection
from detector.similarity.models import Cluster, ClusterMember

# Today at noon UTC: near the real time that decisions stamp, and an hour either side stays the same day.
NOW = datetime.now(timezone.utc).replace(hour=12, minute=0, second=0, microsecond=0)
_ids = count(1)


def author(s, name: str | None = None, **kw) -> Author:
    a = Author(external_id=name or f"acct-{next(_ids)}", **kw)
    s.add(a)
    s.flush()
    return a


def post(s, who: Author | None, content_type: str = "listing", *, ago: timedelta = timedelta(hours=3),
         status: str = "processed", external_id: str | None = None) -> Post:
    at = NOW - ago
    p = Post(content_type=content_type, external_id=external_id or f"p-{next(_ids)}",
             author_id=who.id if who else None, text="t", content_sha256="x", created_at=at, ingested_at=at,
             source="test", status=status)
    s.add(p)
    s.flush()
    return p


def alerted_cluster(s, posts: list[Post], *, ago: timedelta = timedelta(hours=1), path: str = "similarity") -> Alert:
    cluster = Cluster(content_type=posts[0].content_type, size=len(posts))
    s.add(cluster)
    s.flush()
    for p in posts:
        s.add(ClusterMember(cluster_id=cluster.id, post_id=p.id))
    alert = Alert(dedupe_key=f"alert-{next(_ids)}", content_type=cluster.content_type, path=path,
                  cluster_id=cluster.id, rule="r", created_at=NOW - ago)
    s.add(alert)
    s.flush()
    return alert


def detection(s, p: Post, path: str = "llm", *, positive: bool = True, version: PromptVersion | None = None,
              ago: timedelta = timedelta(hours=1)) -> Detection:
    d = Detection(dedupe_key=f"{path}-{next(_ids)}", content_type=p.content_type, path=path, post_id=p.id,
                  is_positive=positive, reason="r", prompt_version_id=version and version.id,
                  created_at=NOW - ago)
    s.add(d)
    s.flush()
    return d


def prompt_version(s, label: str, content_type: str = "listing") -> PromptVersion:
    v = PromptVersion(content_type=content_type, version=label, text="x", sha256=label * 8)
    s.add(v)
    s.flush()
    return v


def row(rows: list[dict], path: str, content_type: str = "listing", version_id: int | None = None) -> dict:
    found = [r for r in rows if (r["path"], r["content_type"], r["prompt_version_id"]) ==
             (path, content_type, version_id)]
    assert len(found) == 1, (path, content_type, version_id, [(r["path"], r["content_type"]) for r in rows])
    return found[0]


def hits(figure: dict) -> tuple[int, int]:
    return figure["hits"], figure["n"]
