"""The admin UI through ``AppTest`` against a seeded database: login, every page, every decision path.

Each decision test checks the database, not the screen: the decision row (who, source), its effects
(sanctions, allowlist), the audit log, and the Slack delivery queued for an edit.
"""

from __future__ import annotations

import logging
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from detector.audit.models import AuditLog
from detector.auth import User, authenticate, hash_password, verify_password
from detector.cli import admin as admin_cli
from detector.db.session import session_scope
from detector.llm.models import PromptVersion
from detector.review.models import ModeratorDecision
from detector.similarity.models import AllowlistEntry
from tests.admin_ui.conftest import (admin_users_json, alert_status, decisions, login, new_app, open_page,
                                     sanctioned, slack_status, texts)

# --- credentials and the CLI ----------------------------------------------------------------------

def test_password_hashes_and_accounts(caplog):
    stored = hash_password("correct horse")
    assert stored.startswith("scrypt$16384$8$1$") and stored != hash_password("correct horse")  # salted
    assert verify_password("correct horse", stored) and not verify_password("correct hors", stored)
    for bad in ("", "md5$x", "scrypt$3$8$1$AA==$AA==", "b" + stored, stored.rsplit("$", 1)[0] + "$!!"):
        assert not verify_password("correct horse", bad)
    settings = SimpleNamespace(admin_users={"kim": {"password_hash": stored, "role": "moderator"},
                                            "eve": {"password_hash": stored, "role": "root"}})
    with caplog.at_level(logging.DEBUG):
        assert authenticate(settings, " kim ", "correct horse") == User("kim", "moderator")
        assert authenticate(settings, "kim", "wrong horse") is None
        assert authenticate(settings, "eve", "correct horse") is None  # a role we do not know
    assert "horse" not in caplog.text


def test_cli_hash_password_and_run(monkeypatch, tmp_path):
    result = CliRunner().invoke(admin_cli.app, ["hash-password"], input="long enough pw\nlong enough pw\n")
    assert result.exit_code == 0 and "long enough pw" not in result.output  # hidden input
    assert verify_password("long enough pw", result.output.strip().splitlines()[-1])
    assert CliRunner().invoke(admin_cli.app, ["hash-password"], input="short\nshort\n").exit_code == 2
    argv = admin_cli.streamlit_argv("127.0.0.1", 8502)
    assert argv[1:4] == ["-m", "streamlit", "run"] and argv[4].endswith("admin_ui/app.py")
    assert {"--server.headless=true", "--server.address=127.0.0.1", "--server.port=8502",
            "--browser.gatherUsageStats=false"} <= set(argv)
    started = []
    monkeypatch.setattr(admin_cli.os, "execvp", lambda path, args: started.append(args))
    assert CliRunner().invoke(admin_cli.app, []).exit_code == 0  # `detector admin` alone runs the UI
    assert CliRunner().invoke(admin_cli.app, ["run", "--port", "9123"]).exit_code == 0
    ports = [[x for x in args if x.startswith("--server.port=")] for args in started]
    assert ports == [["--server.port=8501"], ["--server.port=9123"]]


# --- login -----------------------------------------------------------------------------------------

def test_an_unauthenticated_visitor_sees_only_the_login(seeded):
    at = new_app().run()
    assert [t.value for t in at.title] == ["sellerwatch"]
    assert [b.key for b in at.button] == ["login_submit"]
    at.query_params["id"] = str(seeded.cluster)  # a Slack link, opened before logging in
    at.switch_page("app_pages/cluster.py").run()
    shown = texts(at)
    assert "Cluster #" not in shown and "seller_k0" not in shown and "Log out" not in shown
    assert [b.key for b in at.button] == ["login_submit"]
    at.text_input(key="login_user").input("kim")
    at.text_input(key="login_password").input("kim-moderates-42")
    at.button(key="login_submit").click().run()
    assert [t.value for t in at.title] == [f"Cluster #{seeded.cluster}"]  # lands where the link pointed


@pytest.mark.parametrize("name,password", [("kim", "wrong"), ("nobody", "kim-moderates-42"), ("", "")])
def test_wrong_credentials_are_rejected(seeded, name, password):
    at = new_app().run()
    at.text_input(key="login_user").input(name)
    at.text_input(key="login_password").input(password)
    at.button(key="login_submit").click().run()
    assert [e.value for e in at.error] == ["Wrong username or password."]
    assert "auth_user" not in at.session_state and "Review queue" not in texts(at)


def test_no_accounts_configured_says_how_to_add_one(sqlite_url, use_settings):
    use_settings(database_url=sqlite_url, admin_users="{}")
    at = new_app().run()
    assert "DETECTOR_ADMIN_USERS" in at.error[0].value and not at.text_input


def test_oidc_login_uses_st_user_and_the_account_list(sqlite_url, use_settings):
    use_settings(database_url=sqlite_url, admin_oidc="true",
                 admin_users='{"ada@example.com": {"role": "admin"}}')
    at = new_app()
    at.user = {"is_logged_in": False}
    assert [b.key for b in at.run().button] == ["oidc_login"]
    at.user = {"is_logged_in": True, "email": "ada@example.com"}
    assert [t.value for t in at.run().title] == ["Review queue"]
    at.user = {"is_logged_in": True, "email": "eve@example.com"}
    assert "may not use the admin UI" in at.run().error[0].value


# --- review queue ----------------------------------------------------------------------------------

def test_moderator_sees_the_queue_with_the_llm_path_disabled_then_logs_out(app, seeded):
    at = app()
    shown = texts(at)
    assert [t.value for t in at.title] == ["Review queue"]
    assert f"Alert #{seeded.alert_open}" in shown and f"LLM verdict #{seeded.detection}" in shown
    assert f"Alert #{seeded.alert_decided}" not in shown  # decided: not open work
    assert "아이폰 15 프로 256GB 미개봉" in shown
    confirm = at.button(key=f"q_alert_{seeded.alert_open}_confirm")
    assert confirm.label == "Confirm abuse: sanctions 6 accounts"
    assert any("LLM path disabled: set DETECTOR_LLM_BASE_URL" in i.value for i in at.info)
    at.button(key="logout").click().run()
    assert [b.key for b in at.button] == ["login_submit"]  # logged out: back to the login, nothing else


def test_llm_notice_is_gone_when_an_endpoint_is_set(app, use_settings):
    use_settings(llm_base_url="http://127.0.0.1:9/v1")
    assert "LLM path disabled" not in texts(app())


def test_confirm_from_the_queue_sanctions_queues_the_slack_edit_and_undo_reverts(app, seeded):
    at, url, alert = app(), seeded.url, seeded.alert_open
    at.button(key=f"q_alert_{alert}_confirm").click().run()
    assert alert_status(url, alert) == "confirmed"
    assert sanctioned(url, seeded.campaign_authors) == seeded.campaign_authors
    assert decisions(url, "alert", alert) == [("confirm_abuse", "kim", "admin_ui", None)]
    assert slack_status(url, alert) == "update_pending"  # the sweeper edits the Slack message
    assert "6 accounts sanctioned" in at.success[0].value
    undo = [b for b in at.button if b.key and b.key.startswith("undo_")]
    undo[0].click().run()
    assert alert_status(url, alert) == "open" and sanctioned(url, seeded.campaign_authors) == []
    assert [d[0] for d in decisions(url, "alert", alert)] == ["confirm_abuse", "revert"]
    with session_scope(url) as s:
        actions = s.scalars(select(AuditLog.action).filter_by(actor="kim").order_by(AuditLog.id))
        assert list(actions) == ["decision.confirm_abuse", "decision.revert"]


def test_benign_and_escalate_from_the_queue(app, seeded):
    at, url = app(), seeded.url
    at.button(key=f"q_alert_{seeded.alert_benign}_benign").click().run()
    assert alert_status(url, seeded.alert_benign) == "benign"
    with session_scope(url) as s:
        entries = s.scalars(select(AllowlistEntry.cluster_id).filter_by(created_by="kim")).all()
        assert entries == [seeded.cluster_benign]
    at.button(key=f"q_detection_{seeded.detection}_escalate").click().run()
    assert decisions(url, "detection", seeded.detection) == [("escalate", "kim", "admin_ui", None)]
    assert f"LLM verdict #{seeded.detection}" not in texts(at)  # escalated work leaves a moderator's queue


def test_bulk_action_applies_to_the_selected_rows(app, seeded):
    at = app()
    for alert in (seeded.alert_open, seeded.alert_benign):
        at.checkbox(key=f"sel_alert_{alert}").check()
    at.run()
    assert at.button(key="bulk_confirm").label == "Confirm 2: sanctions 9 accounts"
    at.button(key="bulk_escalate").click().run()
    statuses = [alert_status(seeded.url, a) for a in (seeded.alert_open, seeded.alert_benign)]
    assert statuses == ["escalated"] * 2
    assert "2 items escalated" in at.success[0].value


def test_filters_sort_and_revert_from_the_queue(app, seeded):
    at = app()
    at.multiselect(key="q_paths").select("llm").run()
    assert [b.key for b in at.button if b.key and b.key.endswith("_confirm")] == [
        f"q_detection_{seeded.detection}_confirm"]
    at.button(key=f"q_detection_{seeded.detection}_confirm").click().run()  # the LLM verdict is right
    assert decisions(seeded.url, "detection", seeded.detection) == [
        ("confirm_abuse", "kim", "admin_ui", None)]
    at.multiselect(key="q_paths").unselect("llm").run()
    at.multiselect(key="q_types").select("community").run()
    assert [c.key for c in at.checkbox] == [f"sel_alert_{seeded.alert_benign}"]
    at.multiselect(key="q_status").set_value(["benign"]).run()
    at.selectbox(key="q_age").set_value("Older than 24 hours").run()
    assert f"Alert #{seeded.alert_decided}" in texts(at) and f"Alert #{seeded.alert_benign}" not in texts(at)
    at.button(key=f"q_alert_{seeded.alert_decided}_revert").click().run()
    assert alert_status(seeded.url, seeded.alert_decided) == "open"
    at.multiselect(key="q_types").set_value([]).run()
    at.multiselect(key="q_status").set_value(["open"]).run()
    at.selectbox(key="q_age").set_value("Any age").run()
    at.selectbox(key="q_sort").set_value("Largest first").run()
    assert at.checkbox[0].key == f"sel_alert_{seeded.alert_open}"


# --- cluster, post and author pages ----------------------------------------------------------------

def test_cluster_page_shows_growth_samples_authors_and_slack(app, seeded):
    at = open_page(app(), "cluster", id=seeded.cluster)
    assert [t.value for t in at.title] == [f"Cluster #{seeded.cluster}"]
    assert [m.value for m in at.metric][:2] == ["8", "6"]
    assert at.get("vega_lite_chart")
    highlighted = "".join(h.value for h in at.get("html"))
    assert "<mark" in highlighted and "&lt;script&gt;alert(1)&lt;/script&gt;" in highlighted
    assert "<script>" not in highlighted  # untrusted text is escaped
    assert "channel=C0SELLERS" in at.get("link_button")[0].proto.url
    shown = texts(at)
    assert "seller_k05" in shown and "갤럭시 S24 울트라" in shown  # authors and their other posts


def test_cluster_page_decisions_and_revert(app, seeded):
    at, url, alert = open_page(app(), "cluster", id=seeded.cluster), seeded.url, seeded.alert_open
    at.text_input(key="cluster_note").input("same phone number in every post")
    at.button(key="cluster_confirm").click().run()
    assert decisions(url, "alert", alert) == [
        ("confirm_abuse", "kim", "admin_ui", "same phone number in every post")]
    assert sanctioned(url, seeded.campaign_authors) == seeded.campaign_authors
    assert slack_status(url, alert) == "update_pending"
    with session_scope(url) as s:
        first = s.scalar(select(func.min(ModeratorDecision.id)).filter_by(subject_id=alert,
                                                                            subject_type="alert"))
    at.button(key=f"cluster_hist_revert_{first}").click().run()
    assert alert_status(url, alert) == "open" and sanctioned(url, seeded.campaign_authors) == []
    at.button(key="cluster_benign").click().run()
    assert alert_status(url, alert) == "benign"


def test_a_decided_cluster_shows_the_decision_in_force_and_can_be_decided_again(app, seeded):
    at = open_page(app(), "cluster", id=seeded.cluster_decided)
    shown = texts(at)
    assert f"Alert #{seeded.alert_decided} **marked benign**" in shown and "slack:U024BE7LH (lee)" in shown
    at.button(key="cluster_escalate").click().run()  # no open alert: recorded on the cluster itself
    assert decisions(seeded.url, "cluster", seeded.cluster_decided) == [("escalate", "kim", "admin_ui", None)]
    at.button(key="cluster_current_revert").click().run()  # reverts the newest decision in force
    assert [d[0] for d in decisions(seeded.url, "cluster", seeded.cluster_decided)] == ["escalate", "revert"]
    at.button(key="cluster_current_revert").click().run()  # then the benign one from Slack
    assert alert_status(seeded.url, seeded.alert_decided) == "open"


def test_unknown_ids_and_the_cluster_index(app, seeded):
    at = open_page(app(), "cluster", id=999)
    assert "No cluster #999." in at.error[0].value
    at = open_page(at, "cluster")
    assert [t.value for t in at.title] == ["Clusters"]


def test_post_page_shows_both_texts_neighbours_and_decides(app, seeded):
    at = open_page(app(), "post", id=seeded.markup_post)
    code = [c.value for c in at.code]
    assert any("<script>alert(1)</script>" in c for c in code)  # as posted, shown verbatim in a code block
    assert any("01012345678" in c for c in code)  # as normalized: the canonical phone number
    assert "similarity 0.93" in texts(at)
    at.button(key="post_confirm").click().run()
    author = seeded.campaign_authors[3]
    assert sanctioned(seeded.url, [author]) == [author]
    assert "confirmed as abuse" in texts(at)  # in the history


def test_post_page_shows_the_llm_verdict_with_its_prompt(app, seeded):
    at = open_page(app(), "post", id=seeded.llm_post)
    shown = texts(at)
    assert "phone-buying business" in shown and "prompt v1" in shown and "score 0.94" in shown


def test_author_page_lists_posts_and_decides(app, seeded):
    author = seeded.campaign_authors[0]
    at = open_page(app(), "author", id=author)
    assert [t.value for t in at.title] == [f"Author #{author}"] and "seller_k00" in texts(at)
    assert [m.value for m in at.metric] == ["4", "1", "0"]
    at.button(key="author_confirm").click().run()
    assert sanctioned(seeded.url, [author]) == [author]
    revert = [b for b in at.button if b.key and b.key.startswith("author_hist_revert_")]
    revert[0].click().run()
    assert sanctioned(seeded.url, [author]) == []


# --- prompts, metrics, failures --------------------------------------------------------------------

def test_a_moderator_cannot_activate_prompts(app, seeded):
    at = open_page(app("kim"), "prompts")
    assert not [b for b in at.button if b.key == "p_activate"]
    assert "+Ignore single second-hand items" in at.code[-1].value  # the diff between v1 and v2


def test_an_admin_activates_a_prompt_version_with_an_audit_row(app, seeded):
    at = open_page(app("ada"), "prompts")
    assert at.button(key="p_activate").label == "Activate v2 for listing (replaces v1)"
    at.button(key="p_activate").click().run()
    with session_scope(seeded.url) as s:
        active = dict(s.execute(select(PromptVersion.version, PromptVersion.is_active)).all())
        assert active == {"v1": False, "v2": True}
        row = s.scalars(select(AuditLog).where(AuditLog.action == "prompt.activate")).one()
        assert (row.actor, row.subject_id) == ("ada", seeded.prompt_v2)
        assert row.details["previous"] == "v1" and row.details["forced"] is False  # it scored better: the gate passed


def test_metrics_page(app, seeded):
    at = open_page(app(), "metrics")
    values = {m.label: m.value for m in at.metric}
    assert values["Open alerts"] == "2" and values["Posts pending"] == "2" and values["Dead letters"] == "1"
    assert values["Calls"] == "5" and values["Errors"] == "1"
    assert values["Latency p50"] == "820 ms"  # of the three online calls; the two batch lines carry none
    # the seeded audit item confirmed 44 hours ago: a seller that no path flagged
    assert values["Sanctioned accounts"] == "1" and values["Found only by reports or audit"] == "1"
    assert values["Flagged by a path"] == "0" and values["Missed rate (audit)"] == "100.0%"
    paths, versions, dead = (at.dataframe[i].value for i in range(3))
    line = paths[(paths["path"] == "audit") & (paths["content type"] == "listing")].iloc[0]
    assert (line["precision"], line["precision n"], line["flags"], line["open"]) == (1.0, 1, 2, 1)
    similarity = paths[(paths["path"] == "similarity") & (paths["content type"] == "all")].iloc[0]
    assert (similarity["precision n"], similarity["recall"], similarity["recall n"]) == (1, 0.0, 1)
    assert list(versions["prompt"]) == ["v1"] and "embedding dimension 512" in dead.to_string()
    assert len(at.get("vega_lite_chart")) == 4  # alerts, precision and recall snapshots, LLM cost
    at.selectbox(key="m_span").set_value("Last 24 hours").run()
    values = {m.label: m.value for m in at.metric}
    assert values["Missed rate (audit)"] == "—" and values["Sanctioned accounts"] == "1"  # decided 44 h ago
    at.selectbox(key="m_window").set_value("Last 24 hours").run()
    assert not at.exception


def test_a_decision_in_the_queue_shows_in_the_metrics(app, seeded):
    at = app()
    at.button(key=f"q_alert_{seeded.alert_open}_confirm").click().run()
    at = open_page(at, "metrics")
    values = {m.label: m.value for m in at.metric}
    assert values["Sanctioned accounts"] == "7" and values["Flagged by a path"] == "6"
    paths = at.dataframe[0].value
    similarity = paths[(paths["path"] == "similarity") & (paths["content type"] == "listing")].iloc[0]
    assert (similarity["precision"], similarity["precision n"], similarity["recall"]) == (1.0, 1, round(6 / 7, 4))
    assert "similarity 6" in texts(at) and "audit 1" in texts(at)  # who caught the sanctioned accounts


def test_reports_and_audit_samples_are_in_the_queue_and_decidable(app, seeded):
    at = app()
    shown = texts(at)
    assert f"User report #{seeded.report}" in shown and f"Audit sample #{seeded.audit}" in shown
    assert "reported by user-4412" in shown and "random audit sample of unflagged posts" in shown
    assert f"Audit sample #{seeded.audit_decided}" not in shown  # already confirmed
    at.multiselect(key="q_paths").select("audit").run()
    assert [c.key for c in at.checkbox] == [f"sel_detection_{seeded.audit}"]
    at.button(key=f"q_detection_{seeded.audit}_benign").click().run()
    assert decisions(seeded.url, "detection", seeded.audit) == [("benign", "kim", "admin_ui", None)]
    at.multiselect(key="q_paths").set_value(["report"]).run()
    at.button(key=f"q_detection_{seeded.report}_confirm").click().run()
    assert decisions(seeded.url, "detection", seeded.report) == [("confirm_abuse", "kim", "admin_ui", None)]
    assert "1 account sanctioned" in at.success[0].value
    at = open_page(at, "metrics")
    values = {m.label: m.value for m in at.metric}
    assert values["Found only by reports or audit"] == "2" and values["Missed rate (audit)"] == "50.0%"


def test_an_unreachable_database_is_an_error_box_not_a_traceback(use_settings):
    use_settings(database_url="postgresql+psycopg://nobody@127.0.0.1:1/none", admin_users=admin_users_json())
    at = login(new_app())
    assert not at.exception
    assert "Database unavailable" in at.error[0].value and "Cannot reach the database" in at.error[0].value


def test_an_unmigrated_database_says_to_upgrade(tmp_path, use_settings):
    use_settings(database_url=f"sqlite:///{tmp_path / 'empty.db'}", admin_users=admin_users_json())
    at = login(new_app())
    assert not at.exception and "detector db upgrade" in at.error[0].value
