"""Periodic reclustering of a namespace's recent window, with stable cluster identity.

Online assignment (``clusters.assign``) is fast but greedy: it never merges two clusters that a
later post bridges, nor splits a chain. This pass regroups the window's near-duplicate graph
(``grouping.group``), then matches new groups to existing clusters by member overlap so ids stay
stable: the group holding most of a cluster's members keeps its id; other groups with its members
are recorded as splits; clusters absorbed into another group are recorded as merged. Members older
than the window keep their membership (a cluster's history is not rewritten).
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta

import numpy as np
from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from detector.db.base import utcnow
from detector.posts.models import Post
from detector.similarity.clusters import refresh_many
from detector.similarity.grouping import GroupingParams, group
from detector.similarity.models import Cluster, ClusterEvent, ClusterMember, NearDuplicateEdge


@dataclass
class ReclusterResult:
    namespace: str
    posts: int = 0
    edges: int = 0
    groups: int = 0
    created: int = 0
    kept: int = 0
    merged: int = 0
    split: int = 0
    dissolved: int = 0
    seconds: float = 0.0
    cluster_ids: list[int] = field(default_factory=list)

    def as_dict(self) -> dict:
        out = asdict(self)
        out.pop("cluster_ids")
        return out


def recluster(session: Session, namespace: str, *, window: timedelta, model: str,
              params: GroupingParams = GroupingParams(), now: datetime | None = None) -> ReclusterResult:
    started, now = time.perf_counter(), now or utcnow()
    result = ReclusterResult(namespace)
    post_ids = np.array(session.scalars(select(Post.id).where(
        Post.content_type == namespace, Post.status == "processed", Post.created_at >= now - window)
        .order_by(Post.id)).all(), dtype=np.int64)
    result.posts = len(post_ids)
    if not len(post_ids):
        return result
    rows = session.execute(select(NearDuplicateEdge.src_post_id, NearDuplicateEdge.dst_post_id,
                                  NearDuplicateEdge.similarity).where(
        NearDuplicateEdge.content_type == namespace, NearDuplicateEdge.src_post_id >= int(post_ids[0])))
    edges = np.array([(a, b, c) for a, b, c in rows], dtype=np.float64).reshape(-1, 3)
    src, dst = np.searchsorted(post_ids, edges[:, 0]), np.searchsorted(post_ids, edges[:, 1])
    inside = (src < len(post_ids)) & (dst < len(post_ids))
    inside[inside] &= (post_ids[src[inside]] == edges[inside, 0]) & (post_ids[dst[inside]] == edges[inside, 1])
    src, dst, sim = src[inside], dst[inside], edges[inside, 2]
    result.edges = int(inside.sum())
    groups = [post_ids[g].tolist() for g in group(len(post_ids), src, dst, sim, params)]
    result.groups = len(groups)
    _apply(session, namespace, post_ids.tolist(), groups, result, now)
    refresh_many(session, result.cluster_ids, model, now)
    result.seconds = round(time.perf_counter() - started, 3)
    return result


def _apply(session: Session, namespace: str, window_ids: list[int], groups: list[list[int]],
           result: ReclusterResult, now: datetime) -> None:
    previous: dict[int, int] = {}
    for chunk in range(0, len(window_ids), 5_000):
        previous.update(session.execute(
            select(ClusterMember.post_id, ClusterMember.cluster_id).join(Cluster, Cluster.id == ClusterMember.cluster_id)
            .where(ClusterMember.post_id.in_(window_ids[chunk:chunk + 5_000]), Cluster.status == "active")).all())
    overlaps = sorted(((n, -len(g), gi, cid) for gi, g in enumerate(groups)
                       for cid, n in Counter(previous[p] for p in g if p in previous).items()), reverse=True)
    owner: dict[int, int] = {}  # group index -> cluster id kept
    taken: set[int] = set()
    for _n, _size, gi, cid in overlaps:
        if gi not in owner and cid not in taken:
            owner[gi] = cid
            taken.add(cid)
    events = []
    fresh = [gi for gi in range(len(groups)) if gi not in owner]
    result.kept = len(groups) - len(fresh)
    if fresh:  # one multi-row INSERT: a flush per new cluster costs seconds at 100k posts
        ids = session.scalars(insert(Cluster).returning(Cluster.id, sort_by_parameter_order=True), [
            {"content_type": namespace, "status": "active", "size": 0, "distinct_authors": 0, "first_seen_at": now,
             "updated_at": now} for _ in fresh]).all()
        for gi, cluster_id in zip(fresh, ids):
            owner[gi] = cluster_id
            sources = {previous[p] for p in groups[gi] if p in previous}
            events += [(cluster_id, "split_from", s) for s in sources] or [(cluster_id, "created", None)]
            result.split += bool(sources)
        result.created = len(fresh)
    grouped_clusters = set(owner.values())
    absorbed = defaultdict(set)
    for gi, members in enumerate(groups):
        for p in members:
            if p in previous and previous[p] not in grouped_clusters:
                absorbed[previous[p]].add(owner[gi])
    for old, into in absorbed.items():
        target = min(into)
        session.get(Cluster, old).status, session.get(Cluster, old).merged_into_id = "merged", target
        events.append((old, "merged_into", target))
        result.merged += 1
    # Neither kept nor absorbed means none of its window members is near-duplicated any more.
    for old in set(previous.values()) - grouped_clusters - set(absorbed):
        session.get(Cluster, old).status = "dissolved"
        events.append((old, "dissolved", None))
        result.dissolved += 1
    touched = set(previous.values()) | grouped_clusters
    desired = {p: owner[gi] for gi, g in enumerate(groups) for p in g}
    moved = [p for p in window_ids if desired.get(p) != previous.get(p)]
    for chunk in range(0, len(moved), 5_000):  # unchanged members keep their added_at (growth history)
        session.execute(delete(ClusterMember).where(ClusterMember.post_id.in_(moved[chunk:chunk + 5_000]),
                                                    ClusterMember.cluster_id.in_(touched)))
    rows = [{"cluster_id": desired[p], "post_id": p, "added_at": now} for p in moved if p in desired]
    if rows:
        session.execute(ClusterMember.__table__.insert(), rows)
    session.add_all(ClusterEvent(cluster_id=c, kind=k, other_cluster_id=o, created_at=now) for c, k, o in events)
    session.flush()
    result.cluster_ids = sorted(session.scalars(select(Cluster.id).where(Cluster.id.in_(touched),
                                                                         Cluster.status == "active")))


def params_from(settings) -> GroupingParams:
    return GroupingParams(split_min_size=settings.cluster_split_min_size,
                          hdbscan_min_cluster_size=settings.hdbscan_min_cluster_size)


def namespaces(session: Session) -> list[str]:
    return list(session.scalars(select(Post.content_type).distinct().order_by(Post.content_type)))


def recluster_and_alert(session: Session, namespace: str, settings, model: str,
                        window: timedelta | None = None) -> tuple[ReclusterResult, list[int]]:
    """The periodic pass: regroup, then let every regrouped cluster raise the alert its rule asks for
    (merges can push a cluster over a level that no single post crossed)."""
    from detector.alerts.service import evaluate_cluster

    result = recluster(session, namespace, window=window or timedelta(hours=settings.recluster_window_hours),
                       model=model, params=params_from(settings))
    raised = [a.id for c in result.cluster_ids if (a := evaluate_cluster(session, c, settings)) is not None]
    return result, raised
