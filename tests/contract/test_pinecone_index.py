"""``PineconeIndex`` against a local fake of Pinecone's data plane, through the REAL ``pinecone`` SDK.

No client is injected: the SDK's own HTTP client talks to ``tests.fakes.pinecone_server``, so the
JSON field names, query strings and headers are exercised end to end. Retry delays are tiny so the
suite stays fast. A wrong API key raises ``PineconeAuthError`` (a configuration error, never
retried), not ``IndexUnavailable`` (which means "transient, try again later").
"""

import socket
import time
from types import SimpleNamespace

import numpy as np
import pytest

pytest.importorskip("pinecone")

from detector.index.base import IndexUnavailable, VectorRecord  # noqa: E402
from detector.index.pinecone_index import PineconeAuthError, PineconeIndex  # noqa: E402
from tests.contract.vector_index_contract import DIM, VectorIndexContract, vec  # noqa: E402
from tests.fakes.pinecone_server import MAX_BODY_BYTES, FakePinecone  # noqa: E402

FAST = {"retry_attempts": 4, "retry_base_delay": 0.001, "retry_max_delay": 0.02}


@pytest.fixture
def server():
    with FakePinecone(dim=DIM, api_key="test-key") as fake:
        yield fake


def make_index(server, dim=DIM, api_key="test-key", **kwargs):
    host = f"http://127.0.0.1:{server.port}"
    return PineconeIndex(api_key=api_key, host=host, dim=dim, **{**FAST, **kwargs})


class TestPineconeIndex(VectorIndexContract):
    @pytest.fixture
    def index(self, server):
        index = make_index(server)
        yield index
        index.close()


@pytest.fixture
def index(server):
    index = make_index(server)
    yield index
    index.close()


def test_upserts_are_batched_under_the_record_cap(server, index):
    index.upsert("listing", [VectorRecord(f"p{i}", vec(i)) for i in range(2500)])
    assert server.largest_batch <= 1000
    assert len(server.upsert_batches) >= 3
    assert index.stats() == {"listing": 2500}


def test_upserts_are_batched_under_the_size_cap():
    dim = 512
    with FakePinecone(dim=dim) as server:
        index = make_index(server, dim=dim)
        meta = {"author_id": "u1", "title": "x" * 2000, "tags": ["a", "b"]}
        index.upsert("listing", [VectorRecord(f"p{i}", vec(i, dim), meta) for i in range(600)])
        assert server.largest_body <= MAX_BODY_BYTES
        assert len(server.upsert_batches) >= 3  # ~13 KB a record: several requests, none rejected
        assert index.stats() == {"listing": 600}
        index.close()


def test_fake_rejects_oversized_requests_so_the_batching_tests_mean_something(server):
    pinecone = pytest.importorskip("pinecone")
    raw = pinecone.Pinecone(api_key="test-key").Index(host=server.host)
    with pytest.raises(Exception) as err:
        raw.upsert(vectors=[(f"p{i}", vec(i).tolist()) for i in range(1001)], namespace="listing")
    assert getattr(err.value, "status_code", None) == 400
    assert server.largest_batch == 1001 and server.upsert_batches == []
    raw.close()


def test_retries_on_429_then_succeeds(server, index):
    index.upsert("listing", [VectorRecord("a", vec(1))])
    server.fail_next(429, count=2, retry_after=0.01)
    before = server.count("/query")
    assert [m.id for m in index.query("listing", vec(1), top_k=1)] == ["a"]
    assert server.count("/query") - before == 3


def test_retries_on_503_for_writes(server, index):
    server.fail_next(503, count=3)
    index.upsert("listing", [VectorRecord("a", vec(1))])
    assert index.stats() == {"listing": 1}


def test_persistent_5xx_raises_index_unavailable_not_an_empty_result(server, index):
    index.upsert("listing", [VectorRecord("a", vec(1))])
    server.fail_next(500, count=50)
    started = time.monotonic()
    with pytest.raises(IndexUnavailable):
        index.query("listing", vec(1), top_k=1)
    assert time.monotonic() - started < 2
    assert server.count("/query") == 4  # our 4 attempts; the SDK's own transport retries are off


def test_unreachable_host_raises_index_unavailable():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again before use: connection refused
    index = PineconeIndex(api_key="test-key", host=f"http://127.0.0.1:{port}", dim=DIM, **FAST)
    with pytest.raises(IndexUnavailable):
        index.stats()


def test_wrong_api_key_is_a_clear_error_and_not_retried(server):
    index = make_index(server, api_key="wrong-key-123")
    with pytest.raises(PineconeAuthError) as err:
        index.stats()
    assert not isinstance(err.value, IndexUnavailable)
    assert "wrong-key-123" not in str(err.value)
    assert server.count("/describe_index_stats") == 1


def test_api_key_travels_in_the_api_key_header(server, index):
    index.stats()
    assert server.last_headers["api-key"] == "test-key"


def test_metadata_none_values_are_dropped_and_ints_come_back_as_ints(server, index):
    metadata = {"author_id": "u1", "price": None, "created_at": np.int64(1700000000), "tags": ("x", "y"),
                "ratio": 0.5, "sold": False}
    index.upsert("listing", [VectorRecord("a", vec(1), metadata)])
    expected = {"author_id": "u1", "created_at": 1700000000, "tags": ["x", "y"], "ratio": 0.5, "sold": False}
    assert index.fetch("listing", ["a"])["a"].metadata == expected
    assert index.query("listing", vec(1), top_k=1)[0].metadata == expected
    assert isinstance(index.query("listing", vec(1), top_k=1)[0].metadata["created_at"], int)


def test_unsupported_metadata_is_rejected_before_any_request(server, index):
    with pytest.raises(TypeError, match="nested"):
        index.upsert("listing", [VectorRecord("a", vec(1), {"nested": {"a": 1}})])
    assert server.count("/vectors/upsert") == 0


def test_fetch_and_delete_many_ids_are_chunked(server, index):
    index.upsert("listing", [VectorRecord(f"p{i}", vec(i)) for i in range(1200)])
    assert len(index.fetch("listing", [f"p{i}" for i in range(1200)] + ["missing"])) == 1200
    assert server.count("/vectors/fetch") >= 2
    index.delete("listing", [f"p{i}" for i in range(1100)])
    assert index.stats() == {"listing": 100}


def test_wrong_dimension_is_rejected_locally(index):
    with pytest.raises(ValueError):
        index.upsert("listing", [VectorRecord("a", np.ones(DIM + 1, dtype=np.float32))])


class _Status(Exception):
    def __init__(self, status, retry_after=None):
        super().__init__(f"HTTP {status}")
        self.status = status  # the pre-v8 SDK spelling; v10 says status_code
        self.headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}


def test_injected_client_backoff_is_exponential_and_honours_retry_after():
    calls, sleeps = [], []

    class Stats:
        namespaces = {"listing": SimpleNamespace(vector_count=7), "empty": SimpleNamespace(vector_count=0)}

    class FakeIndex:
        def describe_index_stats(self):
            calls.append(1)
            if len(calls) == 1:
                raise _Status(503)
            if len(calls) == 2:
                raise _Status(429, retry_after=0.3)
            return Stats()

    class FakeClient:
        def Index(self, host):  # noqa: N802 - the SDK's spelling
            assert host == "https://idx.example"
            return FakeIndex()

    index = PineconeIndex(api_key="k", host="https://idx.example", dim=DIM, client=FakeClient(),
                          retry_base_delay=0.1, retry_max_delay=1.0, sleep=sleeps.append)
    assert index.stats() == {"listing": 7}
    assert sleeps == [0.1, 0.3]
