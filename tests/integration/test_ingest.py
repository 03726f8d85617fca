"""Ingest into SQLite and PostgreSQL: exact counts, idempotency, and a stored reason for every bad line."""

import json

from sqlalchemy import func, select

from detector.db.session import session_scope
from detector.posts.ingest import ingest_lines, ingest_record, iter_lines
from detector.posts.models import Author, Post, RejectedInput
from detector.settings import Settings

GOOD = [
    {"id": "p1", "text": "아이가 커서 작아진 옷이에요", "author_id": "u1", "price": 5000},
    {"id": "p2", "text": "moving abroad, desk must go", "author_id": "u2", "created_at": "2026-11-20T09:00:00+09:00"},
    {"id": 3, "text": "자전거 팝니다", "author_id": "u1", "content_type": "bikes", "color": "red"},
    {"id": "p1", "text": "same id, other namespace", "content_type": "bikes"},
]
BAD = [
    b"{not json",
    b'{"id": "b1"}',
    b'{"id": "b2", "text": 12345}',
    b'{"id": "b3", "text": "\xff\xfe"}',
    b'{"id": "b4", "text": "t", "created_at": "31/12/2026"}',
]


def write_feed(path, lines):
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def run(path, url, **kw):
    settings = Settings(database_url=url, ingest_batch_size=3)
    with path.open("rb") as stream:
        return ingest_lines(iter_lines(stream), settings=settings, session_factory=lambda: session_scope(url),
                            source=f"file:{path}", **kw)


def counts(url):
    with session_scope(url) as s:
        return (s.scalar(select(func.count()).select_from(Post)),
                s.scalar(select(func.count()).select_from(RejectedInput)),
                s.scalar(select(func.count()).select_from(Author)))


def test_mixed_feed_stores_good_posts_and_every_bad_reason(db_url, tmp_path):
    lines = [json.dumps(r, ensure_ascii=False).encode() for r in GOOD]
    feed = write_feed(tmp_path / "feed.jsonl", [lines[0], BAD[0], lines[1], BAD[1], b"", BAD[2], lines[2],
                                                BAD[3], lines[0], BAD[4], lines[3]])
    result = run(feed, db_url)
    assert result.as_dict() == {"accepted": 4, "duplicates": 1, "rejected": 5}
    assert counts(db_url) == (4, 5, 2)
    with session_scope(db_url) as s:
        rejected = {r.line_no: (r.reason_code, r.reason) for r in s.scalars(select(RejectedInput))}
        post = s.scalars(select(Post).where(Post.external_id == "3")).one()
        assert (post.content_type, post.extra, post.author.external_id) == ("bikes", {"color": "red"}, "u1")
        p2 = s.scalars(select(Post).where(Post.external_id == "p2")).one()
        assert p2.created_at.isoformat() == "2026-11-20T00:00:00+00:00"
    assert {line: code for line, (code, _r) in rejected.items()} == {
        2: "invalid_json", 4: "missing_field", 6: "wrong_type", 8: "invalid_utf8", 10: "bad_date"}
    assert "'text' must be a string, got a number" in rejected[6][1]


def test_rerun_adds_nothing(db_url, tmp_path):
    feed = write_feed(tmp_path / "feed.jsonl", [json.dumps(r).encode() for r in GOOD] + BAD)
    run(feed, db_url)
    before = counts(db_url)
    again = run(feed, db_url)
    assert again.as_dict() == {"accepted": 0, "duplicates": 4, "rejected": 5}
    assert counts(db_url) == before


def test_same_post_from_a_task_twice_is_one_post(db_url):
    settings = Settings(database_url=db_url)
    for _ in range(2):
        with session_scope(db_url) as session:
            result = ingest_record({"id": "t1", "text": "팝니다"}, settings=settings, session=session,
                                   source="task:abc")
    assert result.as_dict() == {"accepted": 0, "duplicates": 1, "rejected": 0}
    with session_scope(db_url) as session:
        bad = ingest_record(["not", "a", "post"], settings=settings, session=session, source="task:def")
    assert bad.rejected == 1
    assert counts(db_url)[:2] == (1, 1)


def test_new_post_ids_are_reported_for_dispatch(db_url, tmp_path):
    feed = write_feed(tmp_path / "feed.jsonl", [json.dumps(r).encode() for r in GOOD])
    seen = []
    result = run(feed, db_url, on_batch=lambda batch, _read: seen.extend(batch.new_post_ids))
    with session_scope(db_url) as s:
        assert sorted(seen) == sorted(result.new_post_ids) == sorted(s.scalars(select(Post.id)))
