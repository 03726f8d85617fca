"""Exact brute-force index in memory: the reference every other index is checked against.

It is the fake for tests and the ground truth of recall measurements; fine for small namespaces,
linear per query (about 0.2 s at 1M vectors here), so never the default beyond that.
"""

from __future__ import annotations

import numpy as np

from detector.index import filters
from detector.index.base import Match, VectorIndex, VectorRecord, normalized


class _Namespace:
    def __init__(self, dim: int):
        self.ids: list[str] = []
        self.pos: dict[str, int] = {}
        self.vectors = np.zeros((0, dim), dtype=np.float32)
        self.metadata: list[dict] = []


class MemoryIndex(VectorIndex):
    def __init__(self, dim: int):
        self.dim = dim
        self._ns: dict[str, _Namespace] = {}

    def upsert(self, namespace, records):
        if not records:
            return
        ns = self._ns.setdefault(namespace, _Namespace(self.dim))
        vectors = normalized(np.stack([r.values for r in records]))
        if vectors.shape[1] != self.dim:
            raise ValueError(f"vector dimension {vectors.shape[1]} != index dimension {self.dim}")
        new_rows = []
        for record, vec in zip(records, vectors):
            if record.id in ns.pos:
                ns.vectors[ns.pos[record.id]] = vec
                ns.metadata[ns.pos[record.id]] = dict(record.metadata)
            else:
                ns.pos[record.id] = len(ns.ids) + len(new_rows)
                new_rows.append((record, vec))
        if new_rows:
            ns.ids.extend(r.id for r, _v in new_rows)
            ns.metadata.extend(dict(r.metadata) for r, _v in new_rows)
            ns.vectors = np.vstack([ns.vectors, np.stack([v for _r, v in new_rows])])

    def query(self, namespace, vector, top_k, filter=None):
        filters.validate(filter)
        ns = self._ns.get(namespace)
        if ns is None or not ns.ids or top_k <= 0:
            return []
        scores = ns.vectors @ normalized(vector)[0]
        order = np.argsort(-scores, kind="stable")
        out = []
        for i in order:
            if filters.matches(ns.metadata[i], filter):
                out.append(Match(ns.ids[i], float(scores[i]), dict(ns.metadata[i])))
                if len(out) == top_k:
                    break
        return out

    def fetch(self, namespace, ids):
        ns = self._ns.get(namespace)
        if ns is None:
            return {}
        return {i: VectorRecord(i, ns.vectors[ns.pos[i]].copy(), dict(ns.metadata[ns.pos[i]]))
                for i in ids if i in ns.pos}

    def delete(self, namespace, ids):
        ns = self._ns.get(namespace)
        if ns is None:
            return
        keep = [k for k, i in enumerate(ns.ids) if i not in set(ids)]
        ns.ids = [ns.ids[k] for k in keep]
        ns.metadata = [ns.metadata[k] for k in keep]
        ns.vectors = ns.vectors[keep]
        ns.pos = {i: k for k, i in enumerate(ns.ids)}

    def stats(self):
        return {name: len(ns.ids) for name, ns in self._ns.items() if ns.ids}
