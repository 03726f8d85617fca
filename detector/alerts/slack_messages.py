"""Slack Block Kit for an alert: pure functions, so the message is golden-testable without Slack.

Everything inside ``Alert.summary`` except the numbers comes from marketplace users (post texts,
author names, external ids), so every string is escaped for Slack mrkdwn (``&``, ``<``, ``>``:
without this a post saying ``<!channel>`` would page the whole channel) and cut to a fixed length,
which also keeps each block under Slack's size limits. Headers and buttons carry only our own text.

An open alert gets decision buttons whose ``value`` is the alert id; once decided, the buttons are
replaced by a context line naming the decision and the moderator, so a second moderator sees that
the work is done and cannot click a stale button.
"""

from __future__ import annotations

MAX_SAMPLES = 5
MAX_SAMPLE_CHARS = 280
MAX_NAME_CHARS = 64
ACTION_CONFIRM, ACTION_BENIGN, ACTION_OPEN = "alert_confirm", "alert_benign", "alert_open"
DECIDED_LABELS = {"confirmed": "✅ Confirmed abuse", "benign": "☑️ Marked benign", "escalated": "⚠️ Escalated"}


def escape(text: object, limit: int = MAX_SAMPLE_CHARS) -> str:
    """User text made inert for mrkdwn: whitespace collapsed, cut to ``limit`` characters, ``&<>`` escaped.

    Cutting happens before escaping so an entity like ``&amp;`` is never split in half.
    """
    flat = " ".join(str(text).split())
    if len(flat) > limit:
        flat = flat[: limit - 1].rstrip() + "…"
    return flat.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def cluster_url(admin_base_url: str, cluster_id: object) -> str | None:
    """The admin UI page of the cluster, or None when the summary carries no usable id."""
    number = _int(cluster_id)
    return None if number is None else f"{admin_base_url.rstrip('/')}/cluster?id={number}"


def alert_text(summary: dict) -> str:
    """The plain fallback shown in notifications and by clients that cannot render blocks."""
    growth = summary.get("growth") or {}
    return (f"Seller cluster in {escape(summary.get('content_type', '?'), MAX_NAME_CHARS)}: "
            f"{_number(summary.get('size'))} posts from {_number(summary.get('distinct_authors'))} accounts, "
            f"+{_number(growth.get('added'))} in {_number(growth.get('window_minutes'))} min")


def alert_blocks(alert_id: int, summary: dict, status: str, admin_base_url: str,
                 decided_by: str | None = None) -> list[dict]:
    """The whole message: header, facts, sample posts, admin link, then buttons or the decision."""
    url = cluster_url(admin_base_url, summary.get("cluster_id"))
    blocks: list[dict] = [
        {"type": "header", "text": {"type": "plain_text", "emoji": True,
                                    "text": f"🚨 Possible professional seller · alert #{alert_id}"}},
        {"type": "section", "fields": _fields(summary)},
    ]
    samples = _samples(summary.get("samples"))
    if samples:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": samples}})
    if url:
        link = f"<{url}|Open cluster #{_int(summary.get('cluster_id'))} in the admin UI>"
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": link}})
    blocks.append(_actions(alert_id, url) if status == "open" else _decided(status, decided_by))
    return blocks


def _fields(summary: dict) -> list[dict]:
    growth = summary.get("growth") or {}
    share = summary.get("new_account_share")
    numeric = isinstance(share, (int, float)) and not isinstance(share, bool)
    share_text = f"{float(share) * 100:.0f}%" if numeric else "n/a"
    rule = escape(summary.get("rule", "?"), MAX_NAME_CHARS)
    facts = [
        ("Namespace", escape(summary.get("content_type", "?"), MAX_NAME_CHARS)),
        ("Size", f"{_number(summary.get('size'))} posts"),
        ("Growth", f"+{_number(growth.get('added'))} in {_number(growth.get('window_minutes'))} min"),
        ("Distinct authors", _number(summary.get("distinct_authors"))),
        ("New-account share", share_text),
        ("Rule", f"{rule} (level {_number(summary.get('level'))})"),
    ]
    return [{"type": "mrkdwn", "text": f"*{label}*\n{value}"} for label, value in facts]


def _samples(samples: object) -> str:
    if not isinstance(samples, list):
        return ""
    lines = []
    for sample in [s for s in samples if isinstance(s, dict)][:MAX_SAMPLES]:
        author = sample.get("author")
        who = escape(author, MAX_NAME_CHARS) if author else "unknown author"
        ref = escape(sample.get("external_id", "?"), MAX_NAME_CHARS)
        lines.append(f"• *{who}* ({ref}): {escape(sample.get('text', ''))}")
    return ("*Sample posts*\n" + "\n".join(lines)) if lines else ""


def _actions(alert_id: int, url: str | None) -> dict:
    value = str(alert_id)
    elements: list[dict] = [
        {"type": "button", "action_id": ACTION_CONFIRM, "style": "danger", "value": value,
         "text": {"type": "plain_text", "text": "Confirm abuse"},
         "confirm": {"title": {"type": "plain_text", "text": "Confirm abuse?"},
                     "text": {"type": "mrkdwn", "text": "Every author in this cluster will be sanctioned."},
                     "confirm": {"type": "plain_text", "text": "Confirm"},
                     "deny": {"type": "plain_text", "text": "Cancel"}}},
        {"type": "button", "action_id": ACTION_BENIGN, "value": value,
         "text": {"type": "plain_text", "text": "Benign"}},
    ]
    if url:
        elements.append({"type": "button", "action_id": ACTION_OPEN, "value": value, "url": url,
                         "text": {"type": "plain_text", "text": "Open"}})
    return {"type": "actions", "block_id": "alert_actions", "elements": elements}


def _decided(status: str, decided_by: str | None) -> dict:
    label = DECIDED_LABELS.get(status) or f"Status: {escape(status, MAX_NAME_CHARS)}"
    if decided_by:
        label += f" by {escape(decided_by, 128)}"
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": label}]}


def _int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        return int(value)
    return None


def _number(value: object) -> str:
    """A count for display; anything that is not a number shows as '?' rather than as user text."""
    number = _int(value)
    return "?" if number is None else f"{number:,}"
