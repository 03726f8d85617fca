"""Pure evaluation arithmetic: confusion counts, precision/recall/F1, base-rate re-weighting,
per-author figures and precision-recall curve points. No I/O, no database.

Base-rate re-weighting: labelled sets are far more spam-heavy than a marketplace, so a precision
measured on them overstates what moderators would see. With ``tp_rate = recall = tp / seller`` and
``fp_rate = fp / normal``, the precision at a stated seller base rate ``R`` is

    tp_rate * R / (tp_rate * R + fp_rate * (1 - R))

i.e. the precision the same classifier would have on a population where a share ``R`` of posts are
sellers' (``R`` equal to the set's own seller share gives back the measured precision).
"""

from __future__ import annotations

from typing import Iterable, Mapping, Sequence


def confusion(labels: Sequence[str], flags: Sequence[bool]) -> dict:
    """``tp``, ``fp``, ``fn``, ``tn`` for labels ``seller``/``normal`` and per-record flags."""
    if len(labels) != len(flags):
        raise ValueError(f"{len(labels)} labels but {len(flags)} flags")
    tp = fp = fn = tn = 0
    for label, flag in zip(labels, flags):
        if label == "seller":
            tp, fn = tp + bool(flag), fn + (not flag)
        else:
            fp, tn = fp + bool(flag), tn + (not flag)
    return {"tp": tp, "fp": fp, "fn": fn, "tn": tn}


def prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    """Precision, recall, F1 (0.0 where undefined)."""
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def precision_at_base_rate(tp: int, fp: int, fn: int, tn: int, base_rate: float) -> float:
    """Precision re-weighted to a seller base rate (see the module docstring); 0.0 if nothing is flagged."""
    if not 0 < base_rate < 1:
        raise ValueError("the base rate must be between 0 and 1 (exclusive)")
    tp_rate = tp / (tp + fn) if tp + fn else 0.0
    fp_rate = fp / (fp + tn) if fp + tn else 0.0
    denominator = tp_rate * base_rate + fp_rate * (1 - base_rate)
    return tp_rate * base_rate / denominator if denominator else 0.0


def author_figures(authors: Sequence[str | None], labels: Sequence[str], flags: Sequence[bool]) -> dict:
    """An author is a seller if any of their posts is labelled seller, flagged if any of their posts
    is flagged. Records without an author are left out. Returns counts and author precision/recall."""
    seller: dict[str, bool] = {}
    flagged: dict[str, bool] = {}
    for author, label, flag in zip(authors, labels, flags):
        if author is None:
            continue
        seller[author] = seller.get(author, False) or label == "seller"
        flagged[author] = flagged.get(author, False) or bool(flag)
    tp = sum(seller[a] and flagged[a] for a in seller)
    n_seller, n_flagged = sum(seller.values()), sum(flagged.values())
    precision = tp / n_flagged if n_flagged else 0.0
    recall = tp / n_seller if n_seller else 0.0
    return {"authors": len(seller), "authors_seller": n_seller, "authors_flagged": n_flagged,
            "author_precision": round(precision, 4), "author_recall": round(recall, 4)}


def summary(path: str, labels: Sequence[str], flags: Sequence[bool], *, authors: Sequence[str | None] | None = None,
            base_rate: float | None = None) -> dict:
    """The ``--json`` object: path, counts, precision, recall, F1, and the optional extras."""
    c = confusion(labels, flags)
    precision, recall, f1 = prf(c["tp"], c["fp"], c["fn"])
    out = {"path": path, "n": len(labels), "seller": c["tp"] + c["fn"], "normal": c["fp"] + c["tn"],
           "flagged": c["tp"] + c["fp"], "precision": round(precision, 4), "recall": round(recall, 4),
           "f1": round(f1, 4), **c}
    if authors is not None and any(a is not None for a in authors):
        out.update(author_figures(authors, labels, flags))
    if base_rate is not None:
        out["base_rate"] = base_rate
        out["precision_at_base_rate"] = round(precision_at_base_rate(**c, base_rate=base_rate), 4)
    return out


def pr_curve(labels: Sequence[str], scores: Sequence[float], thresholds: Iterable[float]) -> list[dict]:
    """One point per threshold: a record is flagged when its score is ``>=`` the threshold."""
    points = []
    for threshold in thresholds:
        c = confusion(labels, [s >= threshold for s in scores])
        precision, recall, f1 = prf(c["tp"], c["fp"], c["fn"])
        points.append({"threshold": threshold, "flagged": c["tp"] + c["fp"], "precision": round(precision, 4),
                       "recall": round(recall, 4), "f1": round(f1, 4)})
    return points


def confusion_examples(records: Sequence[Mapping], labels: Sequence[str], flags: Sequence[bool], *,
                       limit: int = 10, chars: int = 200) -> dict[str, list[dict]]:
    """Up to ``limit`` false positives and ``limit`` false negatives, texts cut to ``chars``."""
    out: dict[str, list[dict]] = {"false_positives": [], "false_negatives": []}
    for record, label, flag in zip(records, labels, flags):
        kind = "false_positives" if flag and label != "seller" else "false_negatives" if not flag and label == "seller" else None
        if kind and len(out[kind]) < limit:
            text = str(record.get("text", ""))
            out[kind].append({"id": str(record.get("id")),
                              "text": text if len(text) <= chars else text[:chars] + "…"})
    return out
