"""``detector prompts``: generate, evaluate, activate and inspect the LLM path's prompt versions.

Thin adapters over ``detector.llm``. The endpoint is ``DETECTOR_LLM_BASE_URL``/``DETECTOR_LLM_API_KEY``
(``--base-url`` overrides the URL), so the same commands run against OpenAI, any OpenAI-compatible
server, or the offline fake (``detector prompts serve-fake``). Exit codes: 0 success, 1 refused (a
worse version, a concurrent activation that committed first, the daily budget), 2 bad usage or input,
3 the endpoint failed.
"""

from __future__ import annotations

import getpass
import json
import time
from datetime import datetime, timezone
from pathlib import Path

import typer

from detector.cli.runtime import ensure_schema
from detector.db.session import session_scope
from detector.extras import MissingExtra
from detector.llm.client import BudgetExceeded, LLMDisabled, LLMError, make_client
from detector.llm.evaluate import (LABELS, dataset_key, evaluate, held_out, llm_classify_fn, read_labelled,
                                   split_by_label)
from detector.llm.profiles import (DEFAULT_PROMPTS_DIR, ActivationRefused, ProfileFailed, diff_versions,
                                   example_ids, export_version, from_decisions, generate_profile, get_version,
                                   list_versions, load_assets, template_of)
from detector.llm.profiles import activate as do_activate
from detector.llm.prompts import sample_examples
from detector.settings import get_settings

app = typer.Typer(no_args_is_help=True, add_completion=False,
                  help="Generate, evaluate, activate and inspect the LLM path's prompt versions.")

BASE_URL = typer.Option(None, "--base-url", help="OpenAI-compatible endpoint; default DETECTOR_LLM_BASE_URL.")
PROFILE_MODEL = typer.Option(None, "--profile-model", help="Strong model of stage 1 (default gpt-4.1).")
CLASSIFY_MODEL = typer.Option(None, "--classify-model", help="Cheaper model of stage 2 (default gpt-4.1-mini).")
RETRIES = typer.Option(None, "--max-retries", min=0, help="Retries on 429/5xx/timeouts (default 3).")
AS_JSON = typer.Option(False, "--json", help="Print one JSON object.")


def _fail(message: str, code: int) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(code)


def _name(path: Path) -> str:
    return f"{path.parent.name}/{path.name}"


def _exit_code(err: LLMError) -> int:
    return 1 if isinstance(err, BudgetExceeded) else 2 if isinstance(err, LLMDisabled) else 3


def _client(base_url=None, profile_model=None, classify_model=None, max_retries=None):
    try:
        return make_client(get_settings(), base_url=base_url, profile_model=profile_model,
                           classify_model=classify_model, max_retries=max_retries)
    except (LLMDisabled, MissingExtra) as err:
        raise _fail(str(err), 2) from err


def _labelled(path: Path, labelled: bool = True) -> list[dict]:
    """Labelled JSONL records (or, with ``labelled=False``, every line with a text)."""
    try:
        return read_labelled(path, labels=LABELS if labelled else None)
    except (OSError, ValueError) as err:
        raise _fail(f"cannot read {path}: {err}", 2) from err


@app.command()
def generate(
    content_type: str = typer.Option(..., "--content-type", "-t", help="Content type the profile is for."),
    seller: Path = typer.Option(None, "--seller", help="JSONL of seller posts."),
    normal: Path = typer.Option(None, "--normal", help="JSONL of normal posts."),
    decisions: bool = typer.Option(False, "--from-decisions", help="Examples from moderators' decisions."),
    dataset: Path = typer.Option(None, "--dataset", help="Labelled JSONL (label seller|normal), split by label."),
    n: int = typer.Option(100, "--n", min=1, help="Examples per group."),
    seed: int = typer.Option(0, "--seed"),
    model: str = typer.Option(None, "--model", help="Alias of --profile-model."),
    profile_model: str = PROFILE_MODEL, classify_model: str = CLASSIFY_MODEL, base_url: str = BASE_URL,
    max_retries: int = RETRIES,
    prompts_dir: Path = typer.Option(DEFAULT_PROMPTS_DIR, "--prompts-dir", help="Meta-prompts and templates."),
    export_dir: Path = typer.Option(None, "--export-dir", help="Default: <prompts-dir>/<content-type>/generated."),
    as_json: bool = AS_JSON,
) -> None:
    """Stage 1: sample diverse examples, ask the strong model for a profile, store a new version."""
    if sum([bool(seller or normal), decisions, dataset is not None]) != 1 or bool(seller) != bool(normal):
        raise _fail("give exactly one source: --seller FILE --normal FILE, --from-decisions, or --dataset FILE", 2)
    try:
        assets = load_assets(content_type, prompts_dir)
    except (OSError, ValueError) as err:
        raise _fail(str(err), 2) from err
    if dataset is not None:
        seller_records, normal_records = split_by_label(_labelled(dataset))
    elif seller:
        seller_records, normal_records = _labelled(seller, False), _labelled(normal, False)
    client = _client(base_url, model or profile_model, classify_model, max_retries)
    ensure_schema(get_settings())
    failure = None
    with session_scope() as session:
        if decisions:
            seller_records, normal_records = from_decisions(session, content_type, n, seed=seed)
        try:
            version = generate_profile(
                session, client, content_type=content_type, seller_records=seller_records,
                normal_records=normal_records, n=n, seed=seed, meta_prompt=assets.meta_prompt,
                template=assets.template, source=assets.source,
                export_dir=export_dir or Path(prompts_dir) / content_type / "generated")
            out = {"id": version.id, "version": version.version, "content_type": content_type,
                   "sha256": version.sha256, "examples": {k: len(v) for k, v in version.provenance["examples"].items()},
                   "profile_model": version.provenance["profile_model"]}
        except ValueError as err:
            raise _fail(str(err), 2) from err
        except (LLMError, ProfileFailed) as err:  # commit the LLMCall that says what happened
            failure = err
    if failure is not None:
        raise _fail(f"profile generation failed: {failure}", _exit_code(failure))
    typer.echo(json.dumps(out, ensure_ascii=False) if as_json else
               f"created {content_type}/{out['version']} (id {out['id']}) from {out['examples']['seller']} seller "
               f"and {out['examples']['normal']} normal examples; evaluate it with "
               f"`detector prompts eval --version {out['version']} --dataset FILE`")


@app.command("eval")
def eval_(
    version: str = typer.Option(..., "--version", help="Version name (or id)."),
    dataset: Path = typer.Option(..., "--dataset", help="Labelled JSONL (label seller|normal)."),
    limit: int = typer.Option(None, "--limit", min=1, help="Evaluate on a seeded random sample of N posts."),
    seed: int = typer.Option(0, "--seed"),
    content_type: str = typer.Option(None, "--content-type", "-t"),
    classify_model: str = CLASSIFY_MODEL, base_url: str = BASE_URL, max_retries: int = RETRIES,
    export_dir: Path = typer.Option(None, "--export-dir", help="Refresh <version>.md here if it exists."),
    as_json: bool = AS_JSON,
) -> None:
    """Precision and recall of a version on labelled posts that were not among its examples."""
    client = _client(base_url, None, classify_model, max_retries)
    ensure_schema(get_settings())
    with session_scope() as session:
        row = _version(session, version, content_type)
        version_id, profile, template, excluded = row.id, row.text, template_of(row), example_ids(row)
    test = held_out(_labelled(dataset), excluded, limit=limit, seed=seed)

    def check_budget():
        with session_scope() as session:
            client.ensure_budget(session)

    def log_calls(results):
        with session_scope() as session:
            session.add_all(r.as_row(stage="eval", prompt_version_id=version_id) for r in results)

    classify_texts = llm_classify_fn(client, template, profile, before_chunk=check_budget, after_chunk=log_calls)
    started = time.monotonic()
    try:
        result = evaluate(classify_texts, test)
    except LLMError as err:
        raise _fail(f"evaluation stopped: {err}", _exit_code(err)) from err
    key = f"{dataset_key(dataset, limit=limit, seed=seed)}|{client.classify_model}"
    result.update(dataset=_name(dataset), model=client.classify_model, seconds=round(time.monotonic() - started, 1),
                  evaluated_at=datetime.now(timezone.utc).isoformat())
    with session_scope() as session:
        row = _version(session, str(version_id))
        row.eval_scores = {**(row.eval_scores or {}), key: result}
        folder = export_dir or DEFAULT_PROMPTS_DIR / row.content_type / "generated"
        if (Path(folder) / f"{row.version}.md").exists():
            export_version(row, folder)
    typer.echo(json.dumps({"version": row.version, **result}) if as_json else
               f"{row.version} on {_name(dataset)} ({result['n']} posts: {result['seller']} seller, "
               f"{result['normal']} normal; {result['unclassified']} unclassified): precision {result['precision']:.3f}"
               f", recall {result['recall']:.3f}, F1 {result['f1']:.3f} (tp {result['tp']}, fp {result['fp']}, "
               f"fn {result['fn']}, tn {result['tn']})")


def _user() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (OSError, KeyError):  # no login name in some containers
        return "cli"


def _version(session, ref: str, content_type: str | None = None):
    try:
        return get_version(session, ref, content_type)
    except LookupError as err:
        raise _fail(str(err), 2) from err


@app.command()
def activate(
    version: str = typer.Argument(..., help="Version name (or id)."),
    force: bool = typer.Option(False, "--force", help="Activate even if it scores worse than the active one."),
    content_type: str = typer.Option(None, "--content-type", "-t"),
    min_delta: float = typer.Option(0.0, "--min-delta", help="F1 gain required over the active version."),
    actor: str = typer.Option(None, "--actor", help="Who activates (audit log); default cli:<user>."),
) -> None:
    """Make a version the active one of its content type (gated on evaluation scores)."""
    ensure_schema(get_settings())
    with session_scope() as session:
        row = _version(session, version, content_type)
        try:
            row = do_activate(session, row.id, actor=actor or _user(), force=force,
                              min_delta=min_delta)
        except ActivationRefused as err:  # incl. ActivationConflict: a concurrent activation won; rolled back
            raise _fail(str(err), 1) from err
        typer.echo(f"{row.content_type}/{row.version} is active")


@app.command("list")
def list_(content_type: str = typer.Option(None, "--content-type", "-t"), as_json: bool = AS_JSON) -> None:
    """Prompt versions, oldest first, with their latest evaluation."""
    ensure_schema(get_settings())
    with session_scope() as session:
        rows = [{"id": r.id, "content_type": r.content_type, "version": r.version, "active": r.is_active,
                 "created_at": r.created_at.isoformat(), "profile_model": r.provenance.get("profile_model"),
                 "eval": max((r.eval_scores or {}).values(), key=lambda s: s.get("evaluated_at", ""), default=None)}
                for r in list_versions(session, content_type)]
    for r in rows:
        scores = r["eval"]
        typer.echo(json.dumps(r) if as_json else
                   f"{'*' if r['active'] else ' '} {r['content_type']}/{r['version']}  id {r['id']}  "
                   f"{r['created_at'][:16]}  {r['profile_model']}  " +
                   (f"P {scores['precision']:.3f} R {scores['recall']:.3f} F1 {scores['f1']:.3f} on {scores['dataset']}"
                    if scores else "not evaluated"))


@app.command()
def show(version: str = typer.Argument(...), content_type: str = typer.Option(None, "--content-type", "-t"),
         as_json: bool = AS_JSON) -> None:
    """A version's provenance, scores and profile."""
    ensure_schema(get_settings())
    with session_scope() as session:
        row = _version(session, version, content_type)
        data = {"id": row.id, "content_type": row.content_type, "version": row.version, "sha256": row.sha256,
                "active": row.is_active, "eval_scores": row.eval_scores, "provenance": row.provenance, "text": row.text}
    provenance = {k: v for k, v in data["provenance"].items() if k not in ("examples", "classify_template")}
    typer.echo(json.dumps(data, ensure_ascii=False) if as_json else
               f"{data['content_type']}/{data['version']} (id {data['id']}, {'active' if data['active'] else 'inactive'})\n"
               + json.dumps({**provenance, "eval_scores": data["eval_scores"]}, indent=2, ensure_ascii=False)
               + "\n\n" + data["text"])


@app.command()
def diff(a: str = typer.Argument(...), b: str = typer.Argument(...),
         content_type: str = typer.Option(None, "--content-type", "-t")) -> None:
    """Unified diff of two versions' profiles (and templates, when they differ)."""
    ensure_schema(get_settings())
    with session_scope() as session:
        typer.echo(diff_versions(_version(session, a, content_type), _version(session, b, content_type))
                   or "no difference")


@app.command()
def baseline(
    dataset: Path = typer.Option(..., "--dataset", help="Labelled JSONL (label seller|normal)."),
    n: int = typer.Option(100, "--n", min=1), seed: int = typer.Option(0, "--seed"),
    limit: int = typer.Option(None, "--limit", min=1, help="Test on a seeded random sample of N held-out posts."),
    embedder: str = typer.Option(None, "--embedder", help="Default: DETECTOR_EMBEDDER."),
    save: Path = typer.Option(None, "--save", help="Write the trained model here (JSON)."),
    as_json: bool = AS_JSON,
) -> None:
    """Train the embedding baseline on n + n examples drawn with the seed; test it on the rest."""
    from detector.embedding.models import make_embedder
    from detector.llm.baseline import train_baseline
    settings = get_settings()
    records = _labelled(dataset)
    sellers, normals = sample_examples(*split_by_label(records), n=n, seed=seed)
    if not sellers or not normals:
        raise _fail(f"{dataset} needs posts labelled seller and normal", 2)
    started = time.monotonic()
    model = train_baseline(make_embedder(embedder or settings.embedder, threads=settings.embedder_threads),
                           [r["text"] for r in sellers], [r["text"] for r in normals],
                           seller_ids=[r["id"] for r in sellers], normal_ids=[r["id"] for r in normals])
    test = held_out(records, {r["id"] for r in sellers + normals}, limit=limit, seed=seed)
    result = evaluate(lambda texts: list(model.probabilities(texts) >= model.threshold), test)
    out = {"dataset": _name(dataset), "embedder": model.embedder.name, "train": {"seller": len(sellers),
           "normal": len(normals)}, "seed": seed, "C": model.C, **result,
           "seconds": round(time.monotonic() - started, 1)}
    if save:
        save.write_text(json.dumps(model.to_json(), ensure_ascii=False), encoding="utf-8")
    typer.echo(json.dumps(out, ensure_ascii=False) if as_json else
               f"baseline ({out['embedder']}, {len(sellers)} + {len(normals)} examples, C={model.C:g}) on "
               f"{result['n']} held-out posts of {_name(dataset)}: precision {result['precision']:.3f}, recall "
               f"{result['recall']:.3f}, F1 {result['f1']:.3f} (tp {result['tp']}, fp {result['fp']}, fn "
               f"{result['fn']}, tn {result['tn']})")


@app.command("serve-fake")
def serve_fake(port: int = typer.Option(8089, "--port", help="0 picks a free port.")) -> None:
    """Serve the offline fake LLM on 127.0.0.1 (demo and tests): use its URL as --base-url."""
    from detector.llm.fake import FakeLLMServer

    with FakeLLMServer(port=port) as server:
        typer.echo(f"fake OpenAI-compatible endpoint at {server.base_url} (Ctrl-C stops)")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


from detector.cli.prompts_batch import register as _register_batch_commands  # after the helpers it uses

_register_batch_commands(app)
