"""Online cluster assignment: a post joins its near-duplicates' cluster the moment it is processed.

So a campaign's size and number of distinct accounts are current within seconds of each post. The
rule is deliberately simple (join the cluster most of your neighbours are in; start one with your
unclustered neighbours otherwise); merging, splitting and naming are left to the periodic pass
(issue #4), which sees the whole window.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

import numpy as np

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from detector.db.base import utcnow
from detector.db.dialect import insert_for
from detector.embedding.cache import from_bytes, to_bytes
from detector.posts.models import Author, Post
from detector.similarity.models import Cluster, ClusterMember, ClusterSnapshot, Embedding
from detector.similarity.neighbours import Neighbour

NEW_ACCOUNT_AGE = timedelta(days=7)


def _clusters_of(session: Session, post_ids: list[int]) -> dict[int, int]:
    rows = session.execute(select(ClusterMember.post_id, ClusterMember.cluster_id)
                           .join(Cluster, Cluster.id == ClusterMember.cluster_id)
                           .where(ClusterMember.post_id.in_(post_ids), Cluster.status == "active"))
    return {post_id: cluster_id for post_id, cluster_id in rows}


def update_centroid(session: Session, cluster: Cluster, model: str) -> None:
    """Mean of the members' unit vectors, renormalized: what the allowlist compares new posts with."""
    rows = session.scalars(select(Embedding.vector).join(Post, Post.normalized_sha256 == Embedding.text_sha256)
                           .join(ClusterMember, ClusterMember.post_id == Post.id)
                           .where(ClusterMember.cluster_id == cluster.id, Embedding.model == model)).all()
    if rows:
        mean = np.mean([from_bytes(r) for r in rows], axis=0)
        cluster.centroid = to_bytes(mean / (np.linalg.norm(mean) or 1.0))


def refresh_many(session: Session, cluster_ids: list[int], model: str, now: datetime) -> None:
    """Counts, centroids and a snapshot for many clusters in a few grouped queries (reclustering)."""
    for start in range(0, len(cluster_ids), 2_000):
        ids = cluster_ids[start:start + 2_000]
        counts = {c: (n, a) for c, n, a in session.execute(
            select(ClusterMember.cluster_id, func.count(ClusterMember.post_id), func.count(func.distinct(Post.author_id)))
            .join(Post, Post.id == ClusterMember.post_id).where(ClusterMember.cluster_id.in_(ids))
            .group_by(ClusterMember.cluster_id))}
        is_new = case((Author.account_created_at >= now - NEW_ACCOUNT_AGE, Author.id))
        known, new = {}, {}
        for c, n_known, n_new in session.execute(
                select(ClusterMember.cluster_id, func.count(func.distinct(Author.id)), func.count(func.distinct(is_new)))
                .join(Post, Post.id == ClusterMember.post_id).join(Author, Author.id == Post.author_id)
                .where(ClusterMember.cluster_id.in_(ids), Author.account_created_at.is_not(None))
                .group_by(ClusterMember.cluster_id)):
            known[c], new[c] = n_known, n_new
        sums: dict[int, np.ndarray] = {}
        for c, raw in session.execute(
                select(ClusterMember.cluster_id, Embedding.vector).join(Post, Post.id == ClusterMember.post_id)
                .join(Embedding, (Embedding.text_sha256 == Post.normalized_sha256) & (Embedding.model == model))
                .where(ClusterMember.cluster_id.in_(ids))):
            vec = from_bytes(raw)
            sums[c] = sums[c] + vec if c in sums else vec.copy()
        clusters = session.scalars(select(Cluster).where(Cluster.id.in_(ids))).all()
        for cluster in clusters:
            cluster.size, cluster.distinct_authors = counts.get(cluster.id, (0, 0))
            cluster.updated_at = now
            if cluster.id in sums:
                cluster.centroid = to_bytes(sums[cluster.id] / (np.linalg.norm(sums[cluster.id]) or 1.0))
        session.execute(ClusterSnapshot.__table__.insert(), [{
            "cluster_id": c.id, "taken_at": now, "size": c.size, "distinct_authors": c.distinct_authors,
            "new_account_share": (new.get(c.id, 0) / known[c.id]) if known.get(c.id) else None} for c in clusters])


class ClusterAssigner:
    """Online assignment for one batch of posts: a post joins its near-duplicates' cluster at once.

    Membership is looked up once per post id and kept for the batch; counts and centroids are
    refreshed once per touched cluster at ``finish`` (not per post), which keeps the pipeline near
    the model's speed. The rule is deliberately simple (join the cluster most of your neighbours
    are in; start one with your unclustered neighbours otherwise); merging and splitting are left
    to the periodic pass, which sees the whole window.
    """

    def __init__(self, session: Session, namespace: str, model: str):
        self.session, self.namespace, self.model = session, namespace, model
        self.known: dict[int, int | None] = {}
        self.added: dict[int, list[int]] = {}  # memberships to insert at ``finish``, one statement
        self.created: set[int] = set()

    def _lookup(self, post_ids: list[int]) -> None:
        missing = [p for p in post_ids if p not in self.known]
        if missing:
            found = _clusters_of(self.session, missing)
            self.known.update({p: found.get(p) for p in missing})

    def assign(self, post_id: int, neighbours: list[Neighbour]) -> int | None:
        """The cluster ``post_id`` is in after this call, or None if it has no neighbours."""
        if not neighbours:
            return None
        ids = [n.post_id for n in neighbours]
        self._lookup(ids + [post_id])
        if self.known[post_id] is not None:
            return self.known[post_id]  # a retried batch: already assigned
        votes = Counter(self.known[i] for i in ids if self.known[i] is not None)
        if votes:
            cluster_id, joining = votes.most_common(1)[0][0], [post_id]
        else:
            cluster = Cluster(content_type=self.namespace, status="active")
            self.session.add(cluster)
            self.session.flush()
            cluster_id, joining = cluster.id, [post_id] + [i for i in ids if self.known[i] is None]
            self.created.add(cluster_id)
        for p in joining:
            self.known[p] = cluster_id
        self.added.setdefault(cluster_id, []).extend(joining)
        return cluster_id

    def finish(self, vectors: dict[int, np.ndarray]) -> set[int]:
        """Refresh counts and centroids of the clusters this batch touched; return their ids."""
        touched = sorted(self.added)
        if not touched:
            return set()
        now = utcnow()
        self.session.execute(insert_for(self.session, ClusterMember.__table__).on_conflict_do_nothing(
            index_elements=["cluster_id", "post_id"]),
            [{"cluster_id": c, "post_id": p, "added_at": now} for c in touched for p in self.added[c]])
        counts = {c: (n, a) for c, n, a in self.session.execute(
            select(ClusterMember.cluster_id, func.count(ClusterMember.post_id), func.count(func.distinct(Post.author_id)))
            .join(Post, Post.id == ClusterMember.post_id).where(ClusterMember.cluster_id.in_(touched))
            .group_by(ClusterMember.cluster_id))}
        for cluster in self.session.scalars(select(Cluster).where(Cluster.id.in_(touched))):
            before = cluster.size
            cluster.size, cluster.distinct_authors = counts.get(cluster.id, (0, 0))
            cluster.updated_at = utcnow()
            fresh = [vectors[p] for p in self.added[cluster.id] if p in vectors]
            if cluster.id in self.created or cluster.centroid is None or len(fresh) < len(self.added[cluster.id]):
                update_centroid(self.session, cluster, self.model)  # small or unusual: exact
            else:  # running mean of unit vectors, renormalized; reclustering recomputes it exactly
                total = from_bytes(cluster.centroid) * before + np.sum(fresh, axis=0)
                cluster.centroid = to_bytes(total / (np.linalg.norm(total) or 1.0))
        return set(touched)
