"""Precision and recall of a classifier on labelled posts it was not built from.

Shared by the LLM path (``prompts eval``) and the embedding baseline (``prompts baseline``) so the two
are measured the same way. A post the classifier could not judge (a refusal, a malformed answer) counts
as not flagged, because in production it does not reach the review queue either; ``unclassified`` says
how many there were, so a low recall caused by refusals is visible.
"""

from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path
from typing import Callable, Iterable, Sequence

LABELS = ("seller", "normal")


def read_labelled(path: str | Path, *, labels: tuple[str, ...] | None = LABELS) -> list[dict]:
    """``{"id", "text", "label": "seller"|"normal"}`` lines; other labels are skipped (``labels=None``
    keeps every line, for unlabelled example files); bad lines raise. A missing id becomes ``<file>:<line>``."""
    records = []
    with open(path, encoding="utf-8") as handle:
        for line_no, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError as err:
                raise ValueError(f"{path}:{line_no}: not JSON ({err})") from err
            if not isinstance(record, dict) or not isinstance(record.get("text"), str):
                raise ValueError(f"{path}:{line_no}: expected an object with a string 'text'")
            if labels is None or record.get("label") in labels:
                records.append({**record, "id": str(record.get("id", f"{Path(path).name}:{line_no}"))})
    return records


def split_by_label(records: Iterable[dict]) -> tuple[list[dict], list[dict]]:
    records = list(records)
    return ([r for r in records if r["label"] == "seller"], [r for r in records if r["label"] == "normal"])


def dataset_key(path: str | Path, *, limit: int | None = None, seed: int = 0) -> str:
    """Names one test set: the file's content hash plus how it was cut, so scores are compared like for like."""
    digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()[:12]
    return f"{Path(path).name}:{digest}:{limit or 'all'}:{seed}"


def held_out(records: Sequence[dict], exclude_ids: Iterable[str], *, limit: int | None = None,
             seed: int = 0) -> list[dict]:
    """The records not in ``exclude_ids``; a seeded random ``limit`` of them when given."""
    excluded = set(exclude_ids)
    rest = [r for r in records if r["id"] not in excluded]
    if limit is not None and limit < len(rest):
        rest = random.Random(seed).sample(rest, limit)
    return rest


def scores(tp: int, fp: int, fn: int, tn: int) -> dict:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"n": tp + fp + fn + tn, "seller": tp + fn, "normal": fp + tn, "flagged": tp + fp,
            "precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4),
            "tp": tp, "fp": fp, "fn": fn, "tn": tn}


def evaluate(classify_fn: Callable[[list[str]], list], records: Sequence[dict], *,
             exclude_ids: Iterable[str] = ()) -> dict:
    """Run ``classify_fn`` (texts -> per text ``bool``, ``None`` = unjudged, or a tuple led by the bool)
    on the labelled records not in ``exclude_ids``; return counts, precision, recall and F1."""
    test = held_out(records, exclude_ids)
    answers = classify_fn([r["text"] for r in test]) if test else []
    if len(answers) != len(test):
        raise ValueError(f"classify_fn returned {len(answers)} answers for {len(test)} texts")
    tp = fp = fn = tn = unclassified = 0
    for record, answer in zip(test, answers):
        flagged = answer[0] if isinstance(answer, tuple) else answer
        unclassified += flagged is None
        if record["label"] == "seller":
            tp, fn = tp + bool(flagged), fn + (not flagged)
        else:
            fp, tn = fp + bool(flagged), tn + (not flagged)
    return {**scores(tp, fp, fn, tn), "unclassified": unclassified}


def llm_classify_fn(client, template: str, profile: str, *, before_chunk: Callable[[], None] = lambda: None,
                    after_chunk: Callable[[list], None] = lambda results: None) -> Callable[[list[str]], list]:
    """A ``classify_fn`` asking ``client`` with one prompt version. Texts that normalize alike are asked
    once; ``before_chunk`` can check the budget and ``after_chunk`` log the calls; an ``LLMError`` stops it."""
    from detector.llm.client import LLMError
    from detector.llm.prompts import build_classify_messages
    from detector.normalize import normalize, text_hash

    def classify(texts: list[str]) -> list:
        keys = [text_hash(normalize(t)) for t in texts]
        first = dict(zip(reversed(keys), reversed(texts)))  # the first text of each key
        unique, answers = list(dict.fromkeys(keys)), {}
        step = client.concurrency * 4
        for start in range(0, len(unique), step):
            chunk = unique[start:start + step]
            before_chunk()
            results = client.classify_many([build_classify_messages(template, profile, first[k]) for k in chunk])
            after_chunk([r for r in results if not isinstance(r, LLMError)])
            for key, result in zip(chunk, results):
                if isinstance(result, LLMError):
                    raise result
                answers[key] = result.value.is_professional_seller if result.status == "ok" else None
        return [answers[k] for k in keys]

    return classify
