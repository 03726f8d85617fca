"""The LLM path wired into the task pipeline (embedded default, fake OpenAI-compatible endpoint)."""

from sqlalchemy import select

from detector.db.session import session_scope
from detector.llm.client import make_client
from detector.llm.fake import FakeLLMServer
from detector.llm.profiles import activate, generate_profile
from detector.review.models import Detection

SELLERS = [{"id": f"s{i}", "text": f"전문 판매 업체입니다 대량 재고 {i}종 도매가 문의 환영 카톡 주세요 {i}"} for i in range(12)]
NORMALS = [{"id": f"n{i}", "text": f"이사 가서 쓰던 물건 {i}개 정리해요 직거래만 가능해요 {i}"} for i in range(12)]


def test_processed_posts_are_classified_and_the_backfill_catches_up(use_settings, sqlite_url):
    with FakeLLMServer() as server:
        use_settings(database_url=sqlite_url)
        from workers import tasks

        tasks.ingest_post.delay({"id": "early", "text": "재고 정리 도매 업체 대량 판매합니다"})  # no endpoint yet
        settings = use_settings(database_url=sqlite_url, llm_base_url=server.base_url, llm_api_key="sk-test")
        tasks._llm_client = None
        with session_scope(sqlite_url) as s:
            version = generate_profile(s, make_client(settings), content_type="listing", seller_records=SELLERS,
                                       normal_records=NORMALS, n=10, seed=0)
            activate(s, version.id, actor="test", force=True)
        tasks.ingest_post.delay({"id": "late", "text": "중고 자전거 팝니다 직거래"})
        with session_scope(sqlite_url) as s:
            assert len(s.scalars(select(Detection).where(Detection.path == "llm")).all()) == 1  # only "late"
        assert tasks.backfill_llm.delay().get() == 1  # "early" waited, nothing lost
        with session_scope(sqlite_url) as s:
            rows = s.scalars(select(Detection).where(Detection.path == "llm")).all()
            assert len(rows) == 2 and all(r.prompt_version_id == version.id and r.reason for r in rows)
        tasks._llm_client = None


def test_batch_mode_backfill_and_poll_tasks(use_settings, sqlite_url):
    """Backfill in batch mode submits through the Batch API; the poll task ingests; a re-poll adds nothing."""
    from detector.llm.models import LLMBatch, LLMCall

    with FakeLLMServer() as server:
        use_settings(database_url=sqlite_url)
        from workers import tasks

        for i in range(3):  # processed while no endpoint was configured: they wait for the backfill
            tasks.ingest_post.delay({"id": f"wait-{i}", "text": f"도매 업체 대량 판매 {i}번 문의 010-1234-567{i}"})
        settings = use_settings(database_url=sqlite_url, llm_base_url=server.base_url, llm_api_key="sk-test",
                                llm_backfill_mode="batch", llm_batch_min_posts=2, llm_batch_discount=0.25)
        tasks._llm_client = None
        with session_scope(sqlite_url) as s:
            version = generate_profile(s, make_client(settings), content_type="listing", seller_records=SELLERS,
                                       normal_records=NORMALS, n=10, seed=0)
            activate(s, version.id, actor="test", force=True)
        server.fake.requests.clear()
        assert tasks.backfill_llm.delay().get() == 3 and server.fake.batches.created == 1
        assert server.fake.requests == []  # nothing was asked online
        (result,) = tasks.poll_llm_batches.delay().get()
        assert result["status"] == "ingested" and result["counts"]["detections"] == 3
        assert tasks.poll_llm_batches.delay().get() == [] and tasks.backfill_llm.delay().get() == 0
        with session_scope(sqlite_url) as s:
            rows = s.scalars(select(Detection).where(Detection.path == "llm")).all()
            assert len(rows) == 3 and all(r.is_positive and r.reason for r in rows)
            calls = s.scalars(select(LLMCall).where(LLMCall.stage == "batch")).all()
            assert len(calls) == 3 and s.scalar(select(LLMBatch.status)) == "ingested"
            client = make_client(settings)
            assert all(c.cost_usd == client.cost(c.model, c.prompt_tokens, c.completion_tokens) * 0.25 for c in calls)
        tasks._llm_client = None
