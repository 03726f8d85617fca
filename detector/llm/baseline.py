"""The yardstick the LLM path must beat: logistic regression on embeddings of the same 100 + 100 examples.

It runs offline on the embedded default (no endpoint, no GPU), so the path has a working classifier
before any LLM is configured, and its reason is concrete evidence a moderator can check: the training
examples nearest to the post. The regularization strength is chosen by cross-validation on the
training examples alone (never on the test set). The model is stored as JSON: coefficients, intercept,
the embedder's name and the examples; never pickle. The example vectors are recomputed on load with
the same embedder (deterministic), which keeps the file small and readable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from detector.embedding.base import Embedder
from detector.extras import require
from detector.normalize import normalize

FORMAT = "sellerwatch.baseline.v1"


def _embed(embedder: Embedder, texts: Sequence[str]) -> np.ndarray:
    return np.asarray(embedder.encode([normalize(t) for t in texts]), dtype=np.float32)


@dataclass
class Baseline:
    embedder: Embedder
    coef: np.ndarray
    intercept: float
    examples: list[dict]  # {"id", "text", "label": "seller"|"normal"}
    C: float = 1.0
    threshold: float = 0.5
    neighbours: int = 3
    _vectors: np.ndarray | None = field(default=None, repr=False)

    @property
    def vectors(self) -> np.ndarray:
        if self._vectors is None:
            self._vectors = _embed(self.embedder, [e["text"] for e in self.examples])
        return self._vectors

    def probabilities(self, texts: Sequence[str]) -> np.ndarray:
        return self._probabilities(_embed(self.embedder, texts))

    def _probabilities(self, vectors: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-(vectors @ self.coef + self.intercept)))

    def classify(self, texts: Sequence[str]) -> list[tuple[bool, float, str]]:
        """Per text: (is seller, probability of seller, reason naming the nearest training examples)."""
        if not texts:
            return []
        vectors = _embed(self.embedder, texts)
        probabilities = self._probabilities(vectors)
        similarity = vectors @ self.vectors.T
        out = []
        for row, p in zip(similarity, probabilities):
            nearest = np.argsort(-row)[: self.neighbours]
            parts = [f"{self.examples[i]['label']} example {self.examples[i]['id']} ({row[i]:.2f}): "
                     f"{_snippet(self.examples[i]['text'])}" for i in nearest]
            out.append((bool(p >= self.threshold), float(p),
                        f"P(seller)={p:.2f} by the embedding baseline; nearest training examples: " + " | ".join(parts)))
        return out

    def to_json(self) -> dict:
        return {"format": FORMAT, "embedder": self.embedder.name, "dim": int(self.coef.shape[0]),
                "coef": [float(x) for x in self.coef], "intercept": float(self.intercept), "C": self.C,
                "threshold": self.threshold, "neighbours": self.neighbours, "examples": self.examples}

    @classmethod
    def from_json(cls, data: dict, embedder: Embedder) -> Baseline:
        if data.get("format") != FORMAT:
            raise ValueError(f"not a baseline model (format {data.get('format')!r})")
        if data["embedder"] != embedder.name:
            raise ValueError(f"the model was trained on {data['embedder']} vectors, not {embedder.name}")
        return cls(embedder=embedder, coef=np.asarray(data["coef"], dtype=np.float32),
                   intercept=float(data["intercept"]), examples=list(data["examples"]), C=float(data["C"]),
                   threshold=float(data["threshold"]), neighbours=int(data["neighbours"]))


def _snippet(text: str, limit: int = 60) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[:limit] + "…"


def train_baseline(embedder: Embedder, seller_texts: Sequence[str], normal_texts: Sequence[str], *,
                   seller_ids: Sequence[str] | None = None, normal_ids: Sequence[str] | None = None,
                   threshold: float = 0.5) -> Baseline:
    """Fit on the two example sets (labels 1 = seller); C from 5-fold CV over the training set."""
    if not seller_texts or not normal_texts:
        raise ValueError("the baseline needs seller and normal examples")
    linear = require("sklearn.linear_model", extra="embed", purpose="The embedding baseline")
    seller_ids = list(seller_ids or (f"s{i}" for i in range(1, len(seller_texts) + 1)))
    normal_ids = list(normal_ids or (f"n{i}" for i in range(1, len(normal_texts) + 1)))
    examples = ([{"id": i, "text": t, "label": "seller"} for i, t in zip(seller_ids, seller_texts)]
                + [{"id": i, "text": t, "label": "normal"} for i, t in zip(normal_ids, normal_texts)])
    vectors = _embed(embedder, [e["text"] for e in examples])
    labels = np.array([1 if e["label"] == "seller" else 0 for e in examples])
    C = _choose_c(vectors, labels, min(5, len(seller_texts), len(normal_texts)))
    model = linear.LogisticRegression(C=C, max_iter=5000).fit(vectors, labels)
    return Baseline(embedder=embedder, coef=model.coef_[0].astype(np.float32), intercept=float(model.intercept_[0]),
                    examples=examples, C=C, threshold=threshold, _vectors=vectors)


def _choose_c(vectors: np.ndarray, labels: np.ndarray, folds: int, grid=(0.1, 1.0, 10.0, 100.0, 1000.0)) -> float:
    """The inverse regularization strength with the best cross-validated log loss on the training set."""
    if folds < 2:
        return 1.0
    linear = require("sklearn.linear_model", extra="embed", purpose="The embedding baseline")
    selection = require("sklearn.model_selection", extra="embed", purpose="The embedding baseline")
    split = selection.StratifiedKFold(folds, shuffle=True, random_state=0)
    return max(grid, key=lambda C: selection.cross_val_score(
        linear.LogisticRegression(C=C, max_iter=5000), vectors, labels, cv=split, scoring="neg_log_loss").mean())
