"""The embedding baseline on synthetic data (hashing embedder: fast, deterministic), and the evaluation counts."""

import json

import numpy as np
import pytest

from detector.embedding.models import HashingEmbedder
from detector.llm.baseline import Baseline, train_baseline
from detector.llm.evaluate import evaluate, scores
from detector.llm.prompts import sample_examples
from tests.llm.conftest import synthetic


@pytest.fixture(scope="module")
def trained():
    records = synthetic(80, 80, seed=2)
    seller, normal = sample_examples([r for r in records if r["label"] == "seller"],
                                     [r for r in records if r["label"] == "normal"], n=20, seed=0)
    model = train_baseline(HashingEmbedder(), [r["text"] for r in seller], [r["text"] for r in normal],
                           seller_ids=[r["id"] for r in seller], normal_ids=[r["id"] for r in normal])
    return model, records, {r["id"] for r in seller + normal}


def test_baseline_separates_the_held_out_posts_and_explains_with_neighbours(trained):
    model, records, train_ids = trained
    result = evaluate(model.classify, records, exclude_ids=train_ids)
    assert result["n"] == 120 and result["f1"] > 0.85
    flagged, score, reason = model.classify(["최저가 도매 직판 이사 책상 카톡 상담 가능 010-1234-5678"])[0]
    assert flagged and score > 0.5
    assert reason.count(" example ") == 3 and "nearest training examples" in reason
    assert model.C in (0.1, 1.0, 10.0, 100.0, 1000.0)


def test_baseline_round_trips_through_json_not_pickle(trained):
    model, records, _ = trained
    data = json.loads(json.dumps(model.to_json()))
    assert data["format"] == "sellerwatch.baseline.v1" and len(data["examples"]) == 40
    loaded = Baseline.from_json(data, HashingEmbedder())
    texts = [r["text"] for r in records[:10]]
    assert np.allclose(loaded.probabilities(texts), model.probabilities(texts), atol=1e-5)
    assert [c[2] for c in loaded.classify(texts)] == [c[2] for c in model.classify(texts)]
    with pytest.raises(ValueError, match="trained on"):
        Baseline.from_json(data, HashingEmbedder(dim=128))


def test_training_needs_both_classes():
    with pytest.raises(ValueError):
        train_baseline(HashingEmbedder(), ["a"], [])


def test_scores_and_unjudged_posts():
    assert scores(tp=8, fp=2, fn=2, tn=88) == {"n": 100, "seller": 10, "normal": 90, "flagged": 10, "precision": 0.8,
                                               "recall": 0.8, "f1": 0.8, "tp": 8, "fp": 2, "fn": 2, "tn": 88}
    records = [{"id": "1", "text": "a", "label": "seller"}, {"id": "2", "text": "b", "label": "seller"},
               {"id": "3", "text": "c", "label": "normal"}, {"id": "4", "text": "d", "label": "normal"}]
    result = evaluate(lambda texts: [True, None, (False, 0.1, "r"), True], records, exclude_ids={"9"})
    assert (result["tp"], result["fn"], result["fp"], result["tn"], result["unclassified"]) == (1, 1, 1, 1, 1)
    assert scores(0, 0, 0, 5)["precision"] == 0.0
