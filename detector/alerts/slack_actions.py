"""Slack interactivity: the alert buttons, as a thin Bolt adapter over ``record_decision``.

Bolt verifies every request (``X-Slack-Signature`` over the raw body with the signing secret, and a
timestamp no older than five minutes) and answers 401 otherwise, so a forged or replayed click
never reaches a handler. A handler acknowledges first (Slack wants an answer within 3 s), records
the decision with ``source="slack"``, marks the alert's messages for an edit and edits the clicked
message at once through the outbox (``deliver_alert``), so the buttons turn into "decided by".
Deciding twice is harmless: ``record_decision`` returns the existing decision.

Anyone who can click in the alert channel can decide: restrict the channel's membership.
"""

from __future__ import annotations

import logging
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient
from sqlalchemy.orm import Session

from detector.alerts.delivery import ChannelRateLimiter, SessionFactory, deliver_alert, mark_for_update
from detector.alerts.models import Alert
from detector.alerts.slack_messages import (
    ACTION_BENIGN,
    ACTION_CONFIRM,
    ACTION_OPEN,
    alert_blocks,
    alert_text,
)
from detector.alerts.slack_sink import SlackError, SlackSink
from detector.review.service import DecisionError, latest_decision, record_decision

log = logging.getLogger(__name__)
EVENTS_PATH = "/slack/events"


def build_slack_app(*, signing_secret: str, client: WebClient, session_factory: SessionFactory,
                    admin_base_url: str, allowlist_days: int = 30, process_before_response: bool = False,
                    limiter: ChannelRateLimiter | None = None) -> App:
    """The Bolt app answering the alert buttons; ``process_before_response`` makes dispatch wait for them."""
    app = App(signing_secret=signing_secret, client=client, token_verification_enabled=False,
              request_verification_enabled=True, process_before_response=process_before_response)

    def handler(decision: str):
        def handle(ack, body, action):
            ack()
            _decide(body, action, decision, client=client, session_factory=session_factory,
                    admin_base_url=admin_base_url, allowlist_days=allowlist_days, limiter=limiter)
        return handle

    app.action(ACTION_CONFIRM)(handler("confirm_abuse"))
    app.action(ACTION_BENIGN)(handler("benign"))
    app.action(ACTION_OPEN)(lambda ack: ack())  # a link button: the browser does the work
    return app


def _decide(body: dict, action: dict, decision: str, *, client: WebClient, session_factory: SessionFactory,
            admin_base_url: str, allowlist_days: int, limiter: ChannelRateLimiter | None) -> None:
    user = body.get("user") or {}
    channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")
    message_ts = (body.get("container") or {}).get("message_ts") or (body.get("message") or {}).get("ts")
    value = str(action.get("value", "")).strip()
    alert_id = int(value) if value.isascii() and value.isdigit() and len(value) < 19 else None
    if alert_id is None:
        log.warning("slack button %s with a value that is not an alert id ignored", action.get("action_id"))
        return
    if not user.get("id") or not channel:
        log.warning("slack button for alert %s without a user or channel ignored", alert_id)
        return
    name = user.get("username") or user.get("name") or "?"
    moderator = f"slack:{user['id']} ({name})"[:128]
    try:
        with session_factory() as session:
            record_decision(session, subject_type="alert", subject_id=alert_id, decision=decision,
                            moderator=moderator, source="slack", allowlist_days=allowlist_days)
            mark_for_update(session, alert_id)
    except DecisionError as err:
        log.warning("slack decision on alert %s refused: %s", alert_id, err)
        _tell(client, channel, user["id"], f"Could not record the decision: {err}")
        return
    sink = SlackSink(client, channel)
    try:
        outcome = deliver_alert(session_factory, alert_id, sink, admin_base_url=admin_base_url,
                                limiter=limiter)
        if outcome == "skipped_no_delivery" and message_ts:  # a message the outbox does not track
            with session_factory() as session:
                _edit_directly(session, sink, alert_id, message_ts, admin_base_url)
    except SlackError as err:  # the row stays update_pending; the outbox edits it later
        log.warning("slack message of alert %s not edited yet: %s", alert_id, err)


def _edit_directly(session: Session, sink: SlackSink, alert_id: int, ts: str, admin_base_url: str) -> None:
    """Edit a clicked message the outbox has no row for (posted to another channel, or by hand)."""
    alert = session.get(Alert, alert_id)
    decision = latest_decision(session, "alert", alert_id)
    summary = alert.summary or {}
    blocks = alert_blocks(alert_id, summary, alert.status, admin_base_url, decision and decision.moderator)
    sink.update(ts, blocks, alert_text(summary))


def _tell(client: WebClient, channel: str, user_id: str, text: str) -> None:
    try:
        client.chat_postEphemeral(channel=channel, user=user_id, text=text)
    except Exception as err:  # noqa: BLE001 - a courtesy message must not hide the real outcome
        log.warning("ephemeral reply failed: %s", type(err).__name__)


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _LoggingHandler(WSGIRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the stdlib's signature
        log.debug("%s %s", self.address_string(), format % args)  # access lines to logging, not stderr


def make_http_server(app: App, host: str, port: int) -> WSGIServer:
    """A threaded ``wsgiref`` server answering Slack at ``/slack/events`` (port 0: any free port)."""
    handler = SlackRequestHandler(app, path=EVENTS_PATH)
    return make_server(host, port, handler, server_class=_ThreadingWSGIServer, handler_class=_LoggingHandler)


def serve_http(app: App, host: str, port: int) -> None:
    """Serve the Request URL over HTTP until interrupted (put TLS in front: Slack requires https)."""
    server = make_http_server(app, host, port)
    log.info("slack interactivity on http://%s:%s%s", host, server.server_port, EVENTS_PATH)
    try:
        server.serve_forever()
    finally:
        server.server_close()


def serve_socket_mode(app: App, app_token: str) -> None:
    """Receive clicks over Slack's Socket Mode (an ``xapp-`` token; no public URL needed)."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    SocketModeHandler(app, app_token).start()
