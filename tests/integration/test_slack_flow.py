"""The whole alert flow on real workers: posts in, one Slack message, a signed click, an edit.

Real Celery workers on Redis write to PostgreSQL and talk to a fake of Slack's Web API; the button
click goes through Bolt over HTTP with a real signature. Then the same with Slack answering 429
first, and with the delivering worker killed with SIGKILL while its chat.postMessage is in flight.
"""

import json
import threading
import time
from functools import partial

import pytest
from sqlalchemy import select

from detector.alerts.models import Alert, AlertDelivery
from detector.alerts.slack_actions import build_slack_app, make_http_server
from detector.alerts.slack_sink import make_client
from detector.db.session import session_scope
from detector.review.models import ModeratorDecision
from tests.fakes.slack_server import FakeSlack
from tests.integration.test_slack_alerts import SECRET, click_body, send, signed
from tests.workerproc import WorkerProcess, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]
CHANNEL = "C0ALERTS"
CAMPAIGN = ["급처 정품 다이슨 에어랩 새상품 {n} 택배가능 010-7777-1234 문자주세요",
            "급처 정품 다이슨 에어랩 새상품 {n} 택배 가능 O1O 7777 1234 문자 주세요 ☆",
            "급처 정품 다이슨 에어랩 새 상품 {n} 택배가능 010.7777.1234 문자주세요!"]


@pytest.fixture
def slack():
    with FakeSlack() as fake:
        yield fake


def env_for(pg_url, redis_url, slack, tmp_path):
    return {"DETECTOR_DATABASE_URL": pg_url, "DETECTOR_BROKER_URL": redis_url,
            "DETECTOR_DATA_DIR": str(tmp_path / "data"), "DETECTOR_SLACK_BOT_TOKEN": slack.token,
            "DETECTOR_SLACK_CHANNEL": CHANNEL, "DETECTOR_SLACK_API_URL": slack.base_url,
            "DETECTOR_SLACK_CLAIM_TTL_SECONDS": "2", "DETECTOR_BROKER_VISIBILITY_TIMEOUT": "3",
            "DETECTOR_BROKER_TRANSPORT_OPTIONS": json.dumps({"unacked_restore_interval": 1,
                                                             "unacked_restore_throttle": 1}),
            "DETECTOR_ALERT_RULES": json.dumps({"*": {"size_levels": [3], "min_distinct_authors": 3}})}


def send_campaign(producer, prefix):
    for i, text in enumerate(CAMPAIGN):
        post = {"id": f"{prefix}{i}", "author_id": f"{prefix}-acct-{i}", "text": text.format(n=1)}
        producer.send_task("detector.ingest_post", args=[post], queue="ingest")


def queues():
    return "ingest,embed,alerts,maintenance"


def one_message(slack):
    wait_for(lambda: len(slack.messages(CHANNEL)) >= 1, 90, "the Slack message")
    time.sleep(2)  # give a duplicate every chance to show up
    return slack.messages(CHANNEL)


def test_posts_to_one_message_to_a_signed_click_to_an_edit(pg_url, redis_url, producer, slack, tmp_path):
    slack.fail_next(429, 1, retry_after=1)  # Slack is busy at first: Retry-After is honoured
    worker = WorkerProcess(env_for(pg_url, redis_url, slack, tmp_path), tmp_path / "w.log", queues()).wait_ready()
    try:
        send_campaign(producer, "a")
        messages = one_message(slack)
        assert len(messages) == 1 and slack.count("chat.postMessage") == 2  # the 429, then the message
        with session_scope(pg_url) as s:
            alert = s.scalars(select(Alert)).one()
            assert s.scalars(select(AlertDelivery.status)).one() == "sent"
        app = build_slack_app(signing_secret=SECRET, client=make_client(slack.token, base_url=slack.base_url),
                              session_factory=partial(session_scope, pg_url), admin_base_url="http://admin",
                              process_before_response=True)
        server = make_http_server(app, "127.0.0.1", 0)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            body = click_body(alert.id, messages[0]["ts"])
            assert send(f"http://127.0.0.1:{server.server_port}/slack/events", body, signed(body)) == 200
        finally:
            server.shutdown()
        with session_scope(pg_url) as s:
            assert [(d.decision, d.source) for d in s.scalars(select(ModeratorDecision))] == [("confirm_abuse", "slack")]
        [edited] = slack.messages(CHANNEL)
        assert slack.count("chat.update") >= 1 and "Confirmed abuse by" in json.dumps(edited["blocks"],
                                                                                    ensure_ascii=False)
    finally:
        worker.stop()


def test_delivering_worker_killed_mid_send_still_one_message(pg_url, redis_url, producer, slack, tmp_path):
    env = env_for(pg_url, redis_url, slack, tmp_path)
    slack.hang_next(20)  # chat.postMessage is stored, then answered late: the worker dies waiting
    first = WorkerProcess(env, tmp_path / "w1.log", queues()).wait_ready()
    try:
        send_campaign(producer, "k")
        wait_for(lambda: slack.count("chat.postMessage") == 1, 90, "the post to reach Slack")
        first.kill9()
    finally:
        first.stop()
    second = WorkerProcess(env, tmp_path / "w2.log", queues()).wait_ready()
    try:
        wait_for(lambda: _delivery_status(pg_url) == "sent", 90, "the redelivered task to settle the delivery")
        assert len(slack.messages(CHANNEL)) == 1 and slack.count("chat.postMessage") == 1
    finally:
        second.stop()


def _delivery_status(url):
    with session_scope(url) as s:
        return s.scalars(select(AlertDelivery.status)).one_or_none()
