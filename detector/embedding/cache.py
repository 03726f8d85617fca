"""Embedding with a database cache keyed by (model, normalized-text hash).

Bulk posters repeat the same text; after normalization most mutations collapse to one string, so a
repeat costs a lookup, not a model call. Vectors are stored as little-endian float32 bytes.
"""

from __future__ import annotations

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from detector.db.dialect import insert_for
from detector.embedding.base import Embedder
from detector.similarity.models import Embedding


def to_bytes(vector: np.ndarray) -> bytes:
    return np.asarray(vector, dtype="<f4").tobytes()


def from_bytes(raw: bytes) -> np.ndarray:
    return np.frombuffer(raw, dtype="<f4")


def embed_cached(session: Session, embedder: Embedder, texts: dict[str, str]) -> tuple[dict[str, np.ndarray], int]:
    """Vectors for ``{text_sha256: normalized_text}``; returns them and how many the model computed."""
    if not texts:
        return {}, 0
    found: dict[str, np.ndarray] = {}
    hashes = list(texts)
    for start in range(0, len(hashes), 500):
        rows = session.execute(select(Embedding.text_sha256, Embedding.vector).where(
            Embedding.model == embedder.name, Embedding.text_sha256.in_(hashes[start:start + 500])))
        found.update({sha: from_bytes(raw) for sha, raw in rows})
    missing = [sha for sha in hashes if sha not in found]
    if missing:
        vectors = embedder.encode([texts[sha] for sha in missing])
        session.execute(insert_for(session, Embedding.__table__).on_conflict_do_nothing(
            index_elements=["model", "text_sha256"]),
            [{"model": embedder.name, "text_sha256": sha, "dim": embedder.dim, "vector": to_bytes(vec)}
             for sha, vec in zip(missing, vectors)])
        found.update(zip(missing, vectors))
    return found, len(missing)
