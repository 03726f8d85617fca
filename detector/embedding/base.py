"""The ``Embedder`` interface.

An embedder turns normalized post texts into unit-length float32 vectors. ``name`` identifies the
model *and* its output space: cached embeddings are keyed by it, so two embedders must never share a
name unless their vectors are interchangeable.
"""

from __future__ import annotations

import abc

import numpy as np


class Embedder(abc.ABC):
    name: str
    dim: int

    @abc.abstractmethod
    def encode(self, texts: list[str]) -> np.ndarray:
        """``(len(texts), dim)`` float32 rows of unit length."""


def unit_rows(vectors) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms == 0, 1, norms)
