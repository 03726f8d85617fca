"""The index benchmark runs end to end on a tiny corpus and reports sane numbers.

Why: the ef/dtype defaults are chosen from its output, so a broken ground truth (recall near 0)
or a missing key must fail here, not in a 20-minute run.
"""

import pytest

pytest.importorskip("usearch")

from detector.bench.index import run_index_bench  # noqa: E402

KEYS = {"n", "dim", "dtype", "ef", "p50_ms", "p99_ms", "recall_at_10", "p50_filtered_ms", "inserts_per_s",
        "rss_mb", "index_mb", "build_s"}


def test_small_index_bench():
    result = run_index_bench(3000, dim=32, queries=50)
    assert KEYS <= result.keys()
    assert (result["n"], result["dim"], result["dtype"]) == (3000, 32, "f32")
    assert result["recall_at_10"] >= 0.9
    assert 0 < result["p50_ms"] <= result["p99_ms"]
    assert result["inserts_per_s"] > 0 and result["index_mb"] > 0 and result["rss_mb"] > 0
