"""Metrics page: is the system keeping up, and are its detections right?

Precision per path comes from moderators' decisions in force (reverted ones do not count):
confirmed / (confirmed + benign); escalations are still open questions and are left out.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pandas as pd
import streamlit as st

from admin_ui import data
from admin_ui.app_pages import _ui

WINDOWS = {"Last 24 hours": timedelta(days=1), "Last 7 days": timedelta(days=7),
           "Last 30 days": timedelta(days=30), "Last 90 days": timedelta(days=90)}

settings, user, url = _ui.context()
st.title("Metrics")
_ui.llm_notice(settings)
window = st.selectbox("Window", list(WINDOWS), index=1, key="m_window")
m = data.metrics(url, datetime.now(timezone.utc) - WINDOWS[window])

st.subheader("Queue")
(open_count, oldest_open), (pending, oldest_pending) = m["open_alerts"], m["pending_posts"]
cols = st.columns(5)
cols[0].metric("Open alerts", open_count, border=True)
cols[1].metric("Oldest open alert", _ui.ago(oldest_open).replace(" ago", "") if oldest_open else "—",
               border=True)
cols[2].metric("Posts pending", pending, border=True,
               help="Ingested, not yet through the similar-content path.")
cols[3].metric("Oldest pending post", _ui.ago(oldest_pending).replace(" ago", "") if oldest_pending else "—",
               border=True)
cols[4].metric("Dead letters", len(m["dead_letters"]), border=True, help="Tasks that ran out of retries.")

st.subheader("Alert volume")
HOURLY = WINDOWS[window] <= timedelta(days=1)


def per_bucket(df: pd.DataFrame, columns: str | None, values: str | None = None) -> pd.DataFrame:
    """Counts (or sums of ``values``) per hour or day of the window, quiet buckets as zero, UTC labels."""
    freq = "h" if HOURLY else "D"
    df = df.assign(bucket=pd.to_datetime(df["created_at"], utc=True).dt.floor(freq))
    table = (df.pivot_table(index="bucket", columns=columns, aggfunc="size", fill_value=0) if values is None
             else df.groupby("bucket")[[values]].sum())
    end = pd.Timestamp.now(tz="UTC").floor(freq)
    table = table.reindex(pd.date_range(end=end, periods=24 if HOURLY else WINDOWS[window].days, freq=freq),
                          fill_value=0)
    table.index = table.index.strftime("%m-%d %H:00" if HOURLY else "%m-%d")
    return table


if m["alerts"]:
    st.bar_chart(per_bucket(pd.DataFrame(m["alerts"]), "path"), height=240,
                 x_label="hour (UTC)" if HOURLY else "day (UTC)", y_label="alerts")
else:
    st.caption("No alerts in this window.")

st.subheader("Decisions and precision per path")
if m["decisions"]:
    table = pd.DataFrame(m["decisions"]).pivot_table(index="path", columns="decision", values="count",
                                                     aggfunc="sum", fill_value=0)
    for col in ("confirm_abuse", "benign", "escalate"):
        if col not in table:
            table[col] = 0
    judged = table["confirm_abuse"] + table["benign"]
    table["precision"] = table["confirm_abuse"] / judged.where(judged > 0)
    st.dataframe(table[["confirm_abuse", "benign", "escalate", "precision"]].rename(columns={
        "confirm_abuse": "confirmed", "escalate": "escalated"}), key="m_precision",
        column_config={"precision": st.column_config.NumberColumn(format="percent")})
    st.caption("Precision = confirmed / (confirmed + benign), from the decisions in force "
               "(reverted ones excluded).")
else:
    st.caption("No decisions in this window.")

st.subheader("LLM cost and latency")
calls = pd.DataFrame(m["llm_calls"])
if calls.empty:
    st.caption("No LLM calls recorded in this window.")
else:
    cost = calls["cost_usd"].sum()
    cols = st.columns(5)
    cols[0].metric("Calls", len(calls), border=True)
    cols[1].metric("Cost", f"${cost:.2f}" if cost >= 1 else f"${cost:.4f}", border=True)
    cols[2].metric("Latency p50", f"{calls['latency_ms'].quantile(0.5):,.0f} ms", border=True)
    cols[3].metric("Latency p95", f"{calls['latency_ms'].quantile(0.95):,.0f} ms", border=True)
    cols[4].metric("Errors", int((calls["status"] != "ok").sum()), border=True)
    st.bar_chart(per_bucket(calls, None, "cost_usd"), height=200, y_label="cost (USD)",
                 x_label="hour (UTC)" if HOURLY else "day (UTC)")

st.subheader("Dead letters")
if m["dead_letters"]:
    st.dataframe([{"id": d["id"], "task": d["task_name"], "attempts": d["attempts"], "since": d["created_at"],
                   "error": d["error"][:300], "args": str(d["args"])[:200]} for d in m["dead_letters"]],
                 hide_index=True, key="m_dead")
else:
    st.caption("None: every task either succeeded or is still retrying.")
