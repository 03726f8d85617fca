"""The contract every ``VectorIndex`` implementation must satisfy.

Subclass ``VectorIndexContract`` and provide a ``make_index(dim)`` fixture-backed method; see
``test_vector_index.py``.
"""

import numpy as np
import pytest

from detector.index.base import VectorRecord
from detector.index.filters import InvalidFilter

DIM = 16


def vec(seed: int, dim: int = DIM) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(dim).astype(np.float32)


def near(base: np.ndarray, seed: int, noise: float = 0.05) -> np.ndarray:
    return base + noise * vec(seed + 10_000, base.shape[0])


class VectorIndexContract:
    """Tests shared by all implementations. ``index`` is an empty index of dimension ``DIM``."""

    def test_query_returns_nearest_first_with_cosine_scores(self, index):
        base = vec(1)
        index.upsert("listing", [VectorRecord("a", base, {"author_id": "u1"}),
                                 VectorRecord("b", near(base, 2), {"author_id": "u2"}),
                                 VectorRecord("c", vec(3), {"author_id": "u3"})])
        matches = index.query("listing", base, top_k=2)
        assert [m.id for m in matches] == ["a", "b"]
        assert matches[0].score == pytest.approx(1.0, abs=1e-3)
        assert 0.9 < matches[1].score < 1.0
        assert matches[1].metadata == {"author_id": "u2"}

    def test_namespaces_are_isolated(self, index):
        index.upsert("listing", [VectorRecord("a", vec(1))])
        index.upsert("jobs", [VectorRecord("a", vec(2)), VectorRecord("b", vec(3))])
        assert index.stats() == {"listing": 1, "jobs": 2}
        assert [m.id for m in index.query("listing", vec(2), top_k=5)] == ["a"]
        assert index.query("nothing-here", vec(1), top_k=5) == []

    def test_upsert_replaces_by_id(self, index):
        index.upsert("listing", [VectorRecord("a", vec(1), {"v": 1})])
        index.upsert("listing", [VectorRecord("a", vec(2), {"v": 2})])
        assert index.stats() == {"listing": 1}
        fetched = index.fetch("listing", ["a"])["a"]
        assert fetched.metadata == {"v": 2}
        assert float(np.dot(fetched.values / np.linalg.norm(fetched.values),
                            vec(2) / np.linalg.norm(vec(2)))) == pytest.approx(1.0, abs=1e-3)

    def test_fetch_and_delete(self, index):
        index.upsert("listing", [VectorRecord(str(i), vec(i)) for i in range(5)])
        assert set(index.fetch("listing", ["1", "3", "zz"])) == {"1", "3"}
        index.delete("listing", ["1", "3", "zz"])
        assert index.stats() == {"listing": 3}
        assert {m.id for m in index.query("listing", vec(1), top_k=10)} == {"0", "2", "4"}

    def test_metadata_filters(self, index):
        base = vec(7)
        index.upsert("listing", [
            VectorRecord(f"p{i}", near(base, i), {"author_id": f"u{i % 3}", "created_at": 1000 + i,
                                                  "region": "mapo" if i % 2 else "gangnam"})
            for i in range(12)])
        other_authors = index.query("listing", base, top_k=20, filter={"author_id": {"$ne": "u0"}})
        assert other_authors and all(m.metadata["author_id"] != "u0" for m in other_authors)
        assert len(other_authors) == 8
        recent = index.query("listing", base, top_k=20, filter={"created_at": {"$gte": 1008}, "region": "mapo"})
        assert sorted(m.id for m in recent) == ["p11", "p9"]
        either = index.query("listing", base, top_k=20, filter={
            "$or": [{"author_id": {"$in": ["u1"]}}, {"created_at": {"$lt": 1001}}]})
        assert sorted(m.id for m in either) == sorted(["p0", "p1", "p4", "p7", "p10"])

    def test_unknown_filter_operator_is_an_error(self, index):
        index.upsert("listing", [VectorRecord("a", vec(1), {"x": 1})])
        with pytest.raises((InvalidFilter, ValueError)):
            index.query("listing", vec(1), top_k=1, filter={"x": {"$regex": "a"}})

    def test_many_records_recall(self, index):
        rng = np.random.default_rng(0)
        centres = rng.standard_normal((20, DIM)).astype(np.float32)
        data = centres[rng.integers(0, 20, 600)] + 0.1 * rng.standard_normal((600, DIM)).astype(np.float32)
        for start in range(0, 600, 250):  # batches, as the pipeline upserts them
            index.upsert("listing", [VectorRecord(str(i), data[i]) for i in range(start, min(600, start + 250))])
        assert index.stats() == {"listing": 600}
        unit = data / np.linalg.norm(data, axis=1, keepdims=True)
        hits = 0
        for q in range(0, 600, 30):
            exact = set(np.argsort(-(unit @ unit[q]))[:10].astype(str))
            hits += len(exact & {m.id for m in index.query("listing", data[q], top_k=10)})
        assert hits / (20 * 10) >= 0.95

    def test_query_many_matches_single_queries(self, index):
        base = vec(11)
        index.upsert("listing", [VectorRecord(f"p{i}", near(base, i, 0.3), {"t": i}) for i in range(30)])
        queries = np.stack([near(base, 100 + i, 0.3) for i in range(4)])
        flts = [None, {"t": {"$gte": 10}}, {"t": {"$in": [1, 2, 3]}}, None]
        batched = index.query_many("listing", queries, 5, flts)
        single = [index.query("listing", q, 5, f) for q, f in zip(queries, flts)]
        assert [[m.id for m in row] for row in batched] == [[m.id for m in row] for row in single]
        assert all(m.metadata["t"] >= 10 for m in batched[1]) and len(batched[2]) == 3
