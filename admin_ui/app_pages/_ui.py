"""Widgets the pages share: decision buttons that say what they do, history with revert, flash
messages with undo, times, and near-duplicate highlighting.

Untrusted text (posts, author names, LLM reasons) is only ever shown through ``st.text``/``st.code``
(no Markdown, no HTML), through dataframes, or ``html.escape``d inside ``st.html`` for the diff
highlighting. Markdown strings here carry only our own words and numbers.
"""

from __future__ import annotations

import difflib
import html
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import streamlit as st

from admin_ui import auth, data

FLASH_KEY = "flash"
VERB = {"confirm_abuse": "confirmed as abuse", "benign": "marked benign", "escalate": "escalated",
        "revert": "reverted"}
STATUS_COLOR = {"open": "orange", "escalated": "violet", "confirmed": "red", "benign": "green"}
MAX_DIFF_CHARS = 2000


def context():
    """(settings, user, database URL) for the page being run; the app has already checked the login."""
    settings = data.load_settings()
    return settings, auth.current_user(settings), settings.effective_database_url


def _actor():
    """For a click's callback (which runs before the app's login gate): who clicked, or None."""
    settings, user, url = context()
    if user is None:
        st.session_state[FLASH_KEY] = ("error", "Your login has ended: nothing was recorded.", None)
    return settings, user, url


def query_id(name: str = "id") -> int | None:
    value = st.query_params.get(name, "")
    return int(value) if value.isascii() and value.isdigit() and len(value) < 19 else None


def path_status(settings) -> None:
    with st.sidebar:
        st.caption("Detection paths")
        st.markdown(":green-badge[on] Similar content")
        if settings.llm_base_url:
            st.markdown(":green-badge[on] LLM zero-shot")
        else:
            st.markdown(":gray-badge[off] LLM zero-shot")
            st.caption("Disabled: set `DETECTOR_LLM_BASE_URL` to enable.")


def llm_notice(settings) -> None:
    if not settings.llm_base_url:
        st.info("LLM path disabled: set DETECTOR_LLM_BASE_URL. Only the similar-content path produces work.",
                icon=":material/bedtime:")


def when(dt: datetime | None) -> str:
    """Local time of the browser (UTC when unknown) plus how long ago, for quick scanning."""
    if dt is None:
        return "—"
    tz_name = st.context.timezone
    try:
        local = dt.astimezone(ZoneInfo(tz_name)) if tz_name else dt.astimezone(timezone.utc)
    except (KeyError, ValueError):
        local = dt.astimezone(timezone.utc)
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()} ({ago(dt)})"


def ago(dt: datetime | None) -> str:
    if dt is None:
        return "—"
    seconds = max(0, (datetime.now(timezone.utc) - dt).total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds // size:.0f} {unit} ago"
    return "just now"


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


# --- decisions -------------------------------------------------------------------------------------

def describe(result: dict) -> str:
    effects = result.get("effects") or {}
    parts = [f"{result['subject_type'].capitalize()} #{result['subject_id']} {VERB[result['decision']]}"]
    if effects.get("sanctioned_author_ids"):
        parts.append(plural(len(effects["sanctioned_author_ids"]), "account") + " sanctioned")
    if effects.get("allowlist_id"):
        parts.append("cluster allowlisted")
    if result.get("repeated"):
        parts.append("it already had this decision, nothing changed")
    return "; ".join(parts) + "."


def decide_cb(kind: str, subject_id: int, decision: str, note_key: str | None = None) -> None:
    settings, user, url = _actor()
    if user is None:
        return
    note = st.session_state.get(note_key) if note_key else None
    try:
        result = data.decide(url, kind, subject_id, decision, user.name, note=note,
                             allowlist_days=settings.allowlist_days)
    except (data.DecisionError, data.BackendUnavailable) as err:
        st.session_state[FLASH_KEY] = ("error", f"Not recorded: {err}", None)
        return
    st.session_state[FLASH_KEY] = ("success", describe(result), result["id"])
    if note_key:
        st.session_state[note_key] = ""


def revert_cb(decision_id: int) -> None:
    _settings, user, url = _actor()
    if user is None:
        return
    try:
        result = data.revert(url, decision_id, user.name)
    except (data.DecisionError, data.BackendUnavailable) as err:
        st.session_state[FLASH_KEY] = ("error", f"Not reverted: {err}", None)
        return
    st.session_state[FLASH_KEY] = ("info", f"Decision #{decision_id} on {result['subject_type']} "
                                   f"#{result['subject_id']} reverted; what it changed is undone.", None)


def decide_many(items: list[tuple[str, int]], decision: str, selection_keys: list[str]) -> None:
    """Bulk action: one transaction per item, so one refused item does not block the others."""
    settings, user, url = _actor()
    if user is None:
        return
    done, failed = [], []
    for kind, subject_id in items:
        try:
            done.append(data.decide(url, kind, subject_id, decision, user.name,
                                    allowlist_days=settings.allowlist_days))
        except (data.DecisionError, data.BackendUnavailable) as err:
            failed.append(f"{kind} #{subject_id}: {err}")
    for key in selection_keys:
        st.session_state[key] = False
    sanctioned = sum(len(r["effects"].get("sanctioned_author_ids", [])) for r in done)
    text = f"{plural(len(done), 'item')} {VERB[decision]}; {plural(sanctioned, 'account')} sanctioned."
    if failed:
        text += " Not recorded: " + "; ".join(failed)
    st.session_state[FLASH_KEY] = ("warning" if failed else "success", text, None)


def show_flash() -> None:
    """The outcome of the last click, once, with an undo button for a decision just made."""
    flash = st.session_state.pop(FLASH_KEY, None)
    if not flash:
        return
    kind, text, undo_id = flash
    left, right = st.columns([5, 1], vertical_alignment="center")
    getattr(left, kind)(text)
    if undo_id:
        right.button("Undo", key=f"undo_{undo_id}", on_click=revert_cb, args=(undo_id,),
                     icon=":material/undo:",
                     help="Revert this decision: lifts its sanctions, revokes its allowlist entry, reopens "
                          "the alert.")


def confirm_label(kind: str, to_sanction: int) -> str:
    if to_sanction == 0:
        return "Confirm abuse (accounts already sanctioned)"
    return f"Confirm abuse: sanctions {plural(to_sanction, 'account')}"


def benign_label(kind: str, has_cluster: bool, days: int) -> str:
    if not has_cluster:
        return "Benign: closes it, no action"
    return f"Benign: allowlists the cluster for {days} days"


def decision_buttons(kind: str, subject_id: int, *, to_sanction: int, has_cluster: bool, key: str,
                     note_key: str | None = None) -> None:
    """Confirm / benign / escalate, each saying exactly what it will do."""
    settings = data.load_settings()
    row = st.container(horizontal=True, gap="small")
    row.button(confirm_label(kind, to_sanction), key=f"{key}_confirm", type="primary",
               icon=":material/gavel:", on_click=decide_cb,
               args=(kind, subject_id, "confirm_abuse", note_key))
    row.button(benign_label(kind, has_cluster, settings.allowlist_days), key=f"{key}_benign",
               icon=":material/check_circle:", on_click=decide_cb,
               args=(kind, subject_id, "benign", note_key))
    row.button("Escalate to senior review", key=f"{key}_escalate", icon=":material/flag:",
               on_click=decide_cb, args=(kind, subject_id, "escalate", note_key),
               help="No sanction, no allowlist: it leaves the moderators' queue and waits for an admin.")


def history(decisions: list[dict], key: str) -> None:
    """Every decision on the subject, newest first; the ones still in force can be reverted."""
    if not decisions:
        st.caption("No decisions yet.")
        return
    for d in decisions:
        cols = st.columns([5, 1], vertical_alignment="center")
        state = " · *reverted*" if d["reverted"] else ""
        what = f"reverts #{d['reverts_id']}" if d["decision"] == "revert" else VERB[d["decision"]]
        cols[0].markdown(f"#{d['id']} · {d['subject_type']} #{d['subject_id']} **{what}**{state} · "
                         f"{when(d['created_at'])} · via {d['source']}")
        cols[0].text(f"by {d['moderator']}" + (f" — {d['note']}" if d["note"] else ""))
        if d["decision"] != "revert" and not d["reverted"]:
            cols[1].button("Revert", key=f"{key}_revert_{d['id']}", on_click=revert_cb, args=(d["id"],),
                           icon=":material/undo:", help="Undo exactly what this decision changed (logged).")


# --- text ------------------------------------------------------------------------------------------

def highlight(reference: str, text: str, who: str | None = None) -> tuple[str, float]:
    """``text`` as escaped HTML with what differs from ``reference`` marked, and their similarity.

    ``who`` (the author's marketplace name, also untrusted) is escaped and shown in front.
    """
    ref, txt = reference[:MAX_DIFF_CHARS], text[:MAX_DIFF_CHARS]
    matcher = difflib.SequenceMatcher(None, ref, txt, autojunk=False)
    out = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            out.append(html.escape(txt[j1:j2]))
        else:
            if i2 > i1:
                out.append(f"<del style='color:#b42318'>{html.escape(ref[i1:i2])}</del>")
            if j2 > j1:
                out.append(f"<mark style='background:#fde68a'>{html.escape(txt[j1:j2])}</mark>")
    body = "".join(out) + ("…" if len(text) > MAX_DIFF_CHARS else "")
    name = f"<span style='color:#6b7280'>{html.escape(who)}: </span>" if who else ""
    return (f"<div style='white-space:pre-wrap;line-height:1.6;font-size:0.95rem'>{name}{body}</div>",
            matcher.ratio())


def prompt_diff(old: str, new: str, old_name: str, new_name: str) -> str:
    lines = difflib.unified_diff(old.splitlines(), new.splitlines(), old_name, new_name, lineterm="")
    return "\n".join(lines) or "(no differences)"


def status_badge(status: str) -> str:
    return f":{STATUS_COLOR.get(status, 'gray')}-badge[{status}]"


def account_badge(status: str) -> str:
    return ":red-badge[sanctioned]" if status == "sanctioned" else f":gray-badge[{status}]"


def post_line(post: dict, extra: str = "", show_author: bool = True) -> None:
    """One post in a list: a link (our id), then who and when, then its text as plain text."""
    with st.container(border=True):
        head = st.container(horizontal=True, vertical_alignment="center", gap="small")
        head.page_link("app_pages/post.py", label=f"Post #{post['id']}", query_params={"id": post["id"]},
                       icon=":material/article:")
        if show_author and post.get("author_id"):
            head.page_link("app_pages/author.py", label=f"Author #{post['author_id']}",
                           query_params={"id": post["author_id"]}, icon=":material/person:")
        head.caption(f"{ago(post['created_at'])}{' · ' + extra if extra else ''}")
        st.text(f"{post.get('author') or '?'}: " + " ".join(post["text"].split())[:240])
