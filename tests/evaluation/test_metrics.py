"""Pure evaluation arithmetic, exact numbers."""

import pytest

from detector.evaluation import metrics

LABELS = ["seller", "seller", "seller", "seller", "normal", "normal", "normal", "normal", "normal", "normal"]
FLAGS = [True, True, True, False, True, False, False, False, False, False]


def test_confusion_and_scores():
    assert metrics.confusion(LABELS, FLAGS) == {"tp": 3, "fp": 1, "fn": 1, "tn": 5}
    precision, recall, f1 = metrics.prf(3, 1, 1)
    assert (precision, recall, f1) == (0.75, 0.75, 0.75)
    assert metrics.prf(0, 0, 4) == (0.0, 0.0, 0.0)
    with pytest.raises(ValueError):
        metrics.confusion(LABELS, FLAGS[:-1])


def test_precision_at_base_rate():
    # tp_rate 0.75, fp_rate 1/6; at R = 0.01: 0.0075 / (0.0075 + 0.165) = 0.043478...
    assert metrics.precision_at_base_rate(3, 1, 1, 5, 0.01) == pytest.approx(0.0075 / (0.0075 + (1 / 6) * 0.99))
    # at the set's own seller share (0.4) it gives back the measured precision
    assert metrics.precision_at_base_rate(3, 1, 1, 5, 0.4) == pytest.approx(0.75)
    assert metrics.precision_at_base_rate(0, 0, 4, 6, 0.1) == 0.0
    assert metrics.precision_at_base_rate(2, 0, 2, 6, 0.001) == 1.0
    with pytest.raises(ValueError):
        metrics.precision_at_base_rate(1, 1, 1, 1, 1.0)


def test_author_figures():
    authors = ["a", "a", "b", "c", "c", "d", "e", None, "f", "f"]
    out = metrics.author_figures(authors, LABELS, FLAGS)
    # a, b: seller and flagged; c: seller (post 3, not flagged) and flagged through its normal post 4;
    # d, e, f: normal, not flagged; the record without an author is left out
    assert out == {"authors": 6, "authors_seller": 3, "authors_flagged": 3, "author_precision": 1.0,
                   "author_recall": 1.0}
    out = metrics.author_figures(["a", "b", "c", "d"], ["seller", "seller", "normal", "normal"], [True, False, True, False])
    assert out == {"authors": 4, "authors_seller": 2, "authors_flagged": 2, "author_precision": 0.5,
                   "author_recall": 0.5}


def test_summary_keys_and_values():
    out = metrics.summary("minhash", LABELS, FLAGS, base_rate=0.01)
    assert out == {"path": "minhash", "n": 10, "seller": 4, "normal": 6, "flagged": 4, "precision": 0.75,
                   "recall": 0.75, "f1": 0.75, "tp": 3, "fp": 1, "fn": 1, "tn": 5, "base_rate": 0.01,
                   "precision_at_base_rate": 0.0435}
    assert "author_precision" not in metrics.summary("x", LABELS, FLAGS, authors=[None] * 10)
    assert metrics.summary("x", LABELS, FLAGS, authors=["a"] * 10)["authors_seller"] == 1


def test_pr_curve_and_examples():
    scores = [10, 5, 3, 0, 4, 0, 0, 0, 0, 2]
    points = metrics.pr_curve(LABELS, scores, [2, 4, 6])
    assert points == [
        {"threshold": 2, "flagged": 5, "precision": 0.6, "recall": 0.75, "f1": 0.6667},
        {"threshold": 4, "flagged": 3, "precision": 0.6667, "recall": 0.5, "f1": 0.5714},
        {"threshold": 6, "flagged": 1, "precision": 1.0, "recall": 0.25, "f1": 0.4}]
    records = [{"id": i, "text": "x" * 300 if i == 3 else f"t{i}"} for i in range(10)]
    ex = metrics.confusion_examples(records, LABELS, FLAGS)
    assert [e["id"] for e in ex["false_positives"]] == ["4"]
    assert [e["id"] for e in ex["false_negatives"]] == ["3"]
    assert ex["false_negatives"][0]["text"] == "x" * 200 + "…"
