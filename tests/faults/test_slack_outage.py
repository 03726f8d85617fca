"""Fault: Slack is down for minutes, then back. Every alert ends in the channel exactly once.

Posts go through the real pipeline (a real Celery worker on Redis, PostgreSQL, the real embedder)
and raise three alerts while the Slack fake is down: first it answers every call with HTTP 503,
then it is stopped so connections are refused, then it is restarted on the same port and its first
``chat.postMessage`` takes effect but answers 503 (Slack did the work, its gateway failed).

"Minutes" are compressed through settings, each failure phase lasting until every delivery has
failed more often than one task's retries allow:

=============================  ==========  =======
setting                        production  here
=============================  ==========  =======
slack_retry_backoff_seconds    5 s         1 s
slack_retry_backoff_max_s      300 s       2 s
task_max_retries               8           2
beat sweep_alert_deliveries    60 s        4 s (sent by the test, as beat would)
=============================  ==========  =======

What it proves: a task that spent its retries leaves its row pending instead of dead-lettering it,
the sweeper picks the row up again, every attempt is counted on the row, and a retry looks in the
channel before posting. It fails for a sender that gives up after N tries (a dead letter, or a
delivery still pending at the end), for one that posts again after an answer was lost (a second
message), and for one that does not count its attempts.
"""

import threading

import pytest
from celery import Celery
from sqlalchemy import func, select

from detector.alerts.models import Alert, AlertDelivery
from detector.db.session import session_scope
from detector.jobs.models import DeadLetter
from detector.posts.models import Post
from tests.fakes.slack_server import FakeSlack
from tests.workerproc import WorkerProcess, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]
CHANNEL = "C0ALERTS"
MAX_RETRIES = 2  # one task makes 1 + MAX_RETRIES attempts, then defers to the sweeper
SWEEP_EVERY_S = 4.0
CAMPAIGNS = {
    "dyson": ["급처 정품 다이슨 에어랩 새상품 택배가능 010-7777-1234 문자주세요",
              "급처 정품 다이슨 에어랩 새상품 택배 가능 O1O 7777 1234 문자 주세요 ☆",
              "급처 정품 다이슨 에어랩 새상품 택배가능 010.7777.1234 문자 주세요 ♡"],
    "iphone": ["아이폰 15 프로 256기가 미개봉 새제품 최저가 판매합니다 카톡 deal777 연락주세요",
               "아이폰15 프로 256 기가 미개봉 새 제품 최저가 판매 합니다 카톡 dea1777 연락 주세요",
               "아이폰 15프로 256기가 미개봉새제품 최저가판매합니다 카 톡 deal777 연락주세요 ♡"],
    "tent": ["캠핑 텐트 4인용 풀세트 정품 새상품 직거래 택배 모두 가능 010-5555-9876",
             "캠핑텐트 4인용 풀 세트 정품 새 상품 직거래 택배 모두가능 O1O-5555-9876",
             "캠핑 텐트 4 인용 풀세트 정품 새상품 직 거래 택배 모두 가능 010 5555 9876 ☆"],
}


def worker_env(pg_url, redis_url, slack, tmp_path) -> dict[str, str]:
    return {"DETECTOR_DATABASE_URL": pg_url, "DETECTOR_BROKER_URL": redis_url,
            "DETECTOR_DATA_DIR": str(tmp_path / "data"), "DETECTOR_SLACK_BOT_TOKEN": slack.token,
            "DETECTOR_SLACK_CHANNEL": CHANNEL, "DETECTOR_SLACK_API_URL": slack.base_url,
            "DETECTOR_SLACK_RETRY_BACKOFF_SECONDS": "1", "DETECTOR_SLACK_RETRY_BACKOFF_MAX_SECONDS": "2",
            "DETECTOR_TASK_MAX_RETRIES": str(MAX_RETRIES), "DETECTOR_TASK_RETRY_BACKOFF_MAX": "2",
            "DETECTOR_ALERT_RULES": '{"*": {"size_levels": [3], "min_distinct_authors": 3}}'}


class Beat:
    """Sends the alert sweeper every few seconds from its own client, as the beat process would."""

    def __init__(self, broker_url: str):
        self.client, self.stopped = Celery("beat-stand-in", broker=broker_url), threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.stopped.wait(SWEEP_EVERY_S):
            self.client.send_task("detector.maintenance.sweep_alert_deliveries", queue="maintenance")

    def __enter__(self) -> "Beat":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stopped.set()
        self.thread.join(timeout=10)
        self.client.close()


def deliveries(pg_url) -> list[AlertDelivery]:
    with session_scope(pg_url) as s:
        return list(s.scalars(select(AlertDelivery).order_by(AlertDelivery.alert_id)))


def all_rows(pg_url, predicate) -> bool:
    rows = deliveries(pg_url)
    return len(rows) == len(CAMPAIGNS) and all(predicate(r) for r in rows)


def test_slack_down_for_minutes_then_back_delivers_each_alert_once(pg_url, redis_url, producer, tmp_path):
    slack = FakeSlack().start()
    slack.outage(503)
    worker = WorkerProcess(worker_env(pg_url, redis_url, slack, tmp_path), tmp_path / "w.log",
                           "ingest,embed,alerts,maintenance").wait_ready()
    try:
        with Beat(redis_url):
            for name, texts in CAMPAIGNS.items():
                for i, text in enumerate(texts):
                    post = {"id": f"{name}-{i}", "author_id": f"{name}-acct-{i}", "text": text}
                    producer.send_task("detector.ingest_post", args=[post], queue="ingest")

            # Phase 1, HTTP 503: outlast one task's retries on every delivery.
            wait_for(lambda: all_rows(pg_url, lambda r: r.attempts > 1 + MAX_RETRIES and "503" in (r.last_error or "")),
                     60, "every delivery to fail more often than one task retries")
            failed_503 = slack.count("chat.postMessage") + slack.count("conversations.history")
            assert not slack.messages(CHANNEL) and not slack.requests  # nothing got through

            # Phase 2, connection refused: only the sweeper can bring a spent delivery back.
            slack.stop()
            wait_for(lambda: all_rows(pg_url, lambda r: "Connection refused" in (r.last_error or "")),
                     60, "every delivery to be re-tried while Slack refuses connections")
            assert all(r.status in ("pending", "sending") for r in deliveries(pg_url))

            # Phase 3, back on the same port; the first post is done but its answer is lost.
            slack.outage(None)
            slack.lose_answer_next(503, method="chat.postMessage")
            slack.start(port=slack.port)
            wait_for(lambda: all_rows(pg_url, lambda r: r.status == "sent"), 60, "every delivery sent")
            threading.Event().wait(2 * SWEEP_EVERY_S)  # a sweep and any duplicate get their chance
    finally:
        worker.stop()
        slack.stop()

    with session_scope(pg_url) as s:
        alert_ids = sorted(s.scalars(select(Alert.id)))
        assert s.scalars(select(DeadLetter.task_name)).all() == []
        assert s.scalar(select(func.count()).select_from(Post).where(Post.status == "processed")) == 9
    rows = deliveries(pg_url)
    assert len(alert_ids) == len(CAMPAIGNS) == len(rows)
    # Counted on the rows: the 503s, at least one refused attempt each, and the success.
    assert all(r.status == "sent" and r.last_error is None and r.attempts >= MAX_RETRIES + 3 for r in rows)
    assert sum(r.attempts for r in rows) >= failed_503 + 2 * len(rows)
    # In the channel: one message per alert, the one each row points at; no second post went through.
    messages = slack.messages(CHANNEL)
    assert sorted(m["metadata"]["event_payload"]["alert_id"] for m in messages) == alert_ids
    assert {m["ts"] for m in messages} == {r.external_ref for r in rows}
    assert sum(1 for method, _args in slack.requests if method == "chat.postMessage") == len(alert_ids)
