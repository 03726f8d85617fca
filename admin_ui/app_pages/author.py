"""Author page: one marketplace account, everything it posted, the clusters it is in, its decisions.

A professional seller shows up as many posts across clusters from one account (or many new accounts
in one cluster); this page answers the first question, the cluster page the second.
"""

from __future__ import annotations

import streamlit as st

from admin_ui import data
from admin_ui.app_pages import _ui

settings, user, url = _ui.context()
author_id = _ui.query_id()


def show(a: dict) -> None:
    st.title(f"Author #{a['id']}")
    st.text(f"external id: {a['external_id']}")
    st.markdown(f"{_ui.account_badge(a['status'])} · account created {_ui.when(a['account_created_at'])} · "
                f"first seen {_ui.when(a['first_seen_at'])}"
                + (f" · sanctioned {_ui.when(a['sanctioned_at'])}" if a["sanctioned_at"] else ""))
    m = st.columns(3)
    m[0].metric("Posts", a["post_count"], border=True)
    m[1].metric("Clusters", len(a["clusters"]), border=True)
    m[2].metric("Decisions", len(a["decisions"]), border=True)
    if a["clusters"]:
        line = st.container(horizontal=True)
        for c in a["clusters"]:
            line.page_link("app_pages/cluster.py", label=f"Cluster #{c['id']} ({c['size']} posts)",
                           query_params={"id": c["id"]}, icon=":material/hub:")
    st.subheader("Decision")
    with st.container(border=True):
        st.text_input("Note (optional, kept in the audit log)", key="author_note", max_chars=500)
        _ui.decision_buttons("author", a["id"], to_sanction=int(a["status"] != "sanctioned"),
                             has_cluster=False, key="author", note_key="author_note")
    st.markdown("**History**")
    _ui.history(a["decisions"], key="author_hist")
    st.subheader(f"Posts (latest {len(a['posts'])} of {a['post_count']})")
    for p in a["posts"]:
        _ui.post_line(p, extra=f"`{p['content_type']}` · {p['status']}", show_author=False)


if author_id is None:
    st.title("Author")
    st.caption("Open an author from a cluster or a post, or by id:")
    wanted = st.number_input("Author id", min_value=1, step=1, value=None, key="author_lookup")
    if wanted:
        st.page_link("app_pages/author.py", label=f"Open author #{int(wanted)}",
                     query_params={"id": int(wanted)})
else:
    detail = data.author_detail(url, author_id)
    if detail is None:
        st.error(f"No author #{author_id}.")
    else:
        show(detail)
