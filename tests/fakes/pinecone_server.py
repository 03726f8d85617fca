"""A local HTTP fake of Pinecone's data plane, so the real SDK can be exercised end to end.

Pinecone Local is Docker-only, and mocking the SDK would test our assumptions rather than the wire
format. This serves the REST routes the ``pinecone`` SDK's ``Index`` calls, with the camelCase JSON
it sends and decodes (checked against ``pinecone/index/__init__.py`` and
``pinecone/models/vectors/responses.py`` of SDK 10.2), backed by the exact ``MemoryIndex``.

Fidelity kept on purpose: the ``Api-Key`` header is required (401); upserts over 1,000 vectors or
bodies over 2 MB are rejected with 400, so client batching is really tested; a wrong dimension or
non-Pinecone metadata is a 400; null metadata values are stripped and numbers come back as floats
(Pinecone stores metadata in a protobuf ``Struct``); fetch returns the raw stored values.
``fail_next`` injects 429/5xx answers for retry tests.

    with FakePinecone(dim=16) as server:
        index = PineconeIndex(api_key=server.api_key, host=server.host, dim=16)
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

import numpy as np

from detector.index import filters
from detector.index.base import VectorRecord
from detector.index.memory import MemoryIndex
from tests.fakes.http_base import ThreadedHTTPFake

MAX_UPSERT_VECTORS = 1_000
MAX_BODY_BYTES = 2 * 1024 * 1024
MAX_TOP_K = 10_000


class _ApiError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def _check_metadata(metadata) -> dict:
    if metadata is None:
        return {}
    if not isinstance(metadata, dict):
        raise _ApiError(400, "metadata must be an object")
    out = {}
    for key, value in metadata.items():
        if value is None:  # Pinecone strips nulls on write
            continue
        if isinstance(value, bool) or isinstance(value, str):
            out[key] = value
        elif isinstance(value, (int, float)):
            out[key] = float(value)  # protobuf Struct: every number is a double
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            out[key] = list(value)
        else:
            raise _ApiError(400, f"Metadata value must be a string, number, boolean or list of strings, "
                                 f"got '{json.dumps(value)[:16]}' for field '{key}'")
    return out


class FakePinecone(ThreadedHTTPFake):
    """Pinecone data plane on 127.0.0.1:<random port>, served from a background thread."""

    def __init__(self, *, dim: int = 16, api_key: str = "test-key"):
        super().__init__(_Handler, name="fake-pinecone")
        self.dim = dim
        self.api_key = api_key
        self.index = MemoryIndex(dim)
        self.raw: dict[tuple[str, str], list[float]] = {}  # Pinecone returns values as stored
        self.lock = threading.Lock()
        self.requests: list[tuple[str, str]] = []  # (method, path) of every request received
        self.upsert_batches: list[int] = []  # vector count of every accepted upsert
        self.largest_batch = 0  # most vectors seen in one upsert request, accepted or not
        self.largest_body = 0  # largest request body in bytes, accepted or not
        self.last_headers: dict[str, str] = {}
        self._faults: list[tuple[int, float | None]] = []

    @property
    def host(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def fail_next(self, status: int, count: int = 1, retry_after: float | None = None) -> None:
        """Answer the next ``count`` requests with ``status`` (and ``Retry-After`` if given)."""
        with self.lock:
            self._faults.extend([(status, retry_after)] * count)

    def count(self, path: str) -> int:
        return sum(1 for _m, p in self.requests if p == path)

    # -- request handling (called from handler threads) ------------------------------------------
    def handle(self, method: str, url: str, headers, body: bytes) -> tuple[int, dict, dict]:
        parts = urlsplit(url)
        with self.lock:
            self.requests.append((method, parts.path))
            self.last_headers = {k.lower(): v for k, v in headers.items()}
            self.largest_body = max(self.largest_body, len(body))
            if self._faults:
                status, retry_after = self._faults.pop(0)
                extra = {"Retry-After": str(retry_after)} if retry_after is not None else {}
                error = {"code": 8 if status == 429 else 13, "message": f"injected {status}", "details": []}
                return status, error, extra
            if headers.get("Api-Key") != self.api_key:
                return 401, {"code": 16, "message": "Invalid API Key", "details": []}, {}
            route = self._routes().get((method, parts.path))
            if route is None:
                return 404, {"code": 5, "message": f"no route {method} {parts.path}", "details": []}, {}
            try:
                if method == "GET":
                    payload = {k: v for k, v in parse_qs(parts.query).items()}
                else:
                    payload = json.loads(body or b"{}")
                    if not isinstance(payload, dict):
                        raise _ApiError(400, "request body must be a JSON object")
                return 200, route(payload), {}
            except _ApiError as err:
                return err.status, {"code": 3, "message": str(err), "details": []}, {}
            except (ValueError, KeyError, TypeError) as err:
                return 400, {"code": 3, "message": f"{type(err).__name__}: {err}", "details": []}, {}

    def _routes(self):
        return {("POST", "/vectors/upsert"): self._upsert, ("POST", "/query"): self._query,
                ("GET", "/vectors/fetch"): self._fetch, ("POST", "/vectors/delete"): self._delete,
                ("POST", "/describe_index_stats"): self._stats}

    def _upsert(self, body: dict) -> dict:
        vectors = body.get("vectors") or []
        namespace = body.get("namespace") or ""
        self.largest_batch = max(self.largest_batch, len(vectors))
        if len(vectors) > MAX_UPSERT_VECTORS:
            raise _ApiError(400, f"Upsert batch size {len(vectors)} exceeds the maximum of "
                                 f"{MAX_UPSERT_VECTORS}")
        records = []
        for v in vectors:
            values = v.get("values") or []
            if len(values) != self.dim:
                raise _ApiError(400, f"Vector dimension {len(values)} does not match the dimension "
                                     f"of the index {self.dim}")
            metadata = _check_metadata(v.get("metadata"))
            records.append(VectorRecord(str(v["id"]), np.asarray(values, dtype=np.float32), metadata))
        self.index.upsert(namespace, records)
        for r, v in zip(records, vectors):
            self.raw[(namespace, r.id)] = [float(x) for x in np.asarray(v["values"], dtype=np.float32)]
        self.upsert_batches.append(len(records))
        return {"upsertedCount": len(records)}

    def _query(self, body: dict) -> dict:
        namespace = body.get("namespace") or ""
        top_k = body.get("topK")
        if not isinstance(top_k, int) or not 1 <= top_k <= MAX_TOP_K:
            raise _ApiError(400, f"topK must be between 1 and {MAX_TOP_K}")
        try:
            filters.validate(body.get("filter"))
        except filters.InvalidFilter as err:
            raise _ApiError(400, f"Invalid filter: {err}") from err
        if "vector" in body:
            vector = np.asarray(body["vector"], dtype=np.float32)
            if vector.shape != (self.dim,):
                raise _ApiError(400, f"Query vector dimension {vector.size} does not match the "
                                     f"dimension of the index {self.dim}")
        elif "id" in body:
            stored = self.raw.get((namespace, body["id"]))
            if stored is None:
                return {"matches": [], "namespace": namespace, "usage": {"readUnits": 1}}
            vector = np.asarray(stored, dtype=np.float32)
        else:
            raise _ApiError(400, "No query provided")
        matches = []
        for m in self.index.query(namespace, vector, top_k, body.get("filter")):
            item = {"id": m.id, "score": m.score, "values": []}
            if body.get("includeValues"):
                item["values"] = self.raw[(namespace, m.id)]
            if body.get("includeMetadata") and m.metadata:
                item["metadata"] = m.metadata
            matches.append(item)
        return {"matches": matches, "namespace": namespace, "usage": {"readUnits": 5}}

    def _fetch(self, params: dict) -> dict:
        namespace = (params.get("namespace") or [""])[0]
        ids = params.get("ids") or []
        if not ids:
            raise _ApiError(400, "No ids provided")
        found = self.index.fetch(namespace, ids)
        vectors = {}
        for vid, rec in found.items():
            vectors[vid] = {"id": vid, "values": self.raw[(namespace, vid)]}
            if rec.metadata:
                vectors[vid]["metadata"] = rec.metadata
        return {"vectors": vectors, "namespace": namespace, "usage": {"readUnits": 1}}

    def _delete(self, body: dict) -> dict:
        namespace = body.get("namespace") or ""
        if body.get("deleteAll"):
            ids = [i for ns, i in self.raw if ns == namespace]
        elif body.get("ids"):
            ids = list(body["ids"])
        else:
            raise _ApiError(400, "Delete requires ids, deleteAll or a filter")
        self.index.delete(namespace, ids)
        for i in ids:
            self.raw.pop((namespace, i), None)
        return {}

    def _stats(self, _body: dict) -> dict:
        counts = self.index.stats()
        return {"namespaces": {ns: {"vectorCount": n} for ns, n in counts.items()},
                "dimension": self.dim, "indexFullness": 0.0, "totalVectorCount": sum(counts.values()),
                "metric": "cosine", "vectorType": "dense"}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as httpx/urllib3 expect; every answer has Content-Length
    fake: FakePinecone
    timeout = 30
    # headers and body go out as separate writes: without TCP_NODELAY each answer stalls on delayed ACK
    disable_nagle_algorithm = True

    def _serve(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""  # always drained, so keep-alive stays in sync
        if len(body) > MAX_BODY_BYTES:
            try:
                vectors = len(json.loads(body).get("vectors") or [])
            except (ValueError, AttributeError):
                vectors = 0
            with self.fake.lock:
                self.fake.requests.append((self.command, urlsplit(self.path).path))
                self.fake.largest_body = max(self.fake.largest_body, len(body))
                self.fake.largest_batch = max(self.fake.largest_batch, vectors)
            message = f"Request size {len(body)} exceeds the maximum supported size of {MAX_BODY_BYTES} bytes"
            status, payload, extra = 400, {"code": 3, "message": message, "details": []}, {}
        else:
            status, payload, extra = self.fake.handle(self.command, self.path, self.headers, body)
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for key, value in extra.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = _serve

    def log_message(self, format, *args):  # noqa: A002 - quiet test output
        pass
