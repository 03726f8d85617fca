"""Post page: one post as posted and as the detector saw it (normalized), with the evidence around it.

Normalized text is shown next to the original because obfuscation ("ㅍㅏㄴ매", "O1O-1234-5678") is
the point of bulk posting: the normalized form is what near-duplicate matching compared.
"""

from __future__ import annotations

import streamlit as st

from admin_ui import data
from admin_ui.app_pages import _ui

settings, user, url = _ui.context()
post_id = _ui.query_id()


def verdicts(p: dict) -> None:
    st.subheader("LLM verdict")
    llm = [d for d in p["detections"] if d["path"] == "llm"]
    if not llm:
        st.caption("No LLM verdict for this post.")
        _ui.llm_notice(settings)
    for d in llm:
        with st.container(border=True):
            label = ":red-badge[professional seller]" if d["is_positive"] else ":green-badge[private seller]"
            score = "" if d["score"] is None else f" · score {d['score']:.2f}"
            head = st.container(horizontal=True, vertical_alignment="center")
            head.markdown(f"{label}{score} · {d['mode']} mode · {_ui.ago(d['created_at'])}")
            if d["prompt_version_id"]:
                head.page_link("app_pages/prompts.py", icon=":material/psychology:",
                               label=f"prompt {d['prompt_version'] or d['prompt_version_id']}",
                               query_params={"version": d["prompt_version_id"]})
            st.text(f"model: {d['model'] or '?'}")
            st.text(f"reason: {d['reason']}")
    other = [d for d in p["detections"] if d["path"] != "llm"]
    if other:
        st.caption("Other detections: " + ", ".join(f"{d['path']} #{d['id']}" for d in other))


def neighbours(p: dict) -> None:
    st.subheader("Near-duplicates")
    if not p["neighbours"]:
        st.caption("No near-duplicate edges recorded for this post.")
    for n in p["neighbours"]:
        if n["post"]:
            extra = f"similarity {n['similarity']:.2f} · {n['method']}" + (
                " · :orange-badge[other account]" if n["cross_author"] else "")
            _ui.post_line(n["post"], extra=extra)


def show(p: dict) -> None:
    st.title(f"Post #{p['id']}")
    author = p["author"]
    head = st.container(horizontal=True, vertical_alignment="center")
    head.markdown(f"`{p['content_type']}` · pipeline {p['status']} · posted {_ui.when(p['created_at'])}")
    if author:
        head.page_link("app_pages/author.py", label=f"Author #{author['id']}",
                       query_params={"id": author["id"]}, icon=":material/person:")
        head.markdown(_ui.account_badge(author["status"]))
    for cid in p["clusters"]:
        head.page_link("app_pages/cluster.py", label=f"Cluster #{cid}", query_params={"id": cid},
                       icon=":material/hub:")
    st.text(f"external id: {p['external_id']} · author: {author['external_id'] if author else '?'} · "
            f"region: {p['region'] or '?'} · price: {p['price'] if p['price'] is not None else '?'}")
    left, right = st.columns(2)
    with left:
        st.markdown("**As posted**")
        st.code((p["title"] + "\n\n" if p["title"] else "") + p["text"], language=None, wrap_lines=True)
    with right:
        st.markdown("**As normalized** (what matching compares)")
        st.code(p["normalized_text"] or "(not normalized yet)", language=None, wrap_lines=True)
    if p["status_reason"]:
        st.warning("Pipeline: " + p["status_reason"][:300])
    verdicts(p)
    neighbours(p)
    st.subheader("Decision")
    with st.container(border=True):
        if p["clusters"]:
            where = ", ".join(f"#{cid}" for cid in p["clusters"])
            st.caption(f"This post is in cluster {where}: decide on the cluster to act on all its accounts.")
        sanction = int(bool(author) and author["status"] != "sanctioned")
        st.text_input("Note (optional, kept in the audit log)", key="post_note", max_chars=500)
        _ui.decision_buttons("post", p["id"], to_sanction=sanction, has_cluster=False, key="post",
                             note_key="post_note")
    st.markdown("**History** (this post and its verdicts)")
    _ui.history(p["decisions"], key="post_hist")


if post_id is None:
    st.title("Post")
    st.caption("Open a post from the queue, a cluster or an author, or by its id:")
    wanted = st.number_input("Post id", min_value=1, step=1, value=None, key="post_lookup")
    if wanted:
        st.page_link("app_pages/post.py", label=f"Open post #{int(wanted)}", query_params={"id": int(wanted)})
else:
    detail = data.post_detail(url, post_id)
    if detail is None:
        st.error(f"No post #{post_id}.")
    else:
        show(detail)
