"""``detector.ingest_posts``: a list of posts per message, each judged exactly as ``ingest_post`` would.

Under the embedded default (the task runs in the sending process, on SQLite) and on a real worker
consuming Redis and writing PostgreSQL. A redelivered message (same task id) adds nothing: posts
are keyed by (content type, id), rejections by task id and position in the message.
"""

import pytest
from sqlalchemy import func, select

from detector.db.session import session_scope
from detector.jobs.models import DeadLetter
from detector.posts.ingest import MAX_TASK_BATCH
from detector.posts.models import Post, RejectedInput
from tests.workerproc import WorkerProcess, wait_for

GOOD = [{"id": "g1", "author_id": "u1", "text": "헤어져서 팝니다 ☆"},
        {"id": "g2", "text": "desk, must go", "price": 15000},
        {"id": 3, "content_type": "job", "text": "주말 알바 구합니다"}]
BAD = [{"id": "b1", "text": "   "}, "garbage", {"id": "b2", "text": 999}, {"text": "no id"},
       {"id": "b3", "text": "x", "content_type": "Not Valid"}]
BATCH = [GOOD[0], BAD[0], GOOD[1], BAD[1], GOOD[0], BAD[2], GOOD[2], BAD[3], BAD[4], BAD[4]]
FIRST = {"accepted": 3, "duplicates": 1, "rejected": 6}  # GOOD[0] twice; BAD[4] twice, both recorded
AGAIN = {"accepted": 0, "duplicates": 4, "rejected": 6}


def rejections(url, source: str) -> list[tuple]:
    with session_scope(url) as s:
        rows = s.execute(select(RejectedInput.line_no, RejectedInput.reason_code, RejectedInput.reason,
                                RejectedInput.external_id).where(RejectedInput.source == source)
                         .order_by(RejectedInput.line_no)).all()
    return [tuple(r) for r in rows]


def counts(url) -> tuple[int, int]:
    with session_scope(url) as s:
        return (s.scalar(select(func.count()).select_from(Post)),
                s.scalar(select(func.count()).select_from(RejectedInput)))


@pytest.fixture
def tasks(use_settings, sqlite_url):
    use_settings(database_url=sqlite_url, embedder="hashing")
    from workers import tasks as module

    assert module.ingest_posts.app.conf.task_always_eager
    return module


def test_batch_accepts_and_rejects_each_record_once(tasks, sqlite_url):
    assert tasks.ingest_posts.apply(args=[BATCH], task_id="batch-1").get() == FIRST
    with session_scope(sqlite_url) as s:
        posts = s.execute(select(Post.content_type, Post.external_id, Post.status).order_by(Post.id)).all()
    assert [tuple(p) for p in posts] == [("listing", "g1", "processed"), ("listing", "g2", "processed"),
                                         ("job", "3", "processed")]
    stored = rejections(sqlite_url, "task:batch-1")
    assert [line for line, *_ in stored] == [2, 4, 6, 8, 9, 10]  # positions in the message, 1-based

    assert tasks.ingest_posts.apply(args=[BATCH], task_id="batch-1").get() == AGAIN  # a redelivery
    assert counts(sqlite_url) == (3, 6) and rejections(sqlite_url, "task:batch-1") == stored


def test_batch_rejection_reasons_are_those_of_single_posts(tasks, sqlite_url):
    tasks.ingest_posts.apply(args=[BAD], task_id="batch-2").get()
    for i, record in enumerate(BAD):
        assert tasks.ingest_post.apply(args=[record], task_id=f"one-{i}").get()["rejected"] == 1
    single = [rejections(sqlite_url, f"task:one-{i}")[0][1:] for i in range(len(BAD))]
    assert [r[1:] for r in rejections(sqlite_url, "task:batch-2")] == single
    assert {code for code, *_ in single} == {"empty_text", "not_an_object", "wrong_type", "missing_field",
                                             "bad_content_type"}


@pytest.mark.parametrize("message, code", [([{"id": f"o{i}", "text": "x"} for i in range(MAX_TASK_BATCH + 1)],
                                            "batch_too_large"),
                                           ({"id": "x", "text": "one post, not a list"}, "not_a_list")])
def test_a_message_that_is_no_valid_batch_is_one_rejection(tasks, sqlite_url, message, code):
    assert tasks.ingest_posts.apply(args=[message], task_id="bad").get() == {"accepted": 0, "duplicates": 0,
                                                                            "rejected": 1}
    assert counts(sqlite_url) == (0, 1)
    assert [r[1] for r in rejections(sqlite_url, "task:bad")] == [code]


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.slow
def test_real_worker_batch_and_its_redelivery(pg_url, redis_url, producer, tmp_path):
    env = {"DETECTOR_DATABASE_URL": pg_url, "DETECTOR_BROKER_URL": redis_url,
           "DETECTOR_DATA_DIR": str(tmp_path / "data"), "DETECTOR_EMBEDDER": "hashing"}
    worker = WorkerProcess(env, tmp_path / "w.log").wait_ready()
    try:
        producer.send_task("detector.ingest_posts", args=[BATCH], queue="ingest", task_id="rb-1")

        def processed():
            with session_scope(pg_url) as s:
                return s.scalar(select(func.count()).select_from(Post).where(Post.status == "processed"))

        wait_for(lambda: processed() == 3 and counts(pg_url) == (3, 6), 60, "the batch stored and processed")
        producer.send_task("detector.ingest_posts", args=[BATCH], queue="ingest", task_id="rb-1")  # redelivered
        wait_for(lambda: str(AGAIN) in worker.tail(100_000), 30, "the redelivery to run")
        assert str(FIRST) in worker.tail(100_000)
        assert counts(pg_url) == (3, 6) and processed() == 3
        assert [r[0] for r in rejections(pg_url, "task:rb-1")] == [2, 4, 6, 8, 9, 10]
        with session_scope(pg_url) as s:
            assert s.scalars(select(DeadLetter)).all() == []
    finally:
        worker.stop()
