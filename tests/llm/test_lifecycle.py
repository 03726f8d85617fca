"""Generate -> provenance -> evaluate -> gated activation -> classification with the active version."""

import json

import pytest
from sqlalchemy import select

from detector.audit.models import AuditLog
from detector.db.session import session_scope
from detector.llm.classify import AutoAction, backfill, classify_posts, classify_safely, unclassified_post_ids
from detector.llm.client import BudgetExceeded, LLMUnavailable
from detector.llm.evaluate import evaluate, held_out, llm_classify_fn
from detector.llm.models import LLMCall, PromptVersion
from detector.llm.profiles import (ActivationRefused, activate, active_version, diff_versions, example_ids,
                                   generate_profile, list_versions, load_assets, template_of)
from detector.llm.prompts import prompt_sha
from detector.review.models import Detection
from tests.llm.conftest import add_posts, synthetic

RECORDS = synthetic(60, 60, seed=1)
SELLER = [r for r in RECORDS if r["label"] == "seller"]
NORMAL = [r for r in RECORDS if r["label"] == "normal"]


def make_version(session, client, *, swapped=False, **kwargs) -> PromptVersion:
    seller, normal = (NORMAL, SELLER) if swapped else (SELLER, NORMAL)
    return generate_profile(session, client, content_type="listing", seller_records=seller, normal_records=normal,
                            n=20, seed=1, **kwargs)


def evaluate_version(version, client) -> dict:
    classify = llm_classify_fn(client, template_of(version), version.text)
    scores = evaluate(classify, RECORDS, exclude_ids=example_ids(version))
    version.eval_scores = {**version.eval_scores, "synthetic|gpt-4.1-mini": {**scores, "dataset": "synthetic"}}
    return scores


def test_generate_writes_an_immutable_version_with_provenance(sqlite_url, client, fake, tmp_path):
    with session_scope(sqlite_url) as session:
        version = make_version(session, client, export_dir=tmp_path)
        again = make_version(session, client)
        assert again.id == version.id  # same template and profile the same day: the same version
        p = version.provenance
        assert version.version.endswith(version.sha256[:8]) and not version.is_active
        assert p["profile_model"] == "gpt-4.1" and p["classify_model"] == "gpt-4.1-mini"
        assert p["meta_prompt_sha256"] == prompt_sha(load_assets("listing").meta_prompt)
        assert fake.requests[0]["messages"][0]["content"] == load_assets("listing").meta_prompt.strip()
        assert p["classify_template"].startswith("<!-- system -->") and p["usage"]["cost_usd"] > 0
        assert len(p["examples"]["seller"]) == 20 and len(p["examples"]["normal"]) == 20
        by_id = {r["id"]: r["text"] for r in RECORDS}
        assert all(e["sha256"] == prompt_sha(by_id[e["id"]]) for e in p["examples"]["seller"])
        assert example_ids(version) <= set(by_id)
        calls = session.scalars(select(LLMCall)).all()
        assert [c.stage for c in calls] == ["profile", "profile"] and all(c.status == "ok" for c in calls)
    exported = (tmp_path / f"{version.version}.md").read_text()
    front, body = exported.split("\n---\n", 1)
    meta = json.loads(front.removeprefix("---\n"))
    assert meta["version"] == version.version and "classify_template" not in meta["provenance"]
    assert body.strip() == version.text and "FAKE_SIGNALS" in body


def test_a_refused_profile_writes_no_version(sqlite_url, make_client, fake):
    from detector.llm.profiles import ProfileFailed

    fake.fail_next("refusal", "refusal")
    with session_scope(sqlite_url) as session:
        with pytest.raises(ProfileFailed, match="refused"):
            make_version(session, make_client())
        assert session.scalars(select(PromptVersion)).all() == []
        assert session.scalar(select(LLMCall.status)) == "refused"


def test_activation_is_gated_on_evaluation_and_audited(db_url, client):
    with session_scope(db_url) as session:
        good = make_version(session, client)
        good_scores = evaluate_version(good, client)
        assert good_scores["recall"] > 0.9 and good_scores["precision"] > 0.9
        assert good_scores["n"] == 80 and good_scores["seller"] == 40  # the 40 examples are held out
        activate(session, good.id, actor="tester")
        bad = make_version(session, client, swapped=True)
        with pytest.raises(ActivationRefused, match="not been evaluated"):
            activate(session, bad.id, actor="tester")
        bad_scores = evaluate_version(bad, client)
        assert bad_scores["f1"] < good_scores["f1"]
        with pytest.raises(ActivationRefused, match="F1"):
            activate(session, bad.id, actor="tester")
        assert active_version(session, "listing").id == good.id
        activate(session, bad.id, actor="tester", force=True)
        assert [v.id for v in list_versions(session, "listing") if v.is_active] == [bad.id]
        audit = session.scalars(select(AuditLog).where(AuditLog.action == "prompt.activate")
                                .order_by(AuditLog.id)).all()
        assert [(a.subject_id, a.details["forced"]) for a in audit] == [(good.id, False), (bad.id, True)]
        assert "FAKE_SIGNALS" in diff_versions(good, bad)


def test_classify_stores_detections_with_the_version_and_uses_the_cache(db_url, client, fake):
    with session_scope(db_url) as session:
        version = make_version(session, client)
        activate(session, version.id, actor="tester")
        texts = ["정품 도매 대량 입고 카톡 상담 010-2222-3333", "아이가 커서 안 입는 옷 정리합니다",
                 "아이가 커서  안 입는 옷 정리합니다", "무료 이벤트 www.shop1.com"]
        ids = add_posts(session, texts)
        fake.requests.clear()
        detections = classify_posts(session, client, ids)
        assert len(fake.requests) == 3  # the two texts that normalize alike are asked once
        assert [d.post_id for d in detections] == ids
        assert [d.is_positive for d in detections] == [True, False, False, True]
        for d in detections:
            assert (d.path, d.mode, d.prompt_version_id, d.model) == ("llm", "active", version.id, "gpt-4.1-mini")
            assert d.dedupe_key == f"llm:{d.post_id}:{version.id}" and d.reason and 0 <= d.score <= 1
        assert classify_posts(session, client, ids)[0].id == detections[0].id and len(fake.requests) == 3
        repeat = add_posts(session, ["아이가 커서 안 입는 옷   정리합니다"], start=10)
        (cached,) = classify_posts(session, client, repeat)
        assert len(fake.requests) == 3 and not cached.is_positive  # a cache hit: no HTTP call
        calls = session.scalars(select(LLMCall).where(LLMCall.stage == "classify").order_by(LLMCall.id)).all()
        assert [c.cache_hit for c in calls] == [False, False, True, False, True]
        assert all(c.prompt_version_id == version.id for c in calls) and calls[-1].cost_usd == 0
        assert unclassified_post_ids(session, version) == []


def test_refusals_get_no_verdict_and_failures_leave_posts_waiting(sqlite_url, make_client, fake):
    client = make_client(parse_attempts=1, max_retries=0, concurrency=1)
    with session_scope(sqlite_url) as session:
        version = make_version(session, client)
        activate(session, version.id, actor="tester")
        ids = add_posts(session, ["책상 팝니다 직거래", "의자 팝니다 동네", "옷 정리합니다 상태 좋아요"])
        fake.fail_next("refusal", "500")
        outcome = classify_safely(session, client, ids)
        assert isinstance(outcome.error, LLMUnavailable) and outcome.detections == []
        statuses = session.scalars(select(LLMCall.status).where(LLMCall.stage == "classify")).all()
        assert statuses == ["refused", "error"]
        waiting = unclassified_post_ids(session, version)
        assert waiting == ids[1:]  # the refused post is not retried with this version; the others wait
        assert len(backfill(session, client).detections) == 2
        assert unclassified_post_ids(session, version) == []


def test_budget_exhaustion_stops_before_calling(sqlite_url, make_client, fake):
    with session_scope(sqlite_url) as session:
        version = make_version(session, make_client())
        activate(session, version.id, actor="tester")
        ids = add_posts(session, ["책상 팝니다"])
        fake.requests.clear()
        with pytest.raises(BudgetExceeded):
            classify_posts(session, make_client(daily_budget_usd=0.0001), ids)
        assert fake.requests == [] and session.scalars(select(Detection)).all() == []
        assert unclassified_post_ids(session, version) == ids


def test_posts_without_an_active_version_wait_and_default_applies(sqlite_url, client):
    with session_scope(sqlite_url) as session:
        ids = add_posts(session, ["FREE entry WIN cash call now 08001234567"], content_type="sms")
        assert classify_posts(session, client, ids) == []
        fallback = generate_profile(session, client, content_type="default", seller_records=SELLER,
                                    normal_records=NORMAL, n=10)
        activate(session, fallback.id, actor="tester")
        assert unclassified_post_ids(session, fallback) == ids
        (detection,) = classify_posts(session, client, ids)
        assert detection.content_type == "sms" and detection.prompt_version_id == fallback.id


def test_automatic_action_is_capped_per_day(sqlite_url, client):
    acted = []
    with session_scope(sqlite_url) as session:
        version = make_version(session, client)
        activate(session, version.id, actor="tester")
        ids = add_posts(session, [f"도매 특가 문의 010-1111-{i:04d} www.s{i}.com" for i in range(3)])
        auto = AutoAction(action=lambda s, d: acted.append(d.post_id), daily_cap=1, min_confidence=0.5)
        detections = classify_posts(session, client, ids, auto_action=auto)
        assert all(d.is_positive for d in detections) and acted == [ids[0]]
        assert len(session.scalars(select(AuditLog).where(AuditLog.action == "llm.auto_action")).all()) == 1


def test_held_out_excludes_examples():
    assert [r["id"] for r in held_out(RECORDS, {"s0", "n0"}, limit=5, seed=1)] == \
        [r["id"] for r in held_out(RECORDS, {"s0", "n0"}, limit=5, seed=1)]
    assert not {"s0", "n0"} & {r["id"] for r in held_out(RECORDS, {"s0", "n0"})}


def test_examples_from_moderators_decisions(sqlite_url):
    from detector.llm.profiles import from_decisions
    from detector.review.models import ModeratorDecision
    from detector.similarity.models import Cluster, ClusterMember

    with session_scope(sqlite_url) as session:
        campaign = add_posts(session, [f"도매 문의 {i}" for i in range(3)])
        direct, benign, reverted, flagged = add_posts(session, ["업자 글", "이웃 글", "번복된 글", "의심 글"], start=3)
        undecided = add_posts(session, [f"평범한 글 {i}" for i in range(4)], start=7)
        other_type = add_posts(session, ["다른 종류 업자 글"], content_type="sms", start=11)
        cluster = Cluster(content_type="listing", size=3, distinct_authors=3)
        session.add(cluster)
        session.flush()
        session.add_all(ClusterMember(cluster_id=cluster.id, post_id=i) for i in campaign)
        rows = [("cluster", cluster.id, "confirm_abuse"), ("post", direct, "confirm_abuse"),
                ("post", benign, "benign"), ("post", reverted, "confirm_abuse"), ("post", other_type[0], "confirm_abuse")]
        session.add_all(ModeratorDecision(subject_type=t, subject_id=i, decision=d, moderator="kim") for t, i, d in rows)
        session.flush()
        undo = session.scalar(select(ModeratorDecision).where(ModeratorDecision.subject_id == reverted,
                                                               ModeratorDecision.subject_type == "post"))
        session.add(ModeratorDecision(subject_type="post", subject_id=reverted, decision="revert", moderator="lee",
                                      reverts_id=undo.id))
        session.add(Detection(dedupe_key="x", content_type="listing", path="similarity", post_id=flagged,
                              is_positive=True, reason="near-duplicate"))
        session.flush()
        seller, normal = from_decisions(session, "listing", n=10)
        assert {r["id"] for r in seller} == {f"post-{i}" for i in campaign + [direct]}
        assert {r["id"] for r in normal} == {f"post-{i}" for i in [benign, reverted] + undecided}
        assert all(r["text"] for r in seller + normal)
