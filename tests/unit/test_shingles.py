"""Character-shingle MinHash: estimates, banding, and the database-backed LSH (window, namespace, retries)."""

import json
import random
from datetime import timedelta

import numpy as np
import pytest
from sqlalchemy import func, select

from detector.db.session import session_scope
from detector.normalize import normalize
from detector.posts.ingest import ingest_lines
from detector.posts.models import Post
from detector.settings import Settings
from detector.similarity import shingles
from detector.similarity.grouping import group, unique_pairs
from detector.similarity.models import ShingleBand, ShingleSignature
from detector.similarity.shingle_index import shingle_neighbours

TEMPLATE = ("Dear {name}, your parcel is held at the depot. Pay the {fee} redelivery fee at {url} within 24 hours "
            "or it returns to sender.")
FILLS = [("Jenny", "1.99", "http://bit.ly/3xQk9"), ("Mohammed", "2.49", "http://tinyurl.com/ab7Zq"),
         ("Olga", "1.50", "http://goo.gl/Zr81")]
UNRELATED = "아이가 커서 작아진 겨울 패딩 팔아요 거의 새것 직거래만 합니다 연락주세요"


def exact_jaccard(a: str, b: str) -> float:
    x, y = shingles.shingles(a), shingles.shingles(b)
    return len(x & y) / len(x | y)


def test_estimate_tracks_the_exact_jaccard():
    rng = random.Random(7)
    errors = []
    for _ in range(100):
        a = "".join(rng.choice("abcdefgh ijk") for _ in range(rng.randint(30, 150)))
        b = list(a)
        for _ in range(rng.randint(0, len(a) // 3)):
            b[rng.randrange(len(b))] = rng.choice("xyz")
        b = "".join(b)
        errors.append(shingles.estimated_jaccard(shingles.signature(a), shingles.signature(b)) - exact_jaccard(a, b))
    assert abs(np.mean(errors)) < 0.02 and np.std(errors) < 0.06  # standard error ~0.044 at J = 0.5


def test_signature_is_deterministic_and_round_trips():
    sig = shingles.signature("same text")
    assert sig.dtype == np.uint32 and len(sig) == shingles.NUM_PERM
    assert np.array_equal(sig, shingles.signature("same text"))
    assert np.array_equal(shingles.from_bytes(shingles.to_bytes(sig)), sig)


@pytest.mark.parametrize("threshold", [0.3, 0.5, 0.8])
def test_banding_makes_pairs_at_the_threshold_candidates_with_high_probability(threshold):
    bands, rows = shingles.lsh_params(threshold)
    assert bands * rows <= shingles.NUM_PERM
    assert shingles.candidate_probability(threshold, bands, rows) >= shingles.MIN_CANDIDATE_PROBABILITY
    fewer = shingles.NUM_PERM // (rows + 1)  # one more row per band would miss too many pairs
    assert shingles.candidate_probability(threshold, fewer, rows + 1) < shingles.MIN_CANDIDATE_PROBABILITY
    keys = shingles.band_keys(shingles.signature("x" * 40), bands, rows)
    assert len(set(keys)) == bands  # a constant signature still gives one distinct key per band


def test_calibration_maps_the_jaccard_threshold_onto_the_cosine_threshold():
    assert shingles.calibrated(0.5, 0.5, 0.85) == pytest.approx(0.85)
    assert shingles.calibrated(1.0, 0.5, 0.85) == pytest.approx(1.0)
    assert 0.85 < shingles.calibrated(0.7, 0.5, 0.85) < shingles.calibrated(0.8, 0.5, 0.85) < 1.0


def test_a_pair_found_by_both_methods_is_grouped_once_at_its_highest_similarity():
    src, dst, sim = unique_pairs(np.array([0, 1, 0]), np.array([1, 0, 2]), np.array([0.86, 0.95, 0.9]))
    assert list(zip(src, dst, sim)) == [(0, 1, 0.95), (0, 2, 0.9)]
    assert [list(g) for g in group(3, np.array([0, 1, 0]), np.array([1, 0, 2]), np.array([0.86, 0.95, 0.9]))] == [
        [0, 1, 2]]


def _posts(url, rows):
    """Ingest (external id, content type, created_at, text) and give the posts their normalized text."""
    lines = [(i, json.dumps({"id": e, "content_type": ct, "created_at": at, "author_id": f"a{i}", "text": t},
                            ensure_ascii=False).encode()) for i, (e, ct, at, t) in enumerate(rows)]
    ingest_lines(lines, settings=Settings(database_url=url), session_factory=lambda: session_scope(url),
                 source="test")


def _link(url, external_ids, window_days=30):
    with session_scope(url) as s:
        posts = list(s.scalars(select(Post).where(Post.external_id.in_(external_ids)).order_by(Post.id)))
        for p in posts:
            p.normalized_text = normalize(p.text)
        found = shingle_neighbours(s, posts[0].content_type, posts, threshold=0.5, cosine_threshold=0.85,
                                   window=timedelta(days=window_days), k=10, max_candidates=100)
        ids = {p.id: p.external_id for p in s.scalars(select(Post))}
        return {ids[pid]: sorted(ids[n.post_id] for n in ns) for pid, ns in found.items()}


def test_mutated_template_links_and_unrelated_text_does_not(sqlite_url):
    texts = [TEMPLATE.format(name=n, fee=f, url=u) for n, f, u in FILLS]
    _posts(sqlite_url, [(f"t{i}", "listing", "2026-03-01T10:00:00Z", t) for i, t in enumerate(texts)]
           + [("u", "listing", "2026-03-01T10:00:00Z", UNRELATED)])
    assert all(exact_jaccard(normalize(texts[0]), normalize(t)) >= 0.5 for t in texts[1:])
    found = _link(sqlite_url, ["t0", "t1", "t2", "u"])  # one batch: its posts find each other
    assert found == {"t0": ["t1", "t2"], "t1": ["t0", "t2"], "t2": ["t0", "t1"], "u": []}


def test_window_and_namespace_are_respected(sqlite_url):
    texts = [TEMPLATE.format(name=n, fee=f, url=u) for n, f, u in FILLS]
    _posts(sqlite_url, [("old", "listing", "2026-01-01T10:00:00Z", texts[0]),
                        ("other-ns", "comment", "2026-03-01T09:00:00Z", texts[1]),
                        ("recent", "listing", "2026-02-25T10:00:00Z", texts[2]),
                        ("new", "listing", "2026-03-01T10:00:00Z", texts[1])])
    _link(sqlite_url, ["old"])
    _link(sqlite_url, ["other-ns"])
    _link(sqlite_url, ["recent"])
    assert _link(sqlite_url, ["new"], window_days=30) == {"new": ["recent"]}  # not "old", not "other-ns"
    assert _link(sqlite_url, ["new"], window_days=90) == {"new": ["old", "recent"]}


def test_a_retried_batch_adds_no_band_rows_or_signatures(db_url):
    texts = [TEMPLATE.format(name=n, fee=f, url=u) for n, f, u in FILLS]
    _posts(db_url, [(f"t{i}", "listing", "2026-03-01T10:00:00Z", t) for i, t in enumerate(texts)])
    first = _link(db_url, ["t0", "t1", "t2"])
    with session_scope(db_url) as s:
        counts = (s.scalar(select(func.count()).select_from(ShingleBand)),
                  s.scalar(select(func.count()).select_from(ShingleSignature)))
    assert counts == (3 * shingles.lsh_params(0.5)[0], 3)
    assert _link(db_url, ["t0", "t1", "t2"]) == first
    with session_scope(db_url) as s:
        assert (s.scalar(select(func.count()).select_from(ShingleBand)),
                s.scalar(select(func.count()).select_from(ShingleSignature))) == counts


def test_candidates_per_post_are_capped(sqlite_url):
    _posts(sqlite_url, [(f"d{i}", "listing", "2026-03-01T10:00:00Z", "sold, thanks all") for i in range(6)])
    with session_scope(sqlite_url) as s:
        posts = list(s.scalars(select(Post).order_by(Post.id)))
        for p in posts:
            p.normalized_text = normalize(p.text)
        found = shingle_neighbours(s, "listing", posts, threshold=0.5, cosine_threshold=0.85,
                                   window=timedelta(days=30), k=10, max_candidates=2)
    assert all(len(ns) == 2 for ns in found.values())
    assert all(n.similarity == pytest.approx(1.0) for ns in found.values() for n in ns)


def test_purge_task_drops_only_bands_older_than_the_window(use_settings, sqlite_url):
    """The beat task keeps the band table bounded by the near-duplicate window."""
    from detector.db.base import utcnow

    use_settings(database_url=sqlite_url, near_duplicate_window_days=7)
    from workers import tasks

    old = (utcnow() - timedelta(days=30)).isoformat()
    tasks.ingest_post.delay({"id": "old", "text": "중고 자전거 팝니다 연락주세요", "created_at": old}).get()
    tasks.ingest_post.delay({"id": "new", "text": "아이폰 케이스 새상품 팝니다"}).get()
    with session_scope(sqlite_url) as s:
        assert s.scalar(select(func.count()).select_from(ShingleBand)) == 2 * shingles.lsh_params(0.5)[0]
    assert tasks.purge_shingle_bands.delay().get() == shingles.lsh_params(0.5)[0]
    with session_scope(sqlite_url) as s:
        assert s.scalar(select(func.count()).select_from(ShingleBand)) == shingles.lsh_params(0.5)[0]
