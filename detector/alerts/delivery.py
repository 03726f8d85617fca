"""The Slack outbox: deliver an alert's message at most once, and keep it in step with the alert.

A delivery row moves ``pending -> sending -> sent``; a decision or a changed summary turns ``sent``
into ``update_pending`` (``mark_for_update``), and the next delivery edits the message in place
(``updating -> sent``). Slack is called between two committed transactions: the first claims the
row (``attempts += 1``, a lease in ``next_attempt_at``), the second records the ``ts``. So a worker
that dies mid-send leaves a ``sending`` row whose lease runs out; whoever picks it up next, and
every retry after a failed attempt, first asks Slack whether the message is already there
(``find_posted``) and only posts if it is not. Two workers never hold the same row: the claim uses
``FOR UPDATE SKIP LOCKED`` on PostgreSQL and a compare-and-set on ``attempts`` everywhere.

While a message is being sent the alert may be decided; the second transaction re-renders the
message and leaves the row ``update_pending`` when it differs from what went out, so the edit
follows. Transient Slack errors are recorded (``last_error``, ``next_attempt_at`` honouring
Retry-After, else a backoff doubling per attempt of the row) and re-raised, carrying that delay as
``retry_after``, for the task to retry; ``SlackRejected`` fails the row for good.
Each round first waits for the channel's slot in an in-process token bucket (Slack takes about one
message per second per channel), so a burst of alerts is spread out instead of answered with 429s.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from detector.alerts.models import Alert, AlertDelivery
from detector.alerts.slack_messages import alert_blocks, alert_text
from detector.alerts.slack_sink import SlackRateLimited, SlackRejected, SlackSink, SlackUnavailable
from detector.db.base import utcnow
from detector.review.service import latest_decision

SessionFactory = Callable[[], AbstractContextManager[Session]]
CHANNEL = "slack"
CLAIM_TTL = timedelta(seconds=60)  # a claim older than this belongs to a dead worker
HISTORY_SKEW = timedelta(minutes=10)  # clock difference tolerated between us and Slack's ts
MAX_ROUNDS = 3  # an edit superseded while in flight is redone, a bounded number of times
BACKOFF_S, BACKOFF_MAX_S = 5.0, 300.0  # after a failed attempt n of a row: min(max, base * 2**(n-1))


class ChannelRateLimiter:
    """A token bucket per channel (Slack allows about one message per second per channel), in-process."""

    def __init__(self, rate: float = 1.0, burst: int = 1, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep):
        self.rate, self.burst, self.clock, self.sleep = rate, burst, clock, sleep
        self._state: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def acquire(self, key: str) -> float:
        """Reserve a slot for ``key``, sleep until it comes, and return the seconds slept."""
        with self._lock:
            now = self.clock()
            tokens, last = self._state.get(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - last) * self.rate) - 1.0
            self._state[key] = (tokens, now)
        wait = max(0.0, -tokens / self.rate)
        if wait:
            self.sleep(wait)
        return wait


DEFAULT_LIMITER = ChannelRateLimiter()


@dataclass(frozen=True)
class _Claim:
    delivery_id: int
    attempts: int
    ts: str | None  # set: edit this message; None: post (after looking for it when check_first)
    check_first: bool
    oldest: str
    blocks: list[dict]
    text: str


def mark_for_update(session: Session, alert_id: int) -> int:
    """Have every sent message of this alert edited to its current state; returns the rows marked.

    Locking the alert's delivery rows first (PostgreSQL) serialises this with a worker finishing a
    send: either it sees the new alert state, or this sees its ``sent``.
    """
    rows = select(AlertDelivery.id).where(AlertDelivery.alert_id == alert_id)
    if _is_postgres(session):
        session.execute(rows.with_for_update())
    result = session.execute(update(AlertDelivery).where(AlertDelivery.alert_id == alert_id,
                                                         AlertDelivery.status == "sent")
                             .values(status="update_pending", next_attempt_at=None))
    return result.rowcount


def deliver_alert(session_factory: SessionFactory, alert_id: int, sink: SlackSink, *, admin_base_url: str,
                  now: Callable[[], datetime] | datetime | None = None,
                  limiter: ChannelRateLimiter | None = None, claim_ttl: timedelta = CLAIM_TTL,
                  backoff_s: float = BACKOFF_S, backoff_max_s: float = BACKOFF_MAX_S) -> str:
    """Post or edit the alert's message in ``sink.channel`` as its delivery row requires; return the outcome.

    Outcomes (of the first round, when an edit follows at once): ``sent``, ``recovered`` (an earlier
    attempt had posted it), ``updated``, ``already_sent``,
    ``in_progress`` (another worker holds the row; retry after ``claim_ttl``), ``failed`` (Slack
    rejected it), ``skipped_failed``, ``skipped_no_delivery``, ``skipped_no_alert``. Raises
    ``SlackRateLimited`` / ``SlackUnavailable`` after recording them, with ``retry_after`` set to the
    seconds until the row's next attempt is due (Slack's Retry-After, or the backoff).
    ``session_factory`` is e.g. ``functools.partial(session_scope, url)``; ``now`` a datetime or clock.
    """
    clock = now if callable(now) else (lambda: now) if now is not None else utcnow
    limiter = limiter or DEFAULT_LIMITER
    first = None
    for _round in range(MAX_ROUNDS):
        limiter.acquire(sink.channel)  # wait before claiming, so the wait never eats into the lease
        claim = _claim(session_factory, alert_id, sink.channel, clock(), claim_ttl, admin_base_url)
        if isinstance(claim, str):
            return first or claim
        outcome, again = _send(session_factory, alert_id, sink, claim, clock, admin_base_url,
                               (backoff_s, backoff_max_s))
        first = first or outcome
        if not again:
            break
    return first


def _claim(session_factory: SessionFactory, alert_id: int, target: str, now: datetime, ttl: timedelta,
           admin_base_url: str) -> _Claim | str:
    """Transaction 1: take the row for this attempt and render what to send."""
    with session_factory() as session:
        query = select(AlertDelivery).where(AlertDelivery.alert_id == alert_id,
                                            AlertDelivery.channel == CHANNEL, AlertDelivery.target == target)
        locking = query.with_for_update(skip_locked=True) if _is_postgres(session) else query
        row = session.scalars(locking).first()
        if row is None:
            return "in_progress" if session.scalars(query).first() else "skipped_no_delivery"
        if row.status == "sent":
            return "already_sent"
        if row.status == "failed":
            return "skipped_failed"
        if row.status in ("sending", "updating") and row.next_attempt_at and row.next_attempt_at > now:
            return "in_progress"
        alert = session.get(Alert, alert_id)
        if alert is None:
            return "skipped_no_alert"
        editing = row.external_ref is not None and row.status in ("update_pending", "updating")
        attempts, check_first = row.attempts, row.attempts > 0 or row.status == "sending"
        claimed = session.execute(update(AlertDelivery).where(AlertDelivery.id == row.id,
                                                              AlertDelivery.attempts == attempts)
                                  .values(status="updating" if editing else "sending", attempts=attempts + 1,
                                          next_attempt_at=now + ttl))
        if claimed.rowcount != 1:
            return "in_progress"
        blocks, text = _render(session, alert, admin_base_url)
        oldest = f"{(row.created_at - HISTORY_SKEW).timestamp():.6f}"
        return _Claim(row.id, attempts + 1, row.external_ref if editing else None,
                      check_first=check_first, oldest=oldest, blocks=blocks, text=text)


def _send(session_factory: SessionFactory, alert_id: int, sink: SlackSink, claim: _Claim,
          clock: Callable[[], datetime], admin_base_url: str,
          backoff: tuple[float, float]) -> tuple[str, bool]:
    """Outside any transaction: call Slack; then transaction 2 records what happened."""
    editing = claim.ts is not None
    try:
        if editing:
            sink.update(claim.ts, claim.blocks, claim.text)
            ts, outcome = claim.ts, "updated"
        else:
            ts = sink.find_posted(alert_id, claim.oldest) if claim.check_first else None
            outcome = "recovered" if ts else "sent"
            if ts is None:
                ts = sink.post(alert_id, claim.blocks, claim.text)
    except (SlackRateLimited, SlackUnavailable) as err:
        base, cap = backoff
        delay = min(cap, base * 2 ** min(claim.attempts - 1, 32))  # a day-long outage: no float overflow
        delay = err.retry_after if isinstance(err, SlackRateLimited) else delay
        err.retry_after = delay  # SlackUnavailable gets one too: the task's countdown
        _record(session_factory, claim, status="update_pending" if editing else "pending",
                last_error=str(err), next_attempt_at=clock() + timedelta(seconds=delay))
        raise
    except SlackRejected as err:
        _record(session_factory, claim, status="failed", last_error=str(err), next_attempt_at=None)
        return "failed", False
    with session_factory() as session:
        row = _locked(session, claim.delivery_id)
        alert = session.get(Alert, alert_id)
        # A recovered message was rendered by the dead attempt, perhaps before a decision: edit it too.
        current = _render(session, alert, admin_base_url) if alert is not None else None
        stale = current is not None and (outcome == "recovered" or current != (claim.blocks, claim.text))
        row.status = "update_pending" if stale else "sent"
        row.external_ref, row.last_error, row.next_attempt_at = ts, None, None
        row.sent_at = row.sent_at or clock()
    return outcome, stale


def _record(session_factory: SessionFactory, claim: _Claim, **values) -> None:
    with session_factory() as session:
        row = _locked(session, claim.delivery_id)
        for key, value in values.items():
            setattr(row, key, value)


def _locked(session: Session, delivery_id: int) -> AlertDelivery:
    query = select(AlertDelivery).where(AlertDelivery.id == delivery_id)
    return session.scalars(query.with_for_update() if _is_postgres(session) else query).one()


def _render(session: Session, alert: Alert, admin_base_url: str) -> tuple[list[dict], str]:
    decided_by = None
    if alert.status != "open":
        decision = latest_decision(session, "alert", alert.id)
        decided_by = decision.moderator if decision else None
    summary = alert.summary or {}
    return alert_blocks(alert.id, summary, alert.status, admin_base_url, decided_by), alert_text(summary)


def _is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"
