"""``detector eval`` end to end on a small synthetic labelled set (hashing embedder: fast, offline)."""

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from detector.cli import evaluate
from detector.demo.generator import generate_stream

runner = CliRunner()
app = typer.Typer()
app.command("eval")(evaluate.eval_command)


@app.command("noop")
def _noop() -> None:  # a second command keeps typer from collapsing the app into the eval command
    pass


KEYS = {"path", "n", "seller", "normal", "flagged", "precision", "recall", "f1"}
AUTHOR_KEYS = {"authors_seller", "authors_flagged", "author_precision", "author_recall"}


def cli(*args, code=0):
    result = runner.invoke(app, ["eval", *[str(a) for a in args]])
    assert result.exit_code == code, (result.output, result.exception)
    return result


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    path = tmp_path_factory.mktemp("eval") / "demo.jsonl"
    rows = generate_stream(n_normal=60, n_campaigns=3)
    path.write_text("".join(json.dumps({**r.record, "label": "seller" if r.campaign else "normal"},
                                       ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.mark.parametrize("path", ["similarity", "minhash"])
def test_cluster_paths_catch_the_campaigns(path, dataset, tmp_path):
    report = tmp_path / "report"
    out = json.loads(cli("--path", path, "--dataset", dataset, "--json", "--embedder", "hashing",
                         "--base-rate", "0.05", "--report", report).stdout)
    assert KEYS | AUTHOR_KEYS | {"precision_at_base_rate"} <= set(out)
    assert out["path"] == path and out["n"] == 139 and out["seller"] == 79 and out["normal"] == 60
    assert out["recall"] > 0.8 and out["precision"] > 0.8
    assert out["author_recall"] > 0.8 and out["author_precision"] > 0.8
    md = (report / f"{path}_report.md").read_text(encoding="utf-8")
    assert "| minimum cluster size |" in md and "False positives" in md
    assert len([line for line in md.splitlines() if line.startswith("| ") and line[2].isdigit()]) == 49  # 2..50
    png = Path(out["report"]["png"])  # matplotlib is a dependency (the `eval` extra): the curve must exist
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5_000
    assert f"![PR curve]({png.name})" in md


def test_similarity_uses_a_temporary_store(dataset, tmp_path, monkeypatch):
    """The configured database is never touched; records without authors count as their own author."""
    from detector.settings import get_settings

    monkeypatch.setenv("DETECTOR_DATABASE_URL", f"sqlite:///{tmp_path / 'user.db'}")
    get_settings.cache_clear()
    anonymous = tmp_path / "anon.jsonl"
    anonymous.write_text("".join(json.dumps({k: v for k, v in json.loads(line).items() if k != "author_id"},
                                            ensure_ascii=False) + "\n"
                                 for line in dataset.read_text(encoding="utf-8").splitlines()), encoding="utf-8")
    out = json.loads(cli("--path", "similarity", "--dataset", anonymous, "--json", "--embedder", "hashing").stdout)
    assert not (tmp_path / "user.db").exists()
    assert not AUTHOR_KEYS & set(out)
    assert out["recall"] > 0.8 and out["precision"] > 0.8


def test_baseline_and_usage_errors(dataset, tmp_path):
    out = json.loads(cli("--path", "baseline", "--dataset", dataset, "--json", "--embedder", "hashing",
                         "--n", "20", "--report", tmp_path).stdout)
    assert KEYS <= set(out) and out["train"]["normal"] == 20
    assert out["n"] == 139 - out["train"]["seller"] - 20  # campaign copies are deduplicated out of the draw
    assert out["recall"] > 0.8 and out["precision"] > 0.8
    assert "| probability threshold |" in (tmp_path / "baseline_report.md").read_text(encoding="utf-8")
    text = cli("--path", "minhash", "--dataset", dataset).stdout
    assert text.startswith("minhash on ") and "authors:" in text
    assert "unknown path" in cli("--path", "nope", "--dataset", dataset, code=2).output
    assert "cannot read" in cli("--path", "minhash", "--dataset", tmp_path / "missing.jsonl", code=2).output
    assert "--base-rate" in cli("--path", "minhash", "--dataset", dataset, "--base-rate", "1", code=2).output


def test_llm_needs_an_endpoint(dataset):
    assert "DETECTOR_LLM_BASE_URL" in cli("--path", "llm", "--dataset", dataset, code=2).output


def test_llm_against_the_fake_server(tmp_path):
    pytest.importorskip("openai")
    from detector.llm.fake import FakeLLMServer
    from tests.llm.conftest import synthetic

    path = tmp_path / "llm.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in synthetic(30, 30, seed=5)))
    with FakeLLMServer() as server:
        out = json.loads(cli("--path", "llm", "--dataset", path, "--json", "--n", "10",
                             "--base-url", server.base_url).stdout)
    assert KEYS <= set(out) and out["path"] == "llm" and out["n"] == 40
    assert out["recall"] > 0.8 and out["precision"] > 0.8
