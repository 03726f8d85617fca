"""Secrets never reach logs or output, in the CLI at DEBUG level and in a real worker's log."""

import json

import pytest
from celery import Celery

from tests.integration.test_cli import detector
from tests.workerproc import WorkerProcess, wait_for

SECRETS = {"DETECTOR_SLACK_BOT_TOKEN": "xoxb-secret-token-123", "DETECTOR_SLACK_SIGNING_SECRET": "sig-secret-456",
           "DETECTOR_LLM_API_KEY": "sk-secret-789", "DETECTOR_PINECONE_API_KEY": "pc-secret-000",
           "DETECTOR_SLACK_APP_TOKEN": "xapp-secret-111"}


def leaked(text: str) -> list[str]:
    return [value for value in SECRETS.values() if value in text]


def test_cli_at_debug_level_prints_no_secret(tmp_path):
    feed = tmp_path / "posts.jsonl"
    feed.write_text(json.dumps({"id": "a", "text": "팝니다"}) + "\n{bad\n")
    env = {**SECRETS, "DETECTOR_LOG_LEVEL": "DEBUG", "DETECTOR_LLM_BASE_URL": "http://127.0.0.1:9/v1"}
    for args in (["config"], ["ingest", str(feed)], ["status"], ["rejected"]):
        result = detector(*args, cwd=tmp_path, env=env, check=False)
        assert leaked(result.stdout + result.stderr) == [], args


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.slow
def test_worker_log_holds_no_secret(pg_url, redis_url, tmp_path):
    env = {**SECRETS, "DETECTOR_DATABASE_URL": pg_url, "DETECTOR_BROKER_URL": redis_url,
           "DETECTOR_DATA_DIR": str(tmp_path / "data"), "DETECTOR_LOG_LEVEL": "DEBUG"}
    worker = WorkerProcess(env, tmp_path / "w.log").wait_ready()
    try:
        producer = Celery("p", broker=redis_url)
        producer.send_task("detector.ingest_post", args=[{"id": "s1", "text": "헤어져서 팝니다"}], queue="ingest")
        wait_for(lambda: b"detector.process_posts" in (tmp_path / "w.log").read_bytes(), 60, "the post processed")
        producer.close()
    finally:
        worker.stop()
    assert leaked((tmp_path / "w.log").read_text(errors="replace")) == []
