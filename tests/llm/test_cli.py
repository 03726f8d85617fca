"""``detector prompts`` round trip against the local OpenAI-compatible stub server, over real HTTP."""

import json
import socket

import pytest
from typer.testing import CliRunner

from detector.cli.prompts import app
from detector.llm.fake import FakeLLMServer
from tests.llm.conftest import synthetic

runner = CliRunner()


def cli(*args, code=0):
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exit_code == code, (result.output, result.exception)
    return result.output


@pytest.fixture
def server():
    with FakeLLMServer() as srv:
        yield srv


@pytest.fixture
def files(tmp_path):
    records = synthetic(60, 60, seed=5)
    paths = {name: tmp_path / f"{name}.jsonl" for name in ("dataset", "seller", "normal")}
    paths["dataset"].write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n")
    for label in ("seller", "normal"):  # unlabelled example files, as exported by hand
        paths[label].write_text("\n".join(json.dumps({"id": r["id"], "text": r["text"]}, ensure_ascii=False)
                                          for r in records if r["label"] == label) + "\n")
    return paths


def test_generate_eval_activate_list_show_diff(server, files, tmp_path):
    url, exports = server.base_url, tmp_path / "generated"
    first = json.loads(cli("generate", "-t", "listing", "--dataset", files["dataset"], "--n", 20, "--base-url", url,
                           "--export-dir", exports, "--json"))
    assert first["examples"] == {"seller": 20, "normal": 20} and (exports / f"{first['version']}.md").exists()
    out = json.loads(cli("eval", "--version", first["version"], "--dataset", files["dataset"], "--base-url", url,
                         "--export-dir", exports, "--json"))
    assert out["n"] == 80 and out["precision"] > 0.9 and out["recall"] > 0.9
    assert '"eval_scores": {\n    "dataset.jsonl:' in (exports / f"{first['version']}.md").read_text()
    assert "is active" in cli("activate", first["version"])

    # the same examples with the labels swapped: a worse profile that the gate must refuse
    second = json.loads(cli("generate", "-t", "listing", "--seller", files["normal"], "--normal", files["seller"],
                            "--n", 20, "--base-url", url, "--export-dir", exports, "--json"))
    text = cli("eval", "--version", second["version"], "--dataset", files["dataset"], "--base-url", url)
    assert "precision" in text and "recall" in text
    result = runner.invoke(app, ["activate", second["version"]])
    assert result.exit_code == 1 and "--force" in result.output
    cli("activate", second["version"], "--force")

    listed = [json.loads(line) for line in cli("list", "--json").splitlines()]
    assert [(v["version"], v["active"]) for v in listed] == [(first["version"], False), (second["version"], True)]
    assert all(v["eval"]["f1"] is not None for v in listed)
    assert "not evaluated" not in cli("list", "-t", "listing")
    shown = cli("show", first["version"])
    assert first["version"] in shown and '"profile_model": "gpt-4.1"' in shown and "## Professional sellers" in shown
    assert json.loads(cli("show", str(first["id"]), "--json"))["provenance"]["examples"]["seller"]
    assert "-FAKE_SIGNALS" in cli("diff", first["version"], second["version"])


def test_usage_and_endpoint_errors_have_distinct_exit_codes(files):
    assert "exactly one source" in cli("generate", "-t", "listing", code=2)
    assert "DETECTOR_LLM_BASE_URL" in cli("generate", "-t", "listing", "--dataset", files["dataset"], code=2)
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{sock.getsockname()[1]}/v1"
    out = cli("generate", "-t", "listing", "--dataset", files["dataset"], "--base-url", dead, "--max-retries", 0, code=3)
    assert "APIConnectionError" in out
    assert "no prompt version" in cli("show", "nope", code=2)
    assert "cannot read" in cli("baseline", "--dataset", files["dataset"].parent / "missing.jsonl", code=2)


def test_a_failing_endpoint_exits_3(server, files):
    server.fake.fail_always("500")
    out = cli("generate", "-t", "listing", "--dataset", files["dataset"], "--n", 5, "--base-url", server.base_url,
              "--max-retries", 0, code=3)
    assert "HTTP 500" in out


def test_baseline_command(files):
    out = json.loads(cli("baseline", "--dataset", files["dataset"], "--n", 20, "--embedder", "hashing", "--json"))
    assert out["train"] == {"seller": 20, "normal": 20} and out["n"] == 80 and out["f1"] > 0.8
    assert out["embedder"] == "hashing-3gram-256"


def test_backfill_batches_poll_cancel_round_trip(server, files):
    from detector.cli.runtime import ensure_schema
    from detector.db.session import session_scope
    from detector.settings import get_settings
    from tests.llm.conftest import add_posts

    url = server.base_url
    version = json.loads(cli("generate", "-t", "listing", "--dataset", files["dataset"], "--n", 20, "--base-url", url,
                             "--export-dir", files["dataset"].parent / "generated", "--json"))
    cli("activate", version["version"])
    ensure_schema(get_settings())
    with session_scope() as session:
        add_posts(session, ["도매 특가 문의 010-1111-2222", "이사 가면서 책상 정리해요", "FREE prize call now 08001234"])
    out = json.loads(cli("backfill", "--batch", "--base-url", url, "--json"))
    (sub,) = out["batches"]
    assert out["mode"] == "batch" and sub["requests"] == 3 and server.fake.batches.created == 1
    (row,) = [json.loads(line) for line in cli("batches", "--json").splitlines()]
    assert (row["id"], row["status"], row["provider_batch_id"]) == (sub["batch_id"], "submitted", sub["provider_batch_id"])
    (row,) = [json.loads(line) for line in cli("batches", "--poll", "--base-url", url, "--json").splitlines()]
    assert row["status"] == "ingested" and row["counts"]["detections"] == 3 and row["counts"]["positives"] == 2
    assert "ingested" in cli("batches") and json.loads(cli("backfill", "--batch", "--base-url", url, "--json"))[
        "batches"] == []

    with session_scope() as session:
        add_posts(session, ["동네 이웃 나눔 합니다", "아이 옷 정리"], start=10)
    (second,) = json.loads(cli("backfill", "--batch", "--base-url", url, "--json"))["batches"]
    assert "cancelling" in cli("cancel-batch", second["batch_id"], "--base-url", url)
    assert "already closed" in cli("cancel-batch", sub["batch_id"], "--base-url", url, code=2)
    assert "no llm batch" in cli("cancel-batch", 999, "--base-url", url, code=2)
    listed = [json.loads(line) for line in cli("batches", "--poll", "--base-url", url, "--json").splitlines()]
    assert [b["status"] for b in listed] == ["cancelled", "ingested"]
    assert json.loads(cli("backfill", "--online", "--base-url", url, "--json")) == {
        "mode": "online", "classified": 2, "error": None}
