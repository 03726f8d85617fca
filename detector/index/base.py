"""The ``VectorIndex`` interface, mirroring Pinecone's data model.

Namespaces are content types; records have a string id, a vector and flat metadata; queries take
Mongo-style metadata filters (see ``filters``). Every implementation passes the same contract suite
(``tests/contract/test_vector_index.py``). The database stays the source of truth: an index is a
cache that can be rebuilt or caught up from the ``embeddings`` table at any time.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class VectorRecord:
    id: str
    values: np.ndarray
    metadata: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Match:
    id: str
    score: float  # cosine similarity, higher is closer
    metadata: dict = field(default_factory=dict)


class IndexUnavailable(RuntimeError):
    """The backend cannot answer now (network, rate limit, not ready): retry later, never 'no match'."""


class VectorIndex(abc.ABC):
    """Nearest neighbours per namespace. Vectors are compared by cosine similarity."""

    dim: int

    @abc.abstractmethod
    def upsert(self, namespace: str, records: list[VectorRecord]) -> None:
        """Insert or replace records by id."""

    @abc.abstractmethod
    def query(self, namespace: str, vector: np.ndarray, top_k: int, filter: dict | None = None) -> list[Match]:
        """The ``top_k`` closest records whose metadata match ``filter``, closest first."""

    def query_many(self, namespace: str, vectors: np.ndarray, top_k: int,
                   filters: list[dict | None] | None = None) -> list[list[Match]]:
        """One ``query`` per row (with its own filter); implementations may batch it."""
        filters = filters or [None] * len(vectors)
        return [self.query(namespace, v, top_k, f) for v, f in zip(vectors, filters)]

    @abc.abstractmethod
    def fetch(self, namespace: str, ids: list[str]) -> dict[str, VectorRecord]:
        """Records by id; ids not present are absent from the result."""

    @abc.abstractmethod
    def delete(self, namespace: str, ids: list[str]) -> None:
        """Remove records by id; unknown ids are ignored."""

    @abc.abstractmethod
    def stats(self) -> dict[str, int]:
        """Record count per namespace."""

    def close(self) -> None:
        """Release resources (files, connections)."""


def normalized(vectors: np.ndarray) -> np.ndarray:
    """Unit-length float32 rows, so inner product equals cosine."""
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.ndim == 1:
        vectors = vectors[None, :]
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms == 0, 1, norms)
