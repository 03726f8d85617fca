"""Slack alerts end to end against a fake Slack Web API: outbox at-most-once, retries, buttons."""

import hashlib
import hmac
import json
import threading
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from functools import partial
from urllib.parse import urlencode

import pytest
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from typer.testing import CliRunner

from detector.alerts.delivery import ChannelRateLimiter, deliver_alert, mark_for_update
from detector.alerts.models import Alert, AlertDelivery
from detector.alerts.slack_actions import build_slack_app, make_http_server
from detector.alerts.slack_messages import alert_blocks, alert_text
from detector.alerts.slack_sink import SlackRateLimited, SlackSink, SlackUnavailable, make_client
from detector.cli.slack import app as slack_cli
from detector.db.session import session_scope
from detector.review.models import ModeratorDecision
from detector.review.service import record_decision
from detector.similarity.models import Cluster
from tests.fakes.slack_server import FakeSlack

CHANNEL, ADMIN, SECRET = "C0ALERTS", "https://admin.example", "test-signing-secret"
HOSTILE = "<!channel> <@U123> & 급매"
NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
FAST = ChannelRateLimiter(rate=1000, burst=1000)  # tests must not wait a second per message


@pytest.fixture
def slack():
    with FakeSlack() as fake:
        yield fake


@pytest.fixture
def sink(slack):
    return SlackSink(make_client(slack.token, base_url=slack.base_url, timeout=1), CHANNEL)


@pytest.fixture
def alert_id(db_url):
    with session_scope(db_url) as s:
        cluster = Cluster(content_type="listing", size=3, distinct_authors=3)
        s.add(cluster)
        s.flush()
        samples = [{"post_id": i, "external_id": f"p{i}", "author": "a", "text": HOSTILE} for i in range(3)]
        summary = {"content_type": "listing", "cluster_id": cluster.id, "size": 3, "distinct_authors": 3,
                   "growth": {"window_minutes": 60, "added": 3}, "new_account_share": 0.5, "rule": "growth",
                   "level": 1, "samples": samples}
        alert = Alert(dedupe_key=f"c{cluster.id}", content_type="listing", path="similarity",
                      cluster_id=cluster.id, rule="growth", summary=summary)
        s.add(alert)
        s.flush()
        s.add(AlertDelivery(alert_id=alert.id, channel="slack", target=CHANNEL))
        return alert.id


def deliver(db_url, alert_id, sink, **kwargs):
    return deliver_alert(partial(session_scope, db_url), alert_id, sink, admin_base_url=ADMIN, limiter=FAST,
                         **kwargs)


def delivery_row(db_url, alert_id, **values) -> AlertDelivery:
    """The alert's delivery row, after setting ``values`` on it."""
    with session_scope(db_url) as s:
        row = s.scalars(select(AlertDelivery).where(AlertDelivery.alert_id == alert_id)).one()
        for key, value in values.items():
            setattr(row, key, value)
        return row


def test_delivered_once_with_metadata_and_escaped_text(db_url, alert_id, slack, sink):
    assert deliver(db_url, alert_id, sink) == "sent", delivery_row(db_url, alert_id).last_error
    assert deliver(db_url, alert_id, sink) == "already_sent"
    assert slack.count("chat.postMessage") == 1 and slack.count("conversations.history") == 0
    [message] = slack.messages(CHANNEL)
    row = delivery_row(db_url, alert_id)
    assert (row.status, row.attempts, row.external_ref) == ("sent", 1, message["ts"]) and row.sent_at
    assert message["metadata"] == {"event_type": "sellerwatch_alert", "event_payload": {"alert_id": alert_id}}
    wire = json.dumps(message, ensure_ascii=False)  # (e) what reached Slack
    assert "<!channel>" not in wire and "<@U123>" not in wire
    assert wire.count("&lt;!channel&gt; &lt;@U123&gt; &amp; 급매") == 3
    assert [b["type"] for b in message["blocks"]][-1] == "actions"


def test_rate_limited_then_sent_once(db_url, alert_id, slack, sink):
    slack.fail_next(429, 1, retry_after=7, method="chat.postMessage")
    with pytest.raises(SlackRateLimited) as err:
        deliver(db_url, alert_id, sink, now=NOW)
    assert err.value.retry_after == 7
    row = delivery_row(db_url, alert_id)
    assert (row.status, row.attempts, row.next_attempt_at) == ("pending", 1, NOW + timedelta(seconds=7))
    assert "rate limited" in row.last_error
    assert deliver(db_url, alert_id, sink) == "sent"
    assert len(slack.messages(CHANNEL)) == 1 and slack.count("chat.postMessage") == 2
    row = delivery_row(db_url, alert_id)
    assert (row.status, row.attempts, row.last_error, row.next_attempt_at) == ("sent", 2, None, None)


def test_sweeper_waits_for_the_backoff(db_url, alert_id, slack, sink):
    """A row in backoff is not re-dispatched early (a long outage must not start a retry chain per sweep)."""
    from detector.alerts.service import pending_deliveries

    slack.fail_next(429, 1, retry_after=30, method="chat.postMessage")
    with pytest.raises(SlackRateLimited):
        deliver(db_url, alert_id, sink, now=NOW)
    with session_scope(db_url) as s:
        assert pending_deliveries(s, now=NOW + timedelta(seconds=29)) == []
        assert pending_deliveries(s, now=NOW + timedelta(seconds=30)) == [alert_id]
    delivery_row(db_url, alert_id, next_attempt_at=None)  # a fresh row (no backoff) is due at once
    with session_scope(db_url) as s:
        assert pending_deliveries(s, now=NOW) == [alert_id]


def test_server_error_and_timeout_never_post_twice(db_url, alert_id, slack, sink):
    slack.fail_next(500, 1, method="chat.postMessage")
    with pytest.raises(SlackUnavailable, match="HTTP 500|500"):
        deliver(db_url, alert_id, sink)
    assert delivery_row(db_url, alert_id).status == "pending" and not slack.messages(CHANNEL)
    slack.fail_next(503, 1, method="conversations.history")
    with pytest.raises(SlackUnavailable):  # cannot check whether it was posted: do not post blind
        deliver(db_url, alert_id, sink)
    assert slack.count("chat.postMessage") == 1
    # Slack stores the message but the answer comes too late: the client times out.
    delivery_row(db_url, alert_id, attempts=0)
    slack.hang_next(2)
    with pytest.raises(SlackUnavailable, match="timed out|Timeout"):
        deliver(db_url, alert_id, sink)
    assert deliver(db_url, alert_id, sink) == "recovered"
    assert len(slack.messages(CHANNEL)) == 1 and delivery_row(db_url, alert_id).status == "sent"


def test_worker_died_after_posting_is_found_not_reposted(db_url, alert_id, slack, sink):
    with session_scope(db_url) as s:
        alert = s.get(Alert, alert_id)
        blocks, text = alert_blocks(alert_id, alert.summary, "open", ADMIN), alert_text(alert.summary)
    ts = sink.post(alert_id, blocks, text)
    delivery_row(db_url, alert_id, status="sending", attempts=1, next_attempt_at=NOW + timedelta(seconds=60))
    assert deliver(db_url, alert_id, sink, now=NOW) == "in_progress"  # the claim may still be alive
    assert deliver(db_url, alert_id, sink, now=NOW + timedelta(seconds=61)) == "recovered"
    assert slack.count("chat.postMessage") == 1 and len(slack.messages(CHANNEL)) == 1
    row = delivery_row(db_url, alert_id)
    assert (row.status, row.external_ref, row.attempts) == ("sent", ts, 3)  # recovered, then refreshed


def test_worker_died_before_posting_posts_once(db_url, alert_id, slack, sink):
    delivery_row(db_url, alert_id, status="sending", attempts=1)
    assert deliver(db_url, alert_id, sink) == "sent"
    assert slack.count("conversations.history") == 1 and len(slack.messages(CHANNEL)) == 1


def test_rejected_delivery_fails_without_retry(db_url, alert_id, slack):
    bad = SlackSink(make_client("xoxb-revoked", base_url=slack.base_url), CHANNEL)
    assert deliver(db_url, alert_id, bad) == "failed"
    row = delivery_row(db_url, alert_id)
    assert (row.status, row.last_error) == ("failed", "chat.postMessage: invalid_auth")
    assert deliver(db_url, alert_id, bad) == "skipped_failed" and slack.count("chat.postMessage") == 1


def test_decision_during_send_is_edited_in(db_url, alert_id, slack, sink):
    class DecidedMidway(SlackSink):
        def post(self, *args):
            ts = super().post(*args)
            with session_scope(db_url) as s:
                record_decision(s, subject_type="alert", subject_id=alert_id, decision="benign",
                                moderator="mod-lee")
                assert mark_for_update(s, alert_id) == 0  # not sent yet: nothing to mark
            return ts

    assert deliver(db_url, alert_id, DecidedMidway(sink.client, CHANNEL)) == "sent"
    [message] = slack.messages(CHANNEL)
    assert message["blocks"][-1]["elements"][0]["text"] == "☑️ Marked benign by mod-lee"
    assert delivery_row(db_url, alert_id).status == "sent" and slack.count("chat.update") == 1


def test_two_workers_never_send_the_same_delivery(db_url, alert_id, slack, sink):
    class Slow(SlackSink):
        def post(self, *args):
            time.sleep(0.3)
            return super().post(*args)

    start, outcomes = threading.Barrier(2), []

    def worker():
        start.wait()
        try:
            outcomes.append(deliver(db_url, alert_id, Slow(sink.client, CHANNEL)))
        except OperationalError:  # SQLite: the loser's write is refused ("database is locked")
            outcomes.append("locked")

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    loser, winner = sorted(outcomes)
    assert loser in ("in_progress", "locked") and winner == "sent"
    assert len(slack.messages(CHANNEL)) == 1 and delivery_row(db_url, alert_id).attempts == 1


def test_rate_limiter_spaces_posts_per_channel():
    clock, slept = [0.0], []
    limiter = ChannelRateLimiter(rate=1.0, clock=lambda: clock[0],
                                 sleep=lambda s: (slept.append(s), clock.__setitem__(0, clock[0] + s)))
    waits = [limiter.acquire("C1") for _ in range(3)] + [limiter.acquire("C2")]
    assert waits == [0.0, 1.0, 1.0, 0.0] and slept == [1.0, 1.0]


# -- (d) the buttons, over real HTTP through Bolt's WSGI adapter --------------------------------------
def click_body(alert_id, ts, action_id="alert_confirm", value=None) -> str:
    payload = {"type": "block_actions", "team": {"id": "T0TEST", "domain": "sellerwatch-test"},
               "user": {"id": "U123", "username": "kim", "name": "kim", "team_id": "T0TEST"},
               "api_app_id": "A0TEST", "token": "legacy-verification-token", "trigger_id": "1.2.3",
               "container": {"type": "message", "message_ts": ts, "channel_id": CHANNEL,
                             "is_ephemeral": False},
               "channel": {"id": CHANNEL, "name": "sellerwatch-alerts"},
               "message": {"ts": ts, "type": "message"},
               "response_url": "https://hooks.slack.com/actions/T0TEST/1/x",
               "actions": [{"action_id": action_id, "block_id": "alert_actions", "type": "button",
                            "value": value or str(alert_id), "action_ts": f"{time.time():.6f}"}]}
    return urlencode({"payload": json.dumps(payload)})


def signed(body: str, secret=SECRET, timestamp=None) -> dict:
    timestamp = str(int(timestamp or time.time()))
    digest = hmac.new(secret.encode(), f"v0:{timestamp}:{body}".encode(), hashlib.sha256).hexdigest()
    headers = {"Content-Type": "application/x-www-form-urlencoded", "X-Slack-Request-Timestamp": timestamp,
               "X-Slack-Signature": f"v0={digest}"}
    valid = SignatureVerifier(SECRET).is_valid(body, timestamp, headers["X-Slack-Signature"])
    assert valid == (secret == SECRET and abs(time.time() - int(timestamp)) <= 300)  # Bolt's own rule
    return headers


@pytest.fixture
def bolt_url(db_url, slack):
    app = build_slack_app(signing_secret=SECRET, client=make_client(slack.token, base_url=slack.base_url),
                          session_factory=partial(session_scope, db_url), admin_base_url=ADMIN,
                          process_before_response=True, limiter=FAST)
    server = make_http_server(app, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/slack/events"
    server.shutdown()
    server.server_close()


def send(url, body, headers) -> int:
    request = urllib.request.Request(url, data=body.encode(), headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as err:
        return err.code


def decisions(db_url):
    with session_scope(db_url) as s:
        return [(d.decision, d.moderator, d.source) for d in s.scalars(select(ModeratorDecision))]


def test_signed_click_decides_and_edits_the_message(db_url, alert_id, slack, sink, bolt_url):
    assert deliver(db_url, alert_id, sink) == "sent"
    ts = slack.messages(CHANNEL)[0]["ts"]
    body = click_body(alert_id, ts)
    assert send(bolt_url, body, signed(body)) == 200
    assert decisions(db_url) == [("confirm_abuse", "slack:U123 (kim)", "slack")]
    with session_scope(db_url) as s:
        assert s.get(Alert, alert_id).status == "confirmed"
    [message] = slack.messages(CHANNEL)
    assert slack.count("chat.update") == 1 and message["ts"] == ts
    assert message["blocks"][-1] == {"type": "context", "elements": [
        {"type": "mrkdwn", "text": "✅ Confirmed abuse by slack:U123 (kim)"}]}
    assert not any(b["type"] == "actions" for b in message["blocks"])
    assert delivery_row(db_url, alert_id).status == "sent"
    assert send(bolt_url, body, signed(body)) == 200  # a retried click: same decision, nothing new
    assert len(decisions(db_url)) == 1


def test_forged_stale_and_malformed_clicks_change_nothing(db_url, alert_id, slack, sink, bolt_url):
    assert deliver(db_url, alert_id, sink) == "sent"
    body = click_body(alert_id, slack.messages(CHANNEL)[0]["ts"])
    assert send(bolt_url, body, signed(body, secret="not-the-secret")) == 401
    assert send(bolt_url, body, signed(body, timestamp=time.time() - 600)) == 401
    assert send(bolt_url, body, {**signed(body), "X-Slack-Signature": "v0=" + "0" * 64}) == 401
    assert send(bolt_url, click_body(alert_id + 1, "1.0"), signed(body)) == 401  # signed another body
    junk = click_body(alert_id, "1.0", value="1 OR 1=1")
    assert send(bolt_url, junk, signed(junk)) == 200  # acknowledged, ignored
    unknown = click_body(alert_id + 1000, "1.0")
    assert send(bolt_url, unknown, signed(unknown)) == 200
    assert "no alert" in slack.ephemeral[0]["text"] and slack.ephemeral[0]["user"] == "U123"
    assert decisions(db_url) == [] and slack.count("chat.update") == 0
    with session_scope(db_url) as s:
        assert s.get(Alert, alert_id).status == "open"


def test_cli_test_message_and_serve_refusal(slack, use_settings, monkeypatch):
    use_settings(slack_bot_token=slack.token, slack_channel=CHANNEL, slack_api_url=slack.base_url)
    result = CliRunner().invoke(slack_cli, ["test-message"])
    assert result.exit_code == 0, result.output
    assert "metadata" not in slack.messages(CHANNEL)[0] and slack.token not in result.output
    use_settings(slack_bot_token="xoxb-revoked", slack_channel=CHANNEL)
    result = CliRunner().invoke(slack_cli, ["test-message"])
    assert result.exit_code == 3 and "invalid_auth" in result.output and "xoxb-revoked" not in result.output
    result = CliRunner().invoke(slack_cli, ["serve", "--port", "0"])  # no signing secret: refuse to serve
    assert result.exit_code == 2 and "DETECTOR_SLACK_SIGNING_SECRET" in result.output
