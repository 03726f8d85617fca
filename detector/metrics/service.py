"""Online metrics from what moderators decided: per path, content type and prompt version, over windows.

One row per (path, content type[, prompt version]); ``content_type == "all"`` rows pool the types,
``path == "any"`` rows pool every detection path. Each figure is a Wilson 95 % interval with its
sample size (``n``) and hits.

- **precision** = confirmed / decided among what the path flagged (alerts; detections that said
  "professional seller"), with the decision in force now (reverts honoured; an escalation is not a
  decision, it is counted under ``decisions.escalate``);
- **recall** = share of the confirmed professional-seller accounts (``Author.status ==
  "sanctioned"``), whoever found them (any path, a user's report, the random audit sample, a
  moderator on an author page), that this path had flagged, at any time. Per content type the
  denominator is the sanctioned accounts that posted in that type. A prompt-version row's
  denominator is the sanctioned accounts whose posts that version judged (it cannot be blamed for
  posts it never saw);
- **caught** = share of the sanctioned accounts whose sanction came from a confirmed flag of this
  path (the credit goes to the decision that sanctioned the account): the measure the original team
  reported. The ``any`` rows add ``sanctioned``: how many accounts some path flagged, how many only
  reports or the audit sample found (no path flagged them), and how many were found otherwise, and
  ``caught_by``: accounts per crediting path;
- **missed rate** (``audit`` rows): confirmed / decided among the randomly audited posts that no
  path had flagged: an estimate of the share of unflagged posts that come from professional sellers.

Windows (``SPANS``): a window of D days counts the **flags raised in the last D days**, judged by the
decisions in force now, for precision, and the **accounts sanctioned in the last D days** (whenever
they were flagged) for recall and caught; ``all`` counts everything. A flag raised inside the window
and decided after it still counts: precision is about the flags of that period.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta, timezone

from sqlalchemy.orm import Session

from detector.metrics import sources
from detector.metrics.sources import MANUAL, Facts
from detector.review.queue import SOURCES
from detector.metrics.stats import wilson

SPANS: dict[str, timedelta | None] = {"1d": timedelta(days=1), "7d": timedelta(days=7),
                                      "30d": timedelta(days=30), "all": None}
ANY, ALL_TYPES = "any", "all"
KIND_ORDER = {"path": 0, "source": 1, "overall": 2}


def compute(session: Session, *, span: str = "all", now: datetime | None = None) -> list[dict]:
    """The rows for one window (see the module docstring for what each figure means)."""
    return compute_spans(session, [span], now=now)[span]


def compute_spans(session: Session, spans, *, now: datetime | None = None) -> dict[str, list[dict]]:
    """Rows per window, reading the database once (the snapshot task stores every window)."""
    unknown = [s for s in spans if s not in SPANS]
    if unknown:
        raise ValueError(f"unknown span {unknown[0]!r}; one of {', '.join(SPANS)}")
    now = now or datetime.now(timezone.utc)
    facts = sources.load(session)
    return {span: rows_for(facts, span, now - SPANS[span] if SPANS[span] else None) for span in spans}


def _keys(flag) -> list[tuple[str, str, int | None]]:
    keys = [(flag.path, flag.content_type, None), (flag.path, ALL_TYPES, None)]
    if flag.version_id is not None:
        keys.append((flag.path, flag.content_type, flag.version_id))
    if flag.path not in SOURCES:
        keys += [(ANY, flag.content_type, None), (ANY, ALL_TYPES, None)]
    return keys


def rows_for(facts: Facts, span: str, start: datetime | None) -> list[dict]:
    """Pure arithmetic over ``facts``: flags raised since ``start``, accounts sanctioned since ``start``."""
    flagged: dict[tuple, set[int]] = {}  # ever: for recall
    in_window: dict[tuple, list] = {}  # raised since start: for precision
    for flag in facts.flags:
        for key in _keys(flag):
            flagged.setdefault(key, set()).update(flag.authors)
            if start is None or flag.created_at >= start:
                in_window.setdefault(key, []).append(flag)
    sanctioned = {a for a, at in facts.sanctioned.items() if start is None or (at is not None and at >= start)}
    if not flagged and not sanctioned:
        return []
    types = {t for a in sanctioned for t in facts.posted_in.get(a, ())}
    keys = set(flagged) | {(ANY, t, None) for t in types} | {(ANY, ALL_TYPES, None)}
    rows = [_row(facts, key, span, in_window.get(key, []), flagged, sanctioned) for key in keys]
    return sorted(rows, key=lambda r: (KIND_ORDER[r["kind"]], r["path"], r["content_type"] == ALL_TYPES,
                                       r["content_type"], r["prompt_version_id"] or 0))


def _row(facts: Facts, key: tuple, span: str, flags: list, flagged: dict, sanctioned: set[int]) -> dict:
    path, content_type, version_id = key
    pool = sanctioned if content_type == ALL_TYPES else {
        a for a in sanctioned if content_type in facts.posted_in.get(a, ())}
    if version_id is not None:
        pool = pool & facts.judged_by.get(version_id, set())
    mine = flagged.get(key, set())
    decisions = Counter(f.decision or "open" for f in flags)
    decided = decisions["confirm_abuse"] + decisions["benign"]

    def credited(author: int) -> bool:
        who, version = facts.credit.get(author, (None, None))
        if path == ANY:
            return who is not None and who not in SOURCES and who != MANUAL
        return who == path and (version_id is None or version == version_id)

    row = {"span": span, "kind": "overall" if path == ANY else "source" if path in SOURCES else "path",
           "path": path, "content_type": content_type, "prompt_version_id": version_id,
           "prompt_version": facts.versions.get(version_id) if version_id is not None else None,
           "flags": len(flags), "flagged_accounts": len(set().union(*(f.authors for f in flags))),
           "decisions": {k: decisions[k] for k in ("confirm_abuse", "benign", "escalate", "open")},
           "precision": wilson(decisions["confirm_abuse"], decided).as_dict(),
           "recall": wilson(len(pool & mine), len(pool)).as_dict(),
           "caught": wilson(sum(credited(a) for a in pool), len(pool)).as_dict()}
    if path == "audit":
        row["missed_rate"] = row["precision"]
    if path == ANY:
        sourced = flagged.get(("report", content_type, None), set()) | flagged.get(("audit", content_type, None),
                                                                                    set())
        by_path, by_source = pool & mine, (pool - mine) & sourced
        row["sanctioned"] = {"total": len(pool), "flagged_by_a_path": len(by_path),
                             "only_reports_or_audit": len(by_source),
                             "found_otherwise": len(pool) - len(by_path) - len(by_source)}
        by_whom = Counter(facts.credit.get(a, ("unrecorded", None))[0] for a in pool)
        row["caught_by"] = dict(sorted(by_whom.items()))
    return row
