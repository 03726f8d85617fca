"""``VectorIndex`` on a Pinecone serverless index, through the official ``pinecone`` SDK.

The index must be created beforehand with ``metric="cosine"`` and ``dimension=dim``: Pinecone then
returns cosine similarity as ``score``, which is exactly what ``Match.score`` promises, so scores
are passed through untouched (a dotproduct or euclidean index would silently break thresholds).

Why the extra work around the SDK:

* Requests are capped at 1,000 vectors and 2 MB, so upserts are packed greedily under both caps
  using a worst-case JSON size per float (25 bytes) plus the measured id/metadata size.
* Pinecone stores metadata as a protobuf ``Struct``: values must be str, number, bool or list of
  str; ``None`` is dropped here (the server would strip it anyway), anything else is a clear
  ``TypeError`` naming the field instead of a 400 for the whole batch. Numbers come back as
  floats, so integral floats are turned back into ints, matching ``MemoryIndex``.
* One retry policy, owned here: 408/429/5xx, timeouts and connection errors are retried with
  exponential backoff (honouring ``Retry-After``), then surface as ``IndexUnavailable`` -- never as
  an empty result. The SDK's own transport retries are switched off when we build the client, so
  attempts do not multiply (4 x 4) and the configured delays are the real ones.
* A rejected API key (401/403) raises ``PineconeAuthError``, not ``IndexUnavailable``: retrying a
  bad key later cannot help, and a worker should stop loudly rather than requeue forever.

* Pinecone caps ``top_k`` at 1,000 when metadata is returned, so larger asks are clamped; record
  ids must be ASCII (the SDK rejects others with ``PineconeValueError``).

Serverless Pinecone is eventually consistent: a write may take a moment to be visible to queries.
The database stays the source of truth, so callers treat this index as a catch-up cache.
The API key is never logged nor put in messages.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import time
from typing import Any, Callable

import numpy as np

from detector.index import filters
from detector.index.base import IndexUnavailable, Match, VectorIndex, VectorRecord

log = logging.getLogger(__name__)

MAX_BATCH_RECORDS = 1_000
MAX_REQUEST_BYTES = 2 * 1024 * 1024
_BYTES_BUDGET = int(MAX_REQUEST_BYTES * 0.9)  # headroom for the envelope and estimate slack
_BYTES_PER_FLOAT = 25  # longest float repr, e.g. "-2.2250738585072014e-308", plus a comma
_FETCH_IDS_PER_REQUEST = 200  # ids travel in the URL query string: keep it well under 8 KB-ish limits
_MAX_TOP_K = 1_000  # Pinecone's cap on top_k when metadata is included
_RETRYABLE_STATUS = frozenset({408, 429, 500, 502, 503, 504})


class PineconeAuthError(PermissionError):
    """Pinecone refused the API key (401/403): a configuration error, not a transient outage."""


def _status(err: BaseException) -> int | None:
    """HTTP status of an SDK error: ``status_code`` in SDK >= 8, ``status`` in older ones."""
    for attr in ("status_code", "status"):
        value = getattr(err, attr, None)
        if isinstance(value, int):
            return value
    return None


def _is_transport_error(err: BaseException) -> bool:
    """Timeouts and connection failures, whichever HTTP stack the SDK version uses."""
    if isinstance(err, (TimeoutError, ConnectionError)):
        return True
    names = {cls.__name__ for cls in type(err).__mro__}
    return any(word in name for name in names for word in ("Timeout", "Connection", "Protocol", "MaxRetry"))


def _retry_after(err: BaseException) -> float | None:
    value = getattr(err, "retry_after", None)
    if value is None:
        headers = getattr(err, "headers", None) or {}
        value = next((v for k, v in dict(headers).items() if str(k).lower() == "retry-after"), None)
    try:
        return max(0.0, float(value)) if value is not None else None
    except (TypeError, ValueError):
        return None


def _wire_metadata(record_id: str, metadata: dict) -> dict:
    """Metadata Pinecone accepts: None dropped, numpy scalars unwrapped, the rest rejected early."""
    out: dict[str, Any] = {}
    for key, value in metadata.items():
        if isinstance(value, np.generic):
            value = value.item()
        if value is None:
            continue
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"metadata {key!r} of record {record_id!r} is not a finite number")
        if isinstance(value, (str, bool, int, float)):
            out[key] = value
        elif isinstance(value, (list, tuple, set, frozenset)) and all(isinstance(v, str) for v in value):
            out[key] = list(value)
        else:
            raise TypeError(f"metadata {key!r} of record {record_id!r} is a {type(value).__name__}: "
                            "Pinecone accepts only str, number, bool or list of str")
    return out


def _from_wire_metadata(metadata: dict | None) -> dict:
    """Struct numbers are doubles: give integral ones back as ints, as they were written."""
    return {k: int(v) if isinstance(v, float) and v.is_integer() else v for k, v in (metadata or {}).items()}


class PineconeIndex(VectorIndex):
    """One Pinecone index; one namespace per content type."""

    def __init__(self, *, api_key: str, host: str, dim: int, client=None,
                 retry_attempts: int = 4, retry_base_delay: float = 0.5, retry_max_delay: float = 8.0,
                 sleep: Callable[[float], None] = time.sleep):
        self.dim = dim
        self._attempts = max(1, retry_attempts)
        self._base_delay = retry_base_delay
        self._max_delay = retry_max_delay
        self._sleep = sleep
        self._owns_client = client is None
        if client is None:
            from detector.extras import require

            pinecone = require("pinecone", extra="pinecone", purpose="The Pinecone index")
            client = pinecone.Pinecone(api_key=api_key)
        self._client = client
        self._index = client.Index(host=host)
        if self._owns_client:
            _disable_sdk_retries(self._index)
        self._host = host

    def __repr__(self) -> str:
        return f"PineconeIndex(host={self._host!r}, dim={self.dim})"

    # -- retries ---------------------------------------------------------------------------------
    def _call(self, what: str, fn: Callable[[], Any]) -> Any:
        for attempt in range(1, self._attempts + 1):
            try:
                return fn()
            except Exception as err:  # noqa: BLE001 - classified below, re-raised if not transient
                status = _status(err)
                if status in (401, 403):
                    raise PineconeAuthError(f"Pinecone refused the API key for {what} (HTTP {status}); "
                                            "check DETECTOR_PINECONE_API_KEY") from err
                transient = status in _RETRYABLE_STATUS or (status is None and _is_transport_error(err))
                if not transient:
                    raise
                if attempt == self._attempts:
                    raise IndexUnavailable(f"Pinecone {what} failed after {attempt} attempts: "
                                           f"{type(err).__name__} (HTTP {status})") from err
                delay = min(self._max_delay, self._base_delay * 2 ** (attempt - 1))
                hinted = _retry_after(err)
                if hinted is not None:
                    delay = min(self._max_delay, max(delay, hinted))
                log.warning("Pinecone %s: %s (HTTP %s), retry %d/%d in %.2fs", what, type(err).__name__,
                            status, attempt, self._attempts - 1, delay)
                self._sleep(delay)
        raise AssertionError("unreachable")

    # -- VectorIndex -----------------------------------------------------------------------------
    def upsert(self, namespace, records):
        records = list({r.id: r for r in records}.values())  # one write per id, the last one wins
        for batch in self._batches(records):
            self._call("upsert", lambda b=batch: self._index.upsert(vectors=b, namespace=namespace))

    def _batches(self, records: list[VectorRecord]):
        """Dicts in the SDK's vector form, packed under 1,000 records and the 2 MB request cap."""
        batch: list[dict] = []
        size = 0
        for record in records:
            values = np.asarray(record.values, dtype=np.float32).ravel()
            if values.shape[0] != self.dim:
                raise ValueError(f"vector dimension {values.shape[0]} != index dimension {self.dim}")
            item = {"id": record.id, "values": values.tolist()}
            metadata = _wire_metadata(record.id, record.metadata or {})
            if metadata:
                item["metadata"] = metadata
            cost = (self.dim * _BYTES_PER_FLOAT + 64 + len(json.dumps(record.id))
                    + len(json.dumps(metadata, ensure_ascii=False).encode()))
            if batch and (len(batch) == MAX_BATCH_RECORDS or size + cost > _BYTES_BUDGET):
                yield batch
                batch, size = [], 0
            batch.append(item)
            size += cost
        if batch:
            yield batch

    def query(self, namespace, vector, top_k, filter=None):
        filters.validate(filter)
        if top_k <= 0:
            return []
        values = np.asarray(vector, dtype=np.float32).ravel()
        if values.shape[0] != self.dim:
            raise ValueError(f"vector dimension {values.shape[0]} != index dimension {self.dim}")
        kwargs = {"vector": values.tolist(), "top_k": min(top_k, _MAX_TOP_K), "namespace": namespace,
                  "include_metadata": True, "include_values": False}
        if filter:
            kwargs["filter"] = filter
        response = self._call("query", lambda: self._index.query(**kwargs))
        return [Match(m.id, float(m.score), _from_wire_metadata(m.metadata)) for m in response.matches]

    def fetch(self, namespace, ids):
        out: dict[str, VectorRecord] = {}
        unique = list(dict.fromkeys(ids))
        for start in range(0, len(unique), _FETCH_IDS_PER_REQUEST):
            chunk = unique[start:start + _FETCH_IDS_PER_REQUEST]
            response = self._call("fetch", lambda c=chunk: self._index.fetch(ids=c, namespace=namespace))
            for vid, v in response.vectors.items():
                values = np.asarray(v.values, dtype=np.float32)
                out[vid] = VectorRecord(vid, values, _from_wire_metadata(v.metadata))
        return out

    def delete(self, namespace, ids):
        unique = list(dict.fromkeys(ids))
        for start in range(0, len(unique), MAX_BATCH_RECORDS):
            chunk = unique[start:start + MAX_BATCH_RECORDS]
            self._call("delete", lambda c=chunk: self._index.delete(ids=c, namespace=namespace))

    def stats(self):
        response = self._call("describe_index_stats", self._index.describe_index_stats)
        counts = {name: int(summary.vector_count) for name, summary in (response.namespaces or {}).items()}
        return {name: n for name, n in counts.items() if n}

    def close(self):
        for obj in (self._index, self._client if self._owns_client else None):
            closer = getattr(obj, "close", None)
            if callable(closer):
                closer()


def _disable_sdk_retries(index) -> None:
    """Turn off the SDK's transport retries (SDK >= 10 keeps them on ``_RetryTransport._config``).

    Best effort on a private attribute: if a future SDK moves it, nothing breaks, retries merely
    stack again (slower, still correct). ``Index`` takes no public retry option, hence this.
    """
    transport = getattr(getattr(getattr(index, "_http", None), "_client", None), "_transport", None)
    config = getattr(transport, "_config", None)
    if dataclasses.is_dataclass(config) and hasattr(config, "max_retries"):
        transport._config = dataclasses.replace(config, max_retries=0)
