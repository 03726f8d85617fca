"""Metrics page: is the system keeping up, and are its detections right?

The operations part (queue, alert volume, LLM cost, dead letters) reads ``data.metrics``; precision,
recall and caught share per path, content type and prompt version come from ``detector.metrics``
through ``data.online_metrics`` (the same figures as ``detector metrics``), with the audit sample's
missed-rate estimate and the hourly snapshots as a series.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pandas as pd
import streamlit as st

from admin_ui import data
from admin_ui.app_pages import _ui

WINDOWS = {"Last 24 hours": timedelta(days=1), "Last 7 days": timedelta(days=7),
           "Last 30 days": timedelta(days=30), "Last 90 days": timedelta(days=90)}
SPANS = {"Last 24 hours": "1d", "Last 7 days": "7d", "Last 30 days": "30d", "All time": "all"}

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

st.subheader("Precision and recall per path")
span = SPANS[st.selectbox("Flags raised and accounts sanctioned in", list(SPANS), index=1, key="m_span")]
online = data.online_metrics(url, span)
rows = online["rows"]


def table(rows: list[dict], first: str) -> pd.DataFrame:
    """One line per row: each figure as a share, its 95 % Wilson interval, and its sample size."""
    out = []
    for r in rows:
        line = {first: r["prompt_version"] if first == "prompt" else r["path"], "content type": r["content_type"]}
        for name, key in (("precision", "precision"), ("recall", "recall"), ("caught", "caught")):
            m = r[key]
            line[name] = m["value"]
            line[f"{name} 95% CI"] = "—" if m["value"] is None else f"{m['low']:.0%}–{m['high']:.0%}"
            if name != "caught":  # caught shares recall's sample: the sanctioned accounts
                line[f"{name} n"] = m["n"]
        line.update(flags=r["flags"], open=r["decisions"]["open"], escalated=r["decisions"]["escalate"])
        out.append(line)
    return pd.DataFrame(out)


SHARE = {k: st.column_config.NumberColumn(format="percent") for k in ("precision", "recall", "caught")}
if not rows:
    st.caption("Nothing flagged and no account sanctioned in this window.")
else:
    per_path = [r for r in rows if r["prompt_version_id"] is None]
    st.dataframe(table(per_path, "path"), hide_index=True, key="m_paths", column_config=SHARE)
    st.caption("Precision = confirmed / decided among the flags raised in the window (decisions in force now; "
               "escalations are not decisions). Recall = share of the accounts sanctioned in the window that the "
               "path flagged, whoever found them (any path, users' reports, the audit sample). Caught = share of "
               "them whose sanction came from this path's flag. \"any\" pools the detection paths; \"report\" "
               "and \"audit\" are inputs to review, not paths.")
    versions = [r for r in rows if r["prompt_version_id"] is not None]
    if versions:
        st.markdown("**Per prompt version** (recall among the sanctioned accounts whose posts that version judged)")
        st.dataframe(table(versions, "prompt"), hide_index=True, key="m_versions", column_config=SHARE)
    overall = next(r for r in rows if r["path"] == "any" and r["content_type"] == "all")
    audit = next((r for r in rows if r["path"] == "audit" and r["content_type"] == "all"), None)
    known, missed = overall["sanctioned"], audit and audit["missed_rate"]
    cols = st.columns(5)
    cols[0].metric("Sanctioned accounts", known["total"], border=True)
    cols[1].metric("Flagged by a path", known["flagged_by_a_path"], border=True)
    cols[2].metric("Found only by reports or audit", known["only_reports_or_audit"], border=True,
                   help="Sanctioned accounts that no detection path had flagged.")
    cols[3].metric("Found otherwise", known["found_otherwise"], border=True,
                   help="Sanctioned from a post or author page with no flag, report or audit item.")
    cols[4].metric("Missed rate (audit)", "—" if not missed or missed["value"] is None else f"{missed['value']:.1%}",
                   border=True, help="Share of randomly audited unflagged posts that moderators confirmed as "
                   "professional sellers" + ("" if not missed or missed["value"] is None else
                                             f": 95 % CI {missed['low']:.1%}–{missed['high']:.1%}, "
                                             f"n = {missed['n']} decided"))
    st.caption("Sanctioned accounts per path that caught them: " + ", ".join(
        f"{who} {n}" for who, n in overall["caught_by"].items()) if overall["caught_by"] else
        "No account sanctioned in this window.")

history = pd.DataFrame(online["history"])
if history.empty:
    st.caption("No stored snapshots for this window yet: `detector.maintenance.snapshot_metrics` (hourly) or "
               "`detector metrics snapshot` stores them.")
else:
    cols = st.columns(2)
    for col, figure in zip(cols, ("precision", "recall"), strict=True):
        series = history.assign(value=history[figure].map(lambda m: m["value"]),
                                bucket=pd.to_datetime(history["bucket"], utc=True))
        col.line_chart(series.pivot_table(index="bucket", columns="path", values="value", aggfunc="last"),
                       height=220, y_label=figure, x_label="snapshot (UTC)")

st.subheader("LLM cost and latency")
calls = pd.DataFrame(m["llm_calls"])
if calls.empty:
    st.caption("No LLM calls recorded in this window.")
else:
    cost = calls["cost_usd"].sum()
    cols = st.columns(5)
    cols[0].metric("Calls", len(calls), border=True)
    cols[1].metric("Cost", f"${cost:.2f}" if cost >= 1 else f"${cost:.4f}", border=True)
    # Latency of requests that waited on a model: Batch API lines and cache hits carry no latency.
    live = calls[(calls["stage"] != "batch") & ~calls["cache_hit"].astype(bool)]["latency_ms"]
    cols[2].metric("Latency p50", f"{live.quantile(0.5):,.0f} ms" if len(live) else "–", border=True)
    cols[3].metric("Latency p95", f"{live.quantile(0.95):,.0f} ms" if len(live) else "–", border=True)
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
