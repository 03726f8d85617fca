"""Shingle edges in the pipeline, on SQLite and PostgreSQL, with the real default embedder.

The campaign's texts differ only in filled-in parts (name, fee, short URL): every pair's cosine is
below the near-duplicate threshold, so the vector index alone cannot group them, while their
character 3-grams overlap well above the Jaccard threshold.
"""

from datetime import timedelta

import numpy as np
import pytest
from sqlalchemy import func, select

from detector.db.session import session_scope
from detector.deps import build_deps
from detector.normalize import normalize
from detector.settings import Settings
from detector.similarity.models import Cluster, NearDuplicateEdge, ShingleBand
from detector.similarity.recluster import recluster
from tests.integration.test_pipeline import OTHERS, members, run

TEMPLATE = ("Dear {}, your parcel is held at the depot. Pay the {} redelivery fee at {} within 24 hours "
            "or it returns to sender.")
FILLS = [("Jenny", "1.99", "http://bit.ly/3xQk9"), ("Mohammed", "2.49", "http://tinyurl.com/ab7Zq"),
         ("Olga", "1.50", "http://goo.gl/Zr81"), ("Pedro", "3.10", "http://is.gd/k2Lmw"),
         ("Svetlana", "4.75", "http://rb.gy/q0Xv8")]
CAMPAIGN = [(f"p{i}", f"s{i}", TEMPLATE.format(*fill)) for i, fill in enumerate(FILLS)]


def test_the_campaign_is_below_the_cosine_threshold():
    settings = Settings(database_url="sqlite://")
    vectors = np.asarray(build_deps(settings).embedder.encode([normalize(t) for _e, _a, t in CAMPAIGN]))
    vectors = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    cosine = vectors @ vectors.T
    assert cosine[~np.eye(len(CAMPAIGN), dtype=bool)].max() < settings.near_duplicate_threshold


@pytest.mark.parametrize("shingle_edges", [False, True])
def test_a_template_campaign_ends_in_one_cluster_only_with_shingle_edges(db_url, shingle_edges):
    deps = build_deps(Settings(database_url=db_url, shingle_edges=shingle_edges))
    run(db_url, CAMPAIGN + OTHERS, deps)
    placed = {e: c for e, c in members(db_url).items() if e.startswith("p")}
    with session_scope(db_url) as s:
        methods = set(s.scalars(select(NearDuplicateEdge.method).distinct()))
        if not shingle_edges:
            assert len(placed) < len(CAMPAIGN) or len(set(placed.values())) > 1
            assert "shingle" not in methods
            assert s.scalar(select(func.count()).select_from(ShingleBand)) == 0
            return
        assert set(placed) == {e for e, _a, _t in CAMPAIGN} and len(set(placed.values())) == 1
        assert set(members(db_url)) == set(placed)  # the unrelated posts stay out
        assert "shingle" in methods
        edges = s.scalars(select(NearDuplicateEdge).where(NearDuplicateEdge.method == "shingle")).all()
        assert all(e.similarity >= deps.settings.near_duplicate_threshold and e.cross_author for e in edges)
        result = recluster(s, "listing", window=timedelta(days=3650), model=deps.embedder.name)
        assert result.groups == 1
    assert len(set(members(db_url).values())) == 1
    with session_scope(db_url) as s:
        cluster = s.scalars(select(Cluster).where(Cluster.status == "active")).one()
        assert (cluster.size, cluster.distinct_authors) == (len(CAMPAIGN), len(CAMPAIGN))


def test_a_retried_batch_adds_no_edges(db_url):
    deps = build_deps(Settings(database_url=db_url, shingle_edges=True))
    ids = run(db_url, CAMPAIGN, deps)
    with session_scope(db_url) as s:
        before = s.scalar(select(func.count()).select_from(NearDuplicateEdge))
        from detector.posts.models import Post
        from detector.posts.processing import process_posts

        for post in s.scalars(select(Post)):  # as if the batch's commit had been lost and it ran again
            post.status = "pending"
        s.flush()
        process_posts(s, ids, deps)
        assert s.scalar(select(func.count()).select_from(NearDuplicateEdge)) == before > 0
