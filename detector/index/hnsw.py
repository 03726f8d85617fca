"""The embedded default: an HNSW index per namespace (usearch) held in the process's memory.

Why usearch and per-process copies: it answers in about a millisecond at 1M vectors, imports in a
fraction of a second, and needs no server. It has no metadata filters and its files tear if a
process dies while saving, so it is only ever a *cache* of the database: each worker process keeps
its own copy and catches up from the ``embeddings``/``posts`` tables before answering (see
``detector.similarity.index_sync``), so a restarted or newly scaled worker loses nothing. Filters are
applied to over-fetched candidates, widening the search until ``top_k`` matches are found or the
namespace is exhausted.
"""

from __future__ import annotations

import numpy as np

from detector.extras import require
from detector.index import filters as filters_module
from detector.index.base import Match, VectorIndex, VectorRecord, normalized


class _Namespace:
    def __init__(self, index):
        self.index = index
        self.key_of: dict[str, int] = {}
        self.id_of: dict[int, str] = {}
        self.metadata: dict[int, dict] = {}
        self.next_key = 0


class HnswIndex(VectorIndex):
    """usearch HNSW, cosine. f16 by default: at 300k posts it matched f32's recall with 30 % less
    memory and faster builds and queries (``detector bench index``, README)."""

    def __init__(self, dim: int, *, dtype: str = "f16", connectivity: int = 16, expansion_add: int = 128,
                 expansion_search: int = 256, threads: int = 0):
        self._usearch = require("usearch.index", extra="embed", purpose="The embedded HNSW index")
        self.dim, self.dtype, self.threads = dim, dtype, threads
        self._params = dict(connectivity=connectivity, expansion_add=expansion_add,
                            expansion_search=expansion_search)
        self._ns: dict[str, _Namespace] = {}

    def _namespace(self, name: str) -> _Namespace:
        if name not in self._ns:
            self._ns[name] = _Namespace(self._usearch.Index(ndim=self.dim, metric="cos", dtype=self.dtype,
                                                            **self._params))
        return self._ns[name]

    def upsert(self, namespace, records):
        if not records:
            return
        ns = self._namespace(namespace)
        latest = {r.id: r for r in records}  # last write wins inside a batch
        vectors = normalized(np.stack([r.values for r in latest.values()]))
        if vectors.shape[1] != self.dim:
            raise ValueError(f"vector dimension {vectors.shape[1]} != index dimension {self.dim}")
        replaced = [ns.key_of[i] for i in latest if i in ns.key_of]
        if replaced:
            ns.index.remove(np.array(replaced, dtype=np.uint64))
        keys = []
        for record in latest.values():
            key = ns.key_of.get(record.id)
            if key is None:
                key = ns.next_key
                ns.next_key += 1
                ns.key_of[record.id], ns.id_of[key] = key, record.id
            ns.metadata[key] = dict(record.metadata)
            keys.append(key)
        ns.index.add(np.array(keys, dtype=np.uint64), vectors, threads=self.threads)

    def query(self, namespace, vector, top_k, filter=None):
        filters_module.validate(filter)
        ns = self._ns.get(namespace)
        size = len(ns.index) if ns else 0
        if not size or top_k <= 0:
            return []
        query = normalized(vector)[0]
        fetch = top_k + 1 if filter else top_k  # most filters (a time window) pass nearly everything
        while True:
            fetch = min(fetch, size)
            found = ns.index.search(query, fetch)
            out = []
            for key, distance in zip(found.keys.tolist(), found.distances.tolist()):
                meta = ns.metadata.get(key)
                if meta is not None and filters_module.matches(meta, filter):
                    out.append(Match(ns.id_of[key], 1.0 - float(distance), dict(meta)))
                    if len(out) == top_k:
                        return out
            if fetch >= size:
                return out
            fetch *= 4

    def query_many(self, namespace, vectors, top_k, filters=None):
        """One batched HNSW search for all rows; a row whose filter leaves too few falls back to ``query``."""
        filters = filters or [None] * len(vectors)
        for flt in filters:
            filters_module.validate(flt)
        ns = self._ns.get(namespace)
        size = len(ns.index) if ns else 0
        if not size or top_k <= 0 or len(vectors) < 2:  # usearch answers a single row differently
            return [self.query(namespace, v, top_k, f) for v, f in zip(vectors, filters)]
        fetch = min(top_k + 1, size)
        found = ns.index.search(normalized(vectors), fetch, threads=self.threads)
        out = []
        for row, flt in enumerate(filters):
            matches = []
            count = int(found.counts[row])
            for key, distance in zip(found.keys[row][:count].tolist(), found.distances[row][:count].tolist()):
                meta = ns.metadata.get(key)
                if meta is not None and filters_module.matches(meta, flt):
                    matches.append(Match(ns.id_of[key], 1.0 - float(distance), dict(meta)))
            if len(matches) >= top_k or fetch >= size:
                out.append(matches[:top_k])
            else:
                out.append(self.query(namespace, vectors[row], top_k, flt))
        return out

    def fetch(self, namespace, ids):
        ns = self._ns.get(namespace)
        if ns is None:
            return {}
        out = {}
        for record_id in ids:
            key = ns.key_of.get(record_id)
            if key is not None:
                out[record_id] = VectorRecord(record_id, np.asarray(ns.index.get(key), dtype=np.float32),
                                              dict(ns.metadata[key]))
        return out

    def delete(self, namespace, ids):
        ns = self._ns.get(namespace)
        if ns is None:
            return
        keys = [ns.key_of.pop(i) for i in ids if i in ns.key_of]
        if keys:
            ns.index.remove(np.array(keys, dtype=np.uint64))
            for key in keys:
                ns.id_of.pop(key, None)
                ns.metadata.pop(key, None)

    def stats(self):
        return {name: len(ns.index) for name, ns in self._ns.items() if len(ns.index)}

    def set_expansion_search(self, ef: int) -> None:
        """Search breadth for every namespace (recall versus latency; the bench sweeps it)."""
        self._params["expansion_search"] = ef
        for ns in self._ns.values():
            ns.index.expansion_search = ef

    def memory_bytes(self) -> int:
        return sum(ns.index.memory_usage for ns in self._ns.values())
