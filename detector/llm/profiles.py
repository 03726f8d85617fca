"""Stage 1 and the life of a prompt version: generate, find, compare, activate (gated), export.

A version is immutable: its ``text`` is the generated profile and its provenance freezes everything
needed to explain or rebuild it (the classification template itself, the meta-prompt's hash, the models,
the sampled example ids with their text hashes, the seed, the date). Only ``eval_scores`` and the
active flag change later. One version is active per content type; a content type without one uses the
active version of ``default``. Activation is gated on evaluation: a version that scores a lower F1 than
the active one on a dataset both were evaluated on is refused unless forced, and every activation is
written to the audit log.
"""

from __future__ import annotations

import difflib
import json
import random
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Sequence

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from detector.audit.models import AuditLog
from detector.llm.client import LLMClient, LLMError
from detector.llm.models import PromptVersion
from detector.llm.prompts import (Record, build_profile_request, prompt_sha, sample_examples, split_template,
                                  version_name, version_sha)

DEFAULT_PROMPTS_DIR = Path(__file__).resolve().parents[2] / "prompts"
FALLBACK_CONTENT_TYPE = "default"


class ProfileFailed(LLMError):
    """The strong model refused or gave no usable profile; nothing was written but the LLMCall."""


class ActivationRefused(Exception):
    """The version scores worse than the active one (or cannot be compared); ``force`` overrides."""


class ActivationConflict(ActivationRefused):
    """Another activation of the same content type committed while this one ran: nothing changed here.

    The partial unique index ``uq_prompt_versions_one_active`` refused the second active row; the
    caller's transaction is rolled back. Re-running shows the new state (and applies the gate again).
    A subclass of ``ActivationRefused`` so every caller that reports a refusal reports this too.
    """


@dataclass(frozen=True)
class PromptAssets:
    meta_prompt: str
    template: str
    source: str  # the directory each came from, for provenance


def load_assets(content_type: str, prompts_dir: Path = DEFAULT_PROMPTS_DIR) -> PromptAssets:
    """``prompts/<type>/{meta_prompt,classify}.md``, each falling back to ``prompts/default/``."""
    found = {}
    for name in ("meta_prompt.md", "classify.md"):
        for folder in (content_type, FALLBACK_CONTENT_TYPE):
            path = Path(prompts_dir) / folder / name
            if path.is_file():
                found[name] = (path.read_text(encoding="utf-8"), folder)
                break
        else:
            raise FileNotFoundError(f"no {name} for {content_type!r} or {FALLBACK_CONTENT_TYPE!r} in {prompts_dir}")
    return PromptAssets(found["meta_prompt.md"][0], found["classify.md"][0],
                        f"{found['meta_prompt.md'][1]}/meta_prompt.md + {found['classify.md'][1]}/classify.md")


def generate_profile(session: Session, client: LLMClient, *, content_type: str, seller_records: Sequence[Record],
                     normal_records: Sequence[Record], n: int = 100, seed: int = 0, meta_prompt: str | None = None,
                     template: str | None = None, prompts_dir: Path = DEFAULT_PROMPTS_DIR,
                     export_dir: Path | None = None, source: str | None = None,
                     now: datetime | None = None) -> PromptVersion:
    """Sample diverse examples, ask the strong model for a profile, store it as a new version."""
    now = now or datetime.now(timezone.utc)
    if meta_prompt is None or template is None:
        assets = load_assets(content_type, prompts_dir)
        meta_prompt, template = meta_prompt or assets.meta_prompt, template or assets.template
    split_template(template)  # fail on a broken template before paying for a profile
    seller, normal = sample_examples(seller_records, normal_records, n=n, seed=seed)
    if not seller or not normal:
        raise ValueError(f"need seller and normal examples (got {len(seller)} and {len(normal)} usable)")
    messages = build_profile_request(meta_prompt, seller, normal)
    client.ensure_budget(session, now=now)
    result = client.generate(messages)
    session.add(result.as_row(stage="profile"))
    session.flush()
    if result.status != "ok":
        raise ProfileFailed(f"{result.model} gave no profile ({result.status}: {result.error})")
    profile = result.value.strip()
    sha = version_sha(template, profile)
    name = version_name(now, sha)
    existing = session.scalar(select(PromptVersion).where(PromptVersion.content_type == content_type,
                                                          PromptVersion.version == name))
    if existing is not None:  # the same template and profile on the same day: the same version
        return existing
    provenance = {
        "created_at": now.isoformat(), "profile_model": result.model, "classify_model": client.classify_model,
        "meta_prompt_sha256": prompt_sha(meta_prompt), "classify_template_sha256": prompt_sha(template),
        "classify_template": template, "profile_sha256": prompt_sha(profile), "assets": source or "inline",
        "request_sha256": prompt_sha(json.dumps(messages, ensure_ascii=False, sort_keys=True)),
        "usage": {"prompt_tokens": result.prompt_tokens, "completion_tokens": result.completion_tokens,
                  "cost_usd": round(result.cost_usd, 6), "attempts": result.attempts},
        "sampling": {"n": n, "seed": seed, "dedupe": True, "seller_pool": len(seller_records),
                     "normal_pool": len(normal_records)},
        "examples": {"seller": [_example(r) for r in seller], "normal": [_example(r) for r in normal]},
    }
    version = PromptVersion(content_type=content_type, version=name, text=profile, sha256=sha,
                            provenance=provenance, eval_scores={}, is_active=False)
    session.add(version)
    session.flush()
    if export_dir is not None:
        export_version(version, export_dir)
    return version


def _example(record: Record) -> dict:
    return {"id": str(record.get("id")), "sha256": prompt_sha(str(record.get("text") or ""))}


def example_ids(version: PromptVersion) -> set[str]:
    """The ids the profile was built from: evaluation must exclude them."""
    examples = (version.provenance or {}).get("examples", {})
    return {e["id"] for group in ("seller", "normal") for e in examples.get(group, [])}


def template_of(version: PromptVersion) -> str:
    return version.provenance["classify_template"]


def export_version(version: PromptVersion, export_dir: Path) -> Path:
    """``<export_dir>/<version>.md``: JSON front-matter (valid YAML) of provenance and scores, then the profile.

    The body never changes; the file is rewritten when evaluation adds scores to the front-matter.
    """
    front = {"version": version.version, "content_type": version.content_type, "sha256": version.sha256,
             "provenance": {k: v for k, v in version.provenance.items() if k != "classify_template"},
             "eval_scores": version.eval_scores or {}}
    path = Path(export_dir) / f"{version.version}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("---\n" + json.dumps(front, indent=2, ensure_ascii=False) + "\n---\n\n" + version.text + "\n",
                    encoding="utf-8")
    return path


def from_decisions(session: Session, content_type: str, n: int = 100, *,
                   seed: int = 0) -> tuple[list[dict], list[dict]]:
    """Seller records from posts moderators confirmed (directly, or via a cluster, alert, detection or
    author), normal records from posts judged benign plus undecided processed posts no path flagged."""
    from detector.posts.models import Post
    from detector.review.models import Detection, ModeratorDecision

    rows = session.scalars(select(ModeratorDecision).order_by(ModeratorDecision.id)).all()
    reverted = {r.reverts_id for r in rows if r.decision == "revert"}
    in_force = {(r.subject_type, r.subject_id): r.decision for r in rows
                if r.decision != "revert" and r.id not in reverted}
    confirmed, benign = set(), set()
    for (subject_type, subject_id), decision in in_force.items():
        target = confirmed if decision == "confirm_abuse" else benign if decision == "benign" else None
        if target is not None:
            target.update(_posts_of(session, subject_type, subject_id))
    confirmed, benign = confirmed - benign, benign - confirmed  # conflicting judgements teach nothing
    flagged = select(Detection.post_id).where(Detection.is_positive.is_(True), Detection.post_id.is_not(None))
    undecided = session.scalars(
        select(Post.id).where(Post.content_type == content_type, Post.status == "processed",
                              Post.id.not_in(flagged)).order_by(Post.id.desc()).limit(max(20 * n, 2000))).all()
    undecided = [i for i in undecided if i not in confirmed and i not in benign]
    random.Random(seed).shuffle(undecided)
    normal_ids = sorted(benign) + undecided[: max(0, 4 * n - len(benign))]

    def records(ids) -> list[dict]:
        posts = session.scalars(select(Post).where(Post.id.in_(list(ids)), Post.content_type == content_type)).all()
        return [{"id": f"post-{p.id}", "text": f"{p.title}\n{p.text}" if p.title else p.text}
                for p in sorted(posts, key=lambda p: p.id)]

    return records(confirmed), records(normal_ids)


def _posts_of(session: Session, subject_type: str, subject_id: int) -> set[int]:
    from detector.alerts.models import Alert
    from detector.posts.models import Post
    from detector.review.models import Detection
    from detector.similarity.models import ClusterMember

    def members(cluster_id):
        return set(session.scalars(select(ClusterMember.post_id).where(ClusterMember.cluster_id == cluster_id)))

    if subject_type == "post":
        return {subject_id}
    if subject_type == "cluster":
        return members(subject_id)
    if subject_type == "author":
        return set(session.scalars(select(Post.id).where(Post.author_id == subject_id)))
    row = session.get(Alert if subject_type == "alert" else Detection, subject_id)
    if row is None:
        return set()
    return {row.post_id} if row.post_id else members(row.cluster_id) if row.cluster_id else set()


def active_version(session: Session, content_type: str, *, fallback: bool = True) -> PromptVersion | None:
    for name in (content_type, FALLBACK_CONTENT_TYPE) if fallback else (content_type,):
        row = session.scalar(select(PromptVersion).where(PromptVersion.content_type == name,
                                                         PromptVersion.is_active.is_(True)))
        if row is not None:
            return row
    return None


def get_version(session: Session, ref: str | int, content_type: str | None = None) -> PromptVersion:
    """By id or by version name (``2026-01-31_1a2b3c4d``, or a unique prefix of one)."""
    if isinstance(ref, int) or str(ref).isdigit():
        row = session.get(PromptVersion, int(ref))
        if row is not None:
            return row
    query = select(PromptVersion).where(PromptVersion.version.startswith(str(ref)))
    if content_type:
        query = query.where(PromptVersion.content_type == content_type)
    rows = session.scalars(query).all()
    if len(rows) != 1:
        raise LookupError(f"no prompt version {ref!r}" if not rows else
                          f"{ref!r} is ambiguous: {', '.join(f'{r.content_type}/{r.version}' for r in rows)}")
    return rows[0]


def list_versions(session: Session, content_type: str | None = None) -> list[PromptVersion]:
    query = select(PromptVersion).order_by(PromptVersion.content_type, PromptVersion.created_at, PromptVersion.id)
    if content_type:
        query = query.where(PromptVersion.content_type == content_type)
    return list(session.scalars(query))


def diff_versions(a: PromptVersion, b: PromptVersion) -> str:
    """Unified diff of the profiles, and of the classification templates when they differ."""
    parts = difflib.unified_diff(a.text.splitlines(), b.text.splitlines(), f"{a.version}/profile",
                                 f"{b.version}/profile", lineterm="")
    out = list(parts)
    if template_of(a) != template_of(b):
        out += difflib.unified_diff(template_of(a).splitlines(), template_of(b).splitlines(),
                                    f"{a.version}/classify.md", f"{b.version}/classify.md", lineterm="")
    return "\n".join(out)


def compare_scores(candidate: dict, active: dict, *, min_delta: float = 0.0) -> tuple[bool, str]:
    """Candidate F1 vs active F1 on the most recent dataset both were evaluated on."""
    if not candidate:
        return False, "the version has not been evaluated: run `detector prompts eval` first"
    if not active:
        return True, "the active version has no evaluation to compare with"
    common = sorted(set(candidate) & set(active), key=lambda k: candidate[k].get("evaluated_at", ""))
    if not common:
        return False, ("no dataset both versions were evaluated on; evaluate both on the same dataset "
                       f"(candidate: {sorted(candidate)}, active: {sorted(active)})")
    key = common[-1]
    new, old = candidate[key], active[key]
    message = (f"F1 {new['f1']:.3f} (P {new['precision']:.3f}, R {new['recall']:.3f}) vs active F1 {old['f1']:.3f} "
               f"(P {old['precision']:.3f}, R {old['recall']:.3f}) on {new.get('dataset', key)}")
    return new["f1"] >= old["f1"] + min_delta, message


def activate(session: Session, version_id: int, *, actor: str, force: bool = False,
             min_delta: float = 0.0) -> PromptVersion:
    """Make the version the active one of its content type, if it scores at least as well (or ``force``)."""
    candidate = session.get(PromptVersion, version_id)
    if candidate is None:
        raise LookupError(f"no prompt version {version_id}")
    current = active_version(session, candidate.content_type, fallback=False)
    if current is not None and current.id == candidate.id:
        return candidate
    ok, message = compare_scores(candidate.eval_scores or {}, current.eval_scores or {} if current else {},
                                 min_delta=min_delta) if current is not None else (True, "no active version")
    if not ok and not force:
        raise ActivationRefused(f"{candidate.version} not activated: {message} (use --force to override)")
    now = datetime.now(timezone.utc)
    name, content_type = candidate.version, candidate.content_type  # unreadable after a failed flush
    try:
        for row in session.scalars(select(PromptVersion).where(PromptVersion.content_type == candidate.content_type,
                                                               PromptVersion.is_active.is_(True))):
            row.is_active = False
        session.flush()
        candidate.is_active, candidate.activated_at = True, now
        session.flush()
    except IntegrityError as err:  # the loser of two concurrent activations; the caller rolls back
        raise ActivationConflict(f"{name} not activated: another activation of {content_type!r} committed "
                                 "first; re-run to see the new active version") from err
    session.add(AuditLog(actor=actor, action="prompt.activate", subject_type="prompt_version", subject_id=candidate.id,
                         details={"content_type": candidate.content_type, "version": candidate.version,
                                  "previous": current.version if current else None, "forced": force and not ok,
                                  "comparison": message}))
    session.flush()
    return candidate

