"""Reclustering: merges what online assignment kept apart, splits chains, keeps ids stable."""

from datetime import timedelta

import numpy as np
from sqlalchemy import select

from detector.db.base import utcnow
from detector.db.session import session_scope
from detector.posts.models import Author, Post
from detector.similarity.grouping import GroupingParams
from detector.similarity.models import Cluster, ClusterEvent, ClusterMember, ClusterSnapshot, NearDuplicateEdge
from detector.similarity.recluster import recluster

PARAMS = GroupingParams(split_min_size=20, hdbscan_min_cluster_size=5)
WINDOW = timedelta(days=1)


def make_posts(s, n):
    now = utcnow()
    authors = [Author(external_id=f"a{i}") for i in range(n)]
    s.add_all(authors)
    s.flush()
    posts = [Post(content_type="listing", external_id=f"p{i}", author_id=authors[i].id, text="t", content_sha256="x",
                  created_at=now, source="test", status="processed", processed_at=now) for i in range(n)]
    s.add_all(posts)
    s.flush()
    return [p.id for p in posts]


def dense_edges(s, ids, sim=0.97, seed=0):
    rng = np.random.default_rng(seed)
    pairs = {tuple(sorted(rng.choice(len(ids), 2, replace=False))) for _ in range(len(ids) * 4)}
    for a, b in pairs:
        s.add(NearDuplicateEdge(content_type="listing", src_post_id=ids[a], dst_post_id=ids[b], similarity=sim,
                                method="embedding", cross_author=True))


def put(s, ids):
    cluster = Cluster(content_type="listing")
    s.add(cluster)
    s.flush()
    s.add_all(ClusterMember(cluster_id=cluster.id, post_id=p) for p in ids)
    return cluster.id


def membership(s):
    return {p: c for p, c in s.execute(select(ClusterMember.post_id, ClusterMember.cluster_id)
                                       .join(Cluster, Cluster.id == ClusterMember.cluster_id)
                                       .where(Cluster.status == "active"))}


def test_bridged_clusters_merge_and_ids_stay_stable(db_url):
    with session_scope(db_url) as s:
        ids = make_posts(s, 12)
        dense_edges(s, ids)
        x, y = put(s, ids[:7]), put(s, ids[7:])
    with session_scope(db_url) as s:
        result = recluster(s, "listing", window=WINDOW, model="m", params=PARAMS)
        assert (result.groups, result.kept, result.merged, result.created) == (1, 1, 1, 0)
        assert set(membership(s).values()) == {x}  # the larger share keeps its id
        assert s.get(Cluster, y).status == "merged" and s.get(Cluster, y).merged_into_id == x
        assert s.get(Cluster, x).size == 12 and s.get(Cluster, x).distinct_authors == 12
        assert [(e.cluster_id, e.kind, e.other_cluster_id) for e in s.scalars(select(ClusterEvent))] == [
            (y, "merged_into", x)]
    with session_scope(db_url) as s:
        again = recluster(s, "listing", window=WINDOW, model="m", params=PARAMS)
        assert (again.kept, again.created, again.merged, again.split) == (1, 0, 0, 0)
        assert len(s.scalars(select(ClusterSnapshot).where(ClusterSnapshot.cluster_id == x)).all()) == 2


def test_a_chained_component_is_split_by_hdbscan(db_url):
    with session_scope(db_url) as s:
        ids = make_posts(s, 40)
        dense_edges(s, ids[:20], seed=1)
        dense_edges(s, ids[20:], seed=2)
        s.add(NearDuplicateEdge(content_type="listing", src_post_id=ids[19], dst_post_id=ids[20], similarity=0.86,
                                method="embedding", cross_author=True))
        z = put(s, ids)
    with session_scope(db_url) as s:
        result = recluster(s, "listing", window=WINDOW, model="m", params=PARAMS)
        assert (result.groups, result.kept, result.created, result.split) == (2, 1, 1, 1)
        placed = membership(s)
        assert len({placed[p] for p in ids[:20]}) == 1 and len({placed[p] for p in ids[20:]}) == 1
        assert placed[ids[0]] != placed[ids[39]] and z in placed.values()
        new = next(c for c in set(placed.values()) if c != z)
        assert s.scalars(select(ClusterEvent.kind).where(ClusterEvent.cluster_id == new)).all() == ["split_from"]


def test_posts_without_edges_dissolve_their_cluster(db_url):
    with session_scope(db_url) as s:
        ids = make_posts(s, 3)
        c = put(s, ids)
    with session_scope(db_url) as s:
        result = recluster(s, "listing", window=WINDOW, model="m", params=PARAMS)
        assert result.dissolved == 1 and s.get(Cluster, c).status == "dissolved"


def test_a_merge_that_crosses_a_level_raises_the_alert(db_url):
    from detector.alerts.models import Alert
    from detector.settings import Settings
    from detector.similarity.recluster import recluster_and_alert

    settings = Settings(database_url=db_url, alert_rules={"*": {"size_levels": [10]}})
    with session_scope(db_url) as s:
        ids = make_posts(s, 12)
        dense_edges(s, ids)
        x, _y = put(s, ids[:7]), put(s, ids[7:])
    with session_scope(db_url) as s:
        _result, raised = recluster_and_alert(s, "listing", settings, "m", WINDOW)
        assert len(raised) == 1 and s.get(Alert, raised[0]).cluster_id == x
    with session_scope(db_url) as s:
        assert recluster_and_alert(s, "listing", settings, "m", WINDOW)[1] == []  # once per crossing
