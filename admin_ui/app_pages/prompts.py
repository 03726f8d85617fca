"""Prompts page: the LLM path's prompt versions per content type, where they came from, how they
scored, and what changed between two of them.

Activation is for admins only (moderators see no control) and is interim: it flips ``is_active``
with an audit row. The LLM issue replaces it with its eval gate, where a version activates only
when its evaluation passes.
"""

from __future__ import annotations

import streamlit as st

from admin_ui import auth, data
from admin_ui.app_pages import _ui

settings, user, url = _ui.context()
st.title("Prompts")
_ui.llm_notice(settings)


def _activate(version_id: int, label: str) -> None:
    _s, who, db = _ui.context()
    if not auth.is_admin(who):  # the button is not shown to moderators; a forged click changes nothing
        st.session_state[_ui.FLASH_KEY] = ("error", "Only admins can activate a prompt version.", None)
        return
    try:
        data.activate_prompt_version(db, version_id, who.name, force=st.session_state.get("p_force", False))
    except (data.DecisionError, data.BackendUnavailable) as err:
        st.session_state[_ui.FLASH_KEY] = ("error", f"Not activated: {err}", None)
        return
    st.session_state[_ui.FLASH_KEY] = ("success", f"{label} is now the active prompt.", None)


versions = data.prompt_versions(url)
if not versions:
    st.info("No prompt versions yet: the LLM path generates them (`detector prompts regenerate`).")
    st.stop()
wanted = _ui.query_id("version")
types = sorted({v["content_type"] for v in versions})
preset = next((v["content_type"] for v in versions if v["id"] == wanted), types[0])
ctype = st.selectbox("Content type", types, index=types.index(preset), key="p_type")
rows = [v for v in versions if v["content_type"] == ctype]
active = next((v for v in rows if v["is_active"]), None)


def name(v: dict) -> str:
    return f"{v['version']}{' (active)' if v['is_active'] else ''}"


def scores(v: dict) -> str:
    return ", ".join(f"{k} {val:.2f}" if isinstance(val, float) else f"{k} {val}"
                     for k, val in sorted((v["eval_scores"] or {}).items())) or "not evaluated"


st.dataframe([{"version": v["version"], "active": v["is_active"], "created": v["created_at"],
               "activated": v["activated_at"], "eval scores": scores(v), "sha256": v["sha256"][:12]}
              for v in rows], hide_index=True, key="p_table")
ids = [v["id"] for v in rows]
by_id = {v["id"]: v for v in rows}
chosen = st.selectbox("Version", ids, index=ids.index(wanted) if wanted in ids else 0,
                      format_func=lambda i: name(by_id[i]), key="p_version")
v = by_id[chosen]
left, right = st.columns([3, 2])
with left:
    st.markdown(f"**{name(v)}** · created {_ui.when(v['created_at'])}")
    st.code(v["text"], language=None, wrap_lines=True, height=320)
with right:
    st.markdown("**Eval scores** (per dataset and model)")
    scores = v["eval_scores"] or {}
    if scores:
        st.dataframe([{"dataset": key, **{k: val for k, val in (row.items() if isinstance(row, dict) else
                                                                   [("value", row)])}}
                      for key, row in sorted(scores.items())], hide_index=True)
    else:
        st.caption("Not evaluated yet: `detector prompts eval --version ... --dataset ...`")
    st.markdown("**Provenance**")
    st.json(v["provenance"] or {}, expanded=True)
    if auth.is_admin(user):
        if v["is_active"]:
            st.success("This version is active.")
        else:
            replaces = f" (replaces {active['version']})" if active else ""
            st.button(f"Activate {v['version']} for {ctype}{replaces}", key="p_activate", type="primary",
                      on_click=_activate, args=(v["id"], f"{ctype} {v['version']}"))
            st.checkbox("Force: activate even if it scores worse than the active version or was never "
                        "evaluated (logged)", key="p_force")
            st.caption("Same gate as `detector prompts activate`: refused when its evaluation is worse than the "
                       "active version's on a shared dataset.")

st.subheader("Compare two versions")
if len(ids) < 2:
    st.caption("Only one version for this content type.")
else:
    cols = st.columns(2)
    old = cols[0].selectbox("From", ids, index=min(1, len(ids) - 1), format_func=lambda i: name(by_id[i]),
                            key="p_diff_old")
    new = cols[1].selectbox("To", ids, index=0, format_func=lambda i: name(by_id[i]), key="p_diff_new")
    a, b = by_id[old], by_id[new]
    st.code(_ui.prompt_diff(a["text"], b["text"], a["version"], b["version"]), language="diff")
