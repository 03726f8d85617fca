"""Review queue: open alerts of the similar-content path, positive LLM verdicts, users' reports and the
random audit sample of unflagged posts, one row each (the "Path" filter picks any of them).

Built for scanning: the row's first line has the numbers a moderator decides on (size, accounts,
growth, new-account share, age), the second the sample text as posted, the third the buttons, each
saying what it does. Checkboxes and the bar above the list apply one decision to many rows.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import streamlit as st

from admin_ui import auth, data
from admin_ui.app_pages import _ui

AGES = {"Any age": (None, None), "Last hour": (timedelta(hours=1), None),
        "Last 24 hours": (timedelta(days=1), None), "Last 7 days": (timedelta(days=7), None),
        "Older than 24 hours": (None, timedelta(days=1))}  # (newer than, older than)
STATUSES = ["open", "escalated", "confirmed", "benign"]
PATHS = ["similarity", "llm", "report", "audit"]
LABELS = {"llm": "LLM verdict", "report": "User report", "audit": "Audit sample"}
NOTES = {"llm": "LLM reason: ", "report": "", "audit": "Why it is here: "}
LIMIT = 100

settings, user, url = _ui.context()
st.title("Review queue")
_ui.llm_notice(settings)

with st.container(border=True):
    cols = st.columns([2, 2, 2.4, 1.6, 1.6], vertical_alignment="bottom")
    types = cols[0].multiselect("Content type", data.content_types(url), key="q_types",
                                placeholder="All types")
    paths = cols[1].multiselect("Path", PATHS, key="q_paths", placeholder="All paths")
    statuses = cols[2].multiselect("Status", STATUSES, key="q_status", placeholder="Open work",
                                   default=["open", "escalated"] if auth.is_admin(user) else ["open"])
    age = cols[3].selectbox("Age", list(AGES), key="q_age")
    sort = cols[4].selectbox("Sort", ["Newest first", "Largest first"], key="q_sort")

now = datetime.now(timezone.utc)
newer, older = AGES[age]
items = data.list_queue(url, content_types=types, paths=paths, statuses=statuses or ["open"],
                        since=now - newer if newer else None, until=now - older if older else None,
                        sort="largest" if sort == "Largest first" else "newest", limit=LIMIT)


def _sel_key(item: dict) -> str:
    return f"sel_{item['kind']}_{item['id']}"


def _select_all(keys: list[str], value: bool) -> None:
    for key in keys:
        st.session_state[key] = value


def bulk_bar(items: list[dict]) -> None:
    """Apply one decision to the checked rows (only undecided rows can be checked)."""
    keys = [_sel_key(i) for i in items if i["status"] in ("open", "escalated")]
    chosen = [i for i in items if st.session_state.get(_sel_key(i))]
    targets = [(i["kind"], i["id"]) for i in chosen]
    accounts = sum(i["to_sanction"] for i in chosen)
    bar = st.container(horizontal=True, vertical_alignment="center", gap="small")
    bar.markdown(f"**{len(items)}** shown · **{len(chosen)}** selected")
    bar.button("Select all", key="bulk_select_all", on_click=_select_all, args=(keys, True), type="tertiary",
               disabled=not keys)
    if not chosen:
        bar.caption("Tick rows to decide several at once.")
        return
    bar.button("Clear", key="bulk_clear", on_click=_select_all, args=(keys, False), type="tertiary")
    n = len(chosen)
    bar.button(f"Confirm {n}: sanctions {_ui.plural(accounts, 'account')}", key="bulk_confirm",
               type="primary", on_click=_ui.decide_many, args=(targets, "confirm_abuse", keys),
               icon=":material/gavel:")
    bar.button(f"Benign {n}", key="bulk_benign", on_click=_ui.decide_many, args=(targets, "benign", keys),
               help="Closes them; their clusters are allowlisted.", icon=":material/check_circle:")
    bar.button(f"Escalate {n}", key="bulk_escalate", on_click=_ui.decide_many,
               args=(targets, "escalate", keys), icon=":material/flag:")


def headline(item: dict) -> str:
    """Our own words and numbers only (Markdown): the untrusted sample goes through st.text."""
    label = "Alert" if item["kind"] == "alert" else LABELS.get(item["path"], f"{item['path']} verdict")
    parts = [f"**{label} #{item['id']}** {_ui.status_badge(item['status'])}", f"`{item['content_type']}`",
             item["path"]]
    if item["kind"] == "alert":
        size, accounts = _ui.plural(item["size"], "post"), _ui.plural(item["distinct_authors"], "account")
        parts.append(f"**{size} · {accounts}**")
        growth = item["growth"]
        if growth.get("added") is not None:
            parts.append(f"+{growth['added']} in {growth.get('window_minutes', '?')} min")
        if isinstance(item["new_account_share"], (int, float)):
            parts.append(f"{item['new_account_share']:.0%} new accounts")
    elif item["score"] is not None:
        parts.append(f"score {item['score']:.2f}")
    parts.append(_ui.ago(item["created_at"]))
    return " · ".join(parts)


def row(item: dict) -> None:
    key = f"q_{item['kind']}_{item['id']}"
    open_work = item["status"] in ("open", "escalated")
    with st.container(border=True, key=f"row_{key}"):
        top = st.columns([0.35, 8, 2], vertical_alignment="center")
        if open_work:
            top[0].checkbox("Select", key=_sel_key(item), label_visibility="collapsed")
        top[1].markdown(headline(item))
        if item["cluster_id"]:
            top[2].page_link("app_pages/cluster.py", label=f"Open cluster #{item['cluster_id']}",
                             query_params={"id": item["cluster_id"]}, icon=":material/open_in_new:")
        elif item["post_id"]:
            top[2].page_link("app_pages/post.py", label=f"Open post #{item['post_id']}",
                             query_params={"id": item["post_id"]}, icon=":material/open_in_new:")
        sample = " ".join(item["sample"].split())
        st.text(sample[:240] + ("…" if len(sample) > 240 else ""))
        if item["kind"] == "detection" and item["rule"]:
            st.text(f"{NOTES.get(item['path'], 'Reason: ')}{item['rule'][:300]}")
        if open_work:
            _ui.decision_buttons(item["kind"], item["id"], to_sanction=item["to_sanction"],
                                 has_cluster=bool(item["cluster_id"]), key=key)
        elif item["decision_id"]:
            line = st.columns([6, 1], vertical_alignment="center")
            line[0].caption(f"Decided by {item['decided_by']} (decision #{item['decision_id']})")
            line[1].button("Revert", key=f"{key}_revert", on_click=_ui.revert_cb, args=(item["decision_id"],),
                           icon=":material/undo:", help="Undo this decision and its effects (logged).")


if not items:
    st.success("Nothing to review with these filters.", icon=":material/task_alt:")
else:
    bulk_bar(items)
    for item in items:
        row(item)
    if len(items) >= LIMIT:
        st.caption(f"Showing the first {LIMIT}: narrow the filters to see the rest.")
