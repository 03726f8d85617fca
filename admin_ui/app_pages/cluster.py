"""Cluster page: is this a professional seller? Size and growth, who posts, what they post, decide.

Opened from the queue or from Slack (``/cluster?id=12``). Each sample is shown against the
cluster's first post with the differences marked, because bulk posters vary prices, phone numbers
and emoji to dodge exact matching: what stays the same is the evidence.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from urllib.parse import quote

import pandas as pd
import streamlit as st

from admin_ui import data
from admin_ui.app_pages import _ui

SLACK_STATE = {"sent": "posted", "update_pending": "edit queued", "updating": "being edited",
               "pending": "not posted yet", "sending": "being posted", "failed": "failed"}

settings, user, url = _ui.context()
cluster_id = _ui.query_id()


def index() -> None:
    st.title("Clusters")
    st.caption("Recently updated active clusters. Slack links open a cluster directly.")
    for c in data.recent_clusters(url):
        line = st.container(horizontal=True, vertical_alignment="center")
        line.page_link("app_pages/cluster.py", label=f"Cluster #{c['id']}", query_params={"id": c["id"]})
        line.caption(f"`{c['content_type']}` · {_ui.plural(c['size'], 'post')} · "
                     f"{_ui.plural(c['distinct_authors'], 'account')} · updated {_ui.ago(c['updated_at'])}")


def growth_chart(c: dict) -> None:
    frames = [pd.DataFrame({"time": [s["taken_at"] for s in c["snapshots"]],
                            "posts": [s["size"] for s in c["snapshots"]], "series": "size at snapshots"}),
              pd.DataFrame({"time": c["added_at"], "posts": range(1, len(c["added_at"]) + 1),
                            "series": "posts joined"})]
    frames = [f for f in frames if not f.empty]
    if not frames:
        st.caption("No growth data yet.")
        return
    st.line_chart(pd.concat(frames, ignore_index=True), x="time", y="posts", color="series", height=260,
                  x_label="", y_label="posts")


def decision_panel(c: dict) -> None:
    """What is decided (with revert), or what to decide: on the open alert if any, else the cluster."""
    with st.container(border=True):
        alert_id = c["open_alert_id"]
        in_force = next((d for d in c["decisions"] if d["decision"] != "revert" and not d["reverted"]), None)
        if alert_id:
            status = next(a["status"] for a in c["alerts"] if a["id"] == alert_id)
            state = "was escalated and waits for a senior decision" if status == "escalated" else "is open"
            st.markdown(f"**Alert #{alert_id}** {state}. Deciding it decides this cluster.")
        elif in_force:
            st.markdown(f"{in_force['subject_type'].capitalize()} #{in_force['subject_id']} "
                        f"**{_ui.VERB[in_force['decision']]}** · {_ui.ago(in_force['created_at'])}")
            line = st.container(horizontal=True, vertical_alignment="center")
            line.text(f"by {in_force['moderator']}")
            line.button("Revert", key="cluster_current_revert", on_click=_ui.revert_cb,
                        args=(in_force["id"],), icon=":material/undo:",
                        help="Undo exactly what this decision changed (logged).")
        else:
            st.markdown("No alert for this cluster: a decision here is recorded on the cluster itself.")
        again = in_force and not alert_id  # decided already: keep the buttons one click further away
        with st.expander("Decide on the cluster again") if again else st.container():
            st.text_input("Note (optional, kept in the audit log)", key="cluster_note", max_chars=500)
            _ui.decision_buttons("alert" if alert_id else "cluster", alert_id or c["id"], has_cluster=True,
                                 to_sanction=c["to_sanction"], key="cluster", note_key="cluster_note")
        for entry in c["allowlist"]:
            st.caption(f"Allowlisted until {_ui.when(entry['expires_at'])}.")
        for d in c["slack"]:
            if d["external_ref"]:
                st.link_button(f"Slack thread of alert #{d['alert_id']}", icon=":material/forum:",
                               url=f"https://slack.com/app_redirect?channel={quote(d['target'], safe='')}")
                state = SLACK_STATE.get(d["status"], d["status"])
                st.caption(f"Slack message {state} (ts {d['external_ref']})")


def samples(c: dict) -> None:
    ref = c["reference"]
    if ref is None:
        st.caption("This cluster has no posts left.")
        return
    st.caption("Marked: what differs from the first post (yellow: added or changed, red struck: removed).")
    with st.container(border=True):
        head = st.container(horizontal=True, vertical_alignment="center")
        head.markdown("**First post**")
        head.page_link("app_pages/post.py", label=f"Post #{ref['id']}", query_params={"id": ref["id"]})
        head.caption(_ui.when(ref["created_at"]))
        st.html(_ui.highlight(ref["text"], ref["text"], ref["author"] or "?")[0])
    for p in c["samples"]:
        if p["id"] == ref["id"]:
            continue
        body, ratio = _ui.highlight(ref["text"], p["text"], p["author"] or "?")
        with st.container(border=True):
            head = st.container(horizontal=True, vertical_alignment="center")
            head.page_link("app_pages/post.py", label=f"Post #{p['id']}", query_params={"id": p["id"]})
            if p["author_id"]:
                head.page_link("app_pages/author.py", label=f"Author #{p['author_id']}",
                               query_params={"id": p["author_id"]})
            head.caption(f"{ratio:.0%} same as the first post · {_ui.ago(p['created_at'])}")
            st.html(body)


def authors(c: dict) -> None:
    for a in c["authors"][:30]:
        line = st.container(horizontal=True, vertical_alignment="center")
        line.page_link("app_pages/author.py", label=f"Author #{a['id']}", query_params={"id": a["id"]})
        created = a["account_created_at"]
        age = _ui.ago(created).replace(" ago", " old") if created else "of unknown age"
        here = _ui.plural(a["posts_here"], "post")
        line.markdown(f"{_ui.account_badge(a['status'])} · {here} here · account {age}")
        line.text(a["external_id"])
    st.subheader("Their other posts")
    if not c["other_posts"]:
        st.caption("None outside this cluster.")
    for p in c["other_posts"]:
        _ui.post_line(p, extra=f"`{p['content_type']}`")


def show(c: dict) -> None:
    st.title(f"Cluster #{c['id']}")
    now = datetime.now(timezone.utc)
    last_hour = sum(1 for t in c["added_at"] if t >= now - timedelta(hours=1))
    last_day = sum(1 for t in c["added_at"] if t >= now - timedelta(days=1))
    share = c["snapshots"][-1]["new_account_share"] if c["snapshots"] else None
    st.markdown(f"`{c['content_type']}` · {c['status']} · first seen {_ui.when(c['first_seen_at'])}")
    m = st.columns(5)
    m[0].metric("Posts", c["size"], border=True)
    m[1].metric("Distinct accounts", c["distinct_authors"], border=True)
    m[2].metric("Added last hour", last_hour, border=True)
    m[3].metric("Added last 24 h", last_day, border=True)
    m[4].metric("New-account share", "n/a" if share is None else f"{share:.0%}", border=True)
    left, right = st.columns([3, 2])
    with left:
        st.subheader("Growth")
        growth_chart(c)
    with right:
        st.subheader("Decision")
        decision_panel(c)
    tabs = st.tabs(["Sample posts", "Authors", "History"], key="cluster_tabs")
    with tabs[0]:
        samples(c)
    with tabs[1]:
        authors(c)
    with tabs[2]:
        _ui.history(c["decisions"], key="cluster_hist")
        for e in c["events"]:
            other = f" cluster #{e['other_cluster_id']}" if e["other_cluster_id"] else ""
            st.caption(f"Lineage: {e['kind']}{other} · {_ui.when(e['created_at'])}")


if cluster_id is None:
    index()
else:
    detail = data.cluster_detail(url, cluster_id)
    if detail is None:
        st.error(f"No cluster #{cluster_id}.")
        index()
    else:
        show(detail)
