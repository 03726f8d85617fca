"""The per-post pipeline on SQLite and PostgreSQL: near-duplicates, clusters, cache, catch-up."""

import json

from sqlalchemy import func, select

from detector.db.session import session_scope
from detector.deps import build_deps
from detector.posts.ingest import ingest_lines
from detector.posts.models import Post
from detector.posts.processing import process_posts
from detector.settings import Settings
from detector.similarity.models import Cluster, ClusterMember, Embedding, NearDuplicateEdge

CAMPAIGN = [
    ("c1", "s1", "헤어져서 팝니다 커플링 반지 새상품 010-1234-5678 연락주세요"),
    ("c2", "s2", "ㅎㅖ어져서 팝니ㄷr ☆ 커플링 반지 새상품 010 1234 5678 연락주세요"),
    ("c3", "s3", "헤어져서 팝 니 다 커플링 반지 새상품 ♥ 010.1234.5678 연락주세요"),
    ("c4", "s1", "헤어져서 팝니다!! 커플링 반지 새상품 010-1234-5678 연락 주세요"),
]
OTHERS = [
    ("n1", "p1", "아이가 커서 작아진 겨울 패딩 팔아요 거의 새것"),
    ("n2", "p2", "moving abroad, IKEA desk must go this weekend"),
    ("n3", "p3", "자전거 타이어 교체한지 한달 됐어요 직거래만 합니다"),
]


def ingest(url, rows, settings):
    lines = [(i, json.dumps({"id": e, "author_id": a, "text": t}, ensure_ascii=False).encode())
             for i, (e, a, t) in enumerate(rows)]
    return ingest_lines(lines, settings=settings, session_factory=lambda: session_scope(url), source="test")


def run(url, rows, deps):
    ids = ingest(url, rows, deps.settings).new_post_ids
    with session_scope(url) as s:
        process_posts(s, ids, deps)
    return ids


def members(url):
    with session_scope(url) as s:
        return {e: c for e, c in s.execute(select(Post.external_id, ClusterMember.cluster_id)
                                           .join(ClusterMember, ClusterMember.post_id == Post.id))}


def test_mutated_campaign_forms_one_cross_account_cluster(db_url):
    deps = build_deps(Settings(database_url=db_url))
    run(db_url, CAMPAIGN + OTHERS, deps)
    placed = members(db_url)
    assert set(placed) == {"c1", "c2", "c3", "c4"} and len(set(placed.values())) == 1
    with session_scope(db_url) as s:
        cluster = s.scalars(select(Cluster)).one()
        assert (cluster.size, cluster.distinct_authors) == (4, 3)
        edges = s.scalars(select(NearDuplicateEdge)).all()
        assert edges and all(e.similarity >= deps.settings.near_duplicate_threshold for e in edges)
        same_author = [e for e in edges if not e.cross_author]
        assert all(e.src_author_id == e.dst_author_id for e in same_author)
        assert any(e.cross_author for e in edges)
        # normalization made most campaign texts identical: one model call each, not one per post
        assert s.scalar(select(func.count()).select_from(Embedding)) < len(CAMPAIGN) + len(OTHERS)


def test_processing_is_idempotent(db_url):
    deps = build_deps(Settings(database_url=db_url))
    ids = run(db_url, CAMPAIGN, deps)
    with session_scope(db_url) as s:
        assert process_posts(s, ids, deps).post_ids == []  # already processed: nothing done twice
        assert s.scalar(select(func.count()).select_from(ClusterMember)) == len(CAMPAIGN)


def test_a_fresh_process_catches_up_from_the_database(db_url):
    run(db_url, CAMPAIGN[:3] + OTHERS, build_deps(Settings(database_url=db_url)))
    fresh = build_deps(Settings(database_url=db_url))  # a restarted worker: empty index
    assert fresh.index.index.stats() == {}
    run(db_url, CAMPAIGN[3:], fresh)
    placed = members(db_url)
    assert placed["c4"] == placed["c1"]
    assert fresh.index.index.stats() == {"listing": len(CAMPAIGN) + len(OTHERS)}


def test_one_bad_post_fails_alone_with_its_reason(db_url, monkeypatch):
    import detector.normalize as normalize_module

    real = normalize_module.normalize

    def fragile(text):
        if "POISON" in text:
            raise ValueError("cannot normalize this")
        return real(text)

    monkeypatch.setattr(normalize_module, "normalize", fragile)
    deps = build_deps(Settings(database_url=db_url))
    run(db_url, CAMPAIGN + [("bad", "x9", "POISON text")], deps)
    with session_scope(db_url) as s:
        states = {e: (st, r) for e, st, r in s.execute(select(Post.external_id, Post.status, Post.status_reason))}
    assert states["bad"][0] == "failed" and "normalization failed: ValueError: cannot normalize" in states["bad"][1]
    assert all(states[e][0] == "processed" for e, _a, _t in CAMPAIGN)
    assert len(set(members(db_url).values())) == 1


def test_micro_batch_takes_older_pending_posts_along(db_url):
    settings = Settings(database_url=db_url, process_batch_size=3)
    deps = build_deps(settings)
    ids = sorted(ingest(db_url, CAMPAIGN + OTHERS, settings).new_post_ids)
    with session_scope(db_url) as s:
        handled = process_posts(s, [ids[4]], deps).post_ids  # one message, but a batch of three is done
    assert sorted(handled) == [ids[0], ids[1], ids[4]]
    with session_scope(db_url) as s:
        assert process_posts(s, [ids[0]], deps).post_ids == []  # its own message later finds it done


def test_pipeline_on_pinecone_by_configuration_only(sqlite_url):
    """Production swaps the index by settings alone; the real SDK talks to a wire-format fake."""
    from tests.fakes.pinecone_server import FakePinecone

    with FakePinecone(dim=512, api_key="pc-test") as fake:
        deps = build_deps(Settings(database_url=sqlite_url, vector_index="pinecone", pinecone_api_key="pc-test",
                                   pinecone_host=fake.host))
        assert not deps.index.local
        run(sqlite_url, CAMPAIGN + OTHERS, deps)
        assert fake.count("/vectors/upsert") >= 1 and fake.count("/query") == len(CAMPAIGN) + len(OTHERS)
        assert deps.index.index.stats() == {"listing": len(CAMPAIGN) + len(OTHERS)}
    assert len(set(members(sqlite_url).values())) == 1 and len(members(sqlite_url)) == len(CAMPAIGN)


def test_a_linking_failure_falls_back_to_one_post_at_a_time(db_url, monkeypatch):
    import detector.posts.processing as processing

    real = processing.ClusterAssigner.assign
    poisoned = []

    def fragile(self, post_id, neighbours):
        if post_id == poisoned[0]:
            raise RuntimeError("corrupt neighbour list")
        return real(self, post_id, neighbours)

    monkeypatch.setattr(processing.ClusterAssigner, "assign", fragile)
    settings = Settings(database_url=db_url)
    ids = sorted(ingest(db_url, CAMPAIGN + OTHERS, settings).new_post_ids)
    poisoned.append(ids[1])
    with session_scope(db_url) as s:
        process_posts(s, ids, build_deps(settings))
    with session_scope(db_url) as s:
        states = {p.id: (p.status, p.status_reason) for p in s.scalars(select(Post))}
    assert states[ids[1]][0] == "failed" and "linking failed: RuntimeError" in states[ids[1]][1]
    assert [states[i][0] for i in ids if i != ids[1]] == ["processed"] * (len(ids) - 1)
    # the campaign is still one cluster (neighbours pull a failed post in; its own failure is on record)
    assert len(set(members(db_url).values())) == 1
