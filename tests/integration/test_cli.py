"""The `detector` command on the embedded default: no service, no configuration."""

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def detector(*args, cwd, env=None, check=True):
    full = {k: v for k, v in os.environ.items() if not k.startswith("DETECTOR_")}
    full.update(env or {})
    result = subprocess.run([sys.executable, "-m", "detector.cli", *args], cwd=cwd, env=full,
                            capture_output=True, text=True, timeout=300)
    if check:
        assert result.returncode == 0, result.stderr[-3000:]
    return result


def test_ingest_json_counts_rerun_status_and_rejections(tmp_path):
    feed = tmp_path / "posts.jsonl"
    feed.write_bytes(b"\n".join([
        json.dumps({"id": "a", "text": "ㅎㅖ어져서 팝니ㄷr ☆", "author_id": "u1"}, ensure_ascii=False).encode(),
        b'{"id": "b", "text": 5}',
        json.dumps({"id": "c", "text": "desk for sale", "created_at": "2026-11-01T10:00:00Z"}).encode(),
        b"\xff\xfe",
        json.dumps({"id": "a", "text": "again"}).encode(),
    ]) + b"\n")
    first = detector("ingest", str(feed), "--json", cwd=tmp_path)
    assert json.loads(first.stdout) == {"accepted": 2, "duplicates": 1, "rejected": 2}
    second = detector("ingest", str(feed), "--json", cwd=tmp_path)
    assert json.loads(second.stdout) == {"accepted": 0, "duplicates": 3, "rejected": 2}
    assert (tmp_path / ".sellerwatch" / "sellerwatch.db").exists()  # the embedded default's SQLite file

    status = json.loads(detector("status", "--json", cwd=tmp_path).stdout)
    assert status["posts"] == [{"content_type": "listing", "status": "processed", "count": 2}]
    assert status["rejected"] == {"invalid_utf8": 1, "wrong_type": 1}
    lines = detector("rejected", "--json", cwd=tmp_path).stdout.splitlines()
    assert {json.loads(line)["line"] for line in lines} == {2, 4}


def test_content_type_option_and_validation(tmp_path):
    feed = tmp_path / "posts.jsonl"
    feed.write_text('{"id": "a", "text": "x"}\n{"id": "b", "text": "y", "content_type": "other"}\n')
    detector("ingest", str(feed), "--content-type", "cars", cwd=tmp_path)
    status = json.loads(detector("status", "--json", cwd=tmp_path).stdout)
    assert sorted(r["content_type"] for r in status["posts"]) == ["cars", "other"]
    bad = detector("ingest", str(feed), "--content-type", "Not Valid", cwd=tmp_path, check=False)
    assert bad.returncode == 2


def test_worker_refuses_the_memory_broker_with_a_clear_message(tmp_path):
    result = detector("worker", cwd=tmp_path, check=False)
    assert result.returncode == 2 and "DETECTOR_BROKER_URL" in result.stderr


def test_config_masks_secrets(tmp_path):
    out = detector("config", cwd=tmp_path, env={
        "DETECTOR_SLACK_BOT_TOKEN": "xoxb-very-secret",
        "DETECTOR_DATABASE_URL": "postgresql+psycopg://app:hunter2@db/sw"}).stdout
    assert "xoxb-very-secret" not in out and "hunter2" not in out
    assert "postgresql+psycopg://app:***@db/sw" in out


def test_demo_runs_offline_and_finds_campaigns(tmp_path):
    out = detector("demo", "--data-dir", str(tmp_path / "demo"), cwd=tmp_path).stdout
    assert '"rejected": 10' in out and "re-ingest: {\"accepted\": 0" in out
    assert "processed" in out and "camp-" in out and "alerts stored" in out
