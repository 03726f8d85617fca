"""A small, realistic sellerwatch database for the admin UI tests (and for a manual look).

One phone-reseller campaign posted by six accounts (four of them days old) with the usual
obfuscations, whose alert went to Slack; a benign neighbourhood flea-market cluster with an open
alert; an older cluster already judged benign from Slack; a positive LLM verdict on a phone-buying
business; a user's report and two random-audit items (one already confirmed: a seller no path
found); two prompt versions; LLM calls; pending posts, a dead letter and two hourly metric snapshots. One sample carries
markup (``<script>``, ``**``) so the tests can check that post text is always escaped.

Run ``python -m tests.admin_ui.seed sqlite:///demo.db`` to get a database to click through.
"""

from __future__ import annotations

import hashlib
import sys
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from detector.alerts.models import Alert, AlertDelivery
from detector.db.session import session_scope
from detector.jobs.models import DeadLetter
from detector.llm.models import LLMCall, PromptVersion
from detector.normalize.text import normalize, text_hash
from detector.posts.models import Author, Post
from detector.review.models import Detection
from detector.metrics.snapshots import take_snapshot
from detector.review.audit_sample import AUDIT_REASON
from detector.review.service import record_decision
from detector.similarity.models import Cluster, ClusterMember, ClusterSnapshot, NearDuplicateEdge

PHONE = "아이폰 15 프로 256GB 미개봉 새제품 팝니다. 정품 보장, 전국 당일 발송 가능합니다. 대량 구매 문의 환영 ☎ 010-1234-5678"
CAMPAIGN = [  # (author index, text, hours ago)
    (0, PHONE, 6.0),
    (1, PHONE.replace("010-1234-5678", "O1O-1234-5678") + " (카톡 iphone_shop)", 5.0),
    (2, "ㅇㅏ이폰 15 프로 256GB 미개봉 새제품 팝니ㄷr. 정품 보장, 전국 당일발송 가능합니다. 문의 환영 010 1234 5678", 4.0),
    (0, PHONE.replace("새제품", "새제품 1,250,000원"), 3.0),
    (3, PHONE.replace("대량 구매 문의 환영", "대량 구매 문의 환영 <script>alert(1)</script> **오늘만 특가**"), 2.0),
    (4, PHONE.replace("256GB", "256기가").replace("010-1234-5678", "010.1234.5678"), 0.8),
    (5, PHONE.replace("새제품", "새제품 125만원") + " ★★★", 0.5),
    (0, PHONE + " 재고 넉넉합니다", 0.2),
]
MARKET = "주말 아파트 단지 플리마켓 참가자 모집합니다. 토요일 오전 10시 관리사무소 앞, 참가비 없음."
LOST_CAT = "고양이를 찾습니다. 회색 줄무늬, 이름은 나비. OO동 근처에서 잃어버렸어요. 보신 분 연락 부탁드립니다."
SHOP = "같은 사진으로 매일 올라오는 노트북 판매글입니다. 재고 20대 보유, 세금계산서 발행 가능."
QUIET = "캠핑 의자 4개 세트 팝니다. 직거래만, 택배 문의 주세요. 같은 제품 여러 개 있습니다."
BUYER = "중고폰 최고가 매입합니다. 파손폰, 분실폰, 요금미납폰 모두 매입. 방문 매입 가능, 업체 운영 중 (사업자 등록)."


@dataclass
class Seeded:
    url: str
    alert_open: int = 0
    alert_benign: int = 0
    alert_decided: int = 0
    cluster: int = 0
    cluster_benign: int = 0
    cluster_decided: int = 0
    campaign_authors: list[int] = field(default_factory=list)
    campaign_posts: list[int] = field(default_factory=list)
    markup_post: int = 0
    other_post: int = 0
    detection: int = 0
    llm_post: int = 0
    llm_author: int = 0
    prompt_v1: int = 0
    prompt_v2: int = 0
    decided_decision: int = 0
    report: int = 0
    audit: int = 0
    audit_decided: int = 0
    quiet_seller: int = 0


def _post(s, author: Author, text: str, created: datetime, n: int, content_type: str = "listing",
          status: str = "processed", title: str | None = None) -> Post:
    norm = normalize(text)
    post = Post(content_type=content_type, external_id=f"{content_type}-{n:06d}", author_id=author.id,
                title=title, text=text, content_sha256=hashlib.sha256(text.encode()).hexdigest(),
                normalized_text=norm, normalized_sha256=text_hash(norm), created_at=created,
                ingested_at=created, region="서울 강남구",
                price=Decimal("1250000") if "원" in text else None, source="seed", status=status,
                processed_at=created if status == "processed" else None)
    s.add(post)
    s.flush()
    return post


def _cluster(s, posts: list[Post], content_type: str, now: datetime, hours: float) -> Cluster:
    cluster = Cluster(content_type=content_type, size=len(posts),
                      distinct_authors=len({p.author_id for p in posts}),
                      first_seen_at=now - timedelta(hours=hours), updated_at=now)
    s.add(cluster)
    s.flush()
    for p in posts:
        s.add(ClusterMember(cluster_id=cluster.id, post_id=p.id,
                            added_at=p.created_at + timedelta(minutes=2)))
    return cluster


def _alert(s, cluster: Cluster, posts: list[Post], authors: dict, now: datetime, hours: float, level: int,
           added: int, share: float | None) -> Alert:
    samples = [{"post_id": p.id, "external_id": p.external_id, "author": authors[p.author_id],
                "text": p.text[:300]} for p in sorted(posts, key=lambda p: p.created_at, reverse=True)[:5]]
    summary = {"content_type": cluster.content_type, "cluster_id": cluster.id, "size": cluster.size,
               "distinct_authors": cluster.distinct_authors, "growth": {"window_minutes": 60, "added": added},
               "new_account_share": share, "level": level, "samples": samples,
               "rule": f"{cluster.size} posts from {cluster.distinct_authors} accounts (level {level})"}
    alert = Alert(dedupe_key=f"similarity:cluster:{cluster.id}:level:{level}",
                  content_type=cluster.content_type, path="similarity", cluster_id=cluster.id,
                  rule="cluster_size", summary=summary, status="open",
                  created_at=now - timedelta(hours=hours), updated_at=now - timedelta(hours=hours))
    s.add(alert)
    s.flush()
    return alert


def seed(url: str, now: datetime | None = None) -> Seeded:
    """Fill an empty, migrated database; return the ids the tests need."""
    now = now or datetime.now(timezone.utc)
    out = Seeded(url=url)
    with session_scope(url) as s:
        authors = [Author(external_id=f"seller_k{i:02d}", first_seen_at=now - timedelta(days=3),
                          account_created_at=now - timedelta(days=2 if i >= 2 else 400)) for i in range(6)]
        neighbours = [Author(external_id=f"apt_resident_{i}", account_created_at=now - timedelta(days=900))
                      for i in range(3)]
        buyer = Author(external_id="phone_buyer_pro", account_created_at=now - timedelta(days=30))
        s.add_all([*authors, *neighbours, buyer])
        s.flush()
        names = {a.id: a.external_id for a in [*authors, *neighbours, buyer]}
        posts = [_post(s, authors[a], text, now - timedelta(hours=h), i, title="아이폰 15 프로 미개봉")
                 for i, (a, text, h) in enumerate(CAMPAIGN)]
        other = _post(s, authors[0], "갤럭시 S24 울트라 512GB 미개봉 팝니다. 당일 발송, 대량 문의 환영 010-1234-5678",
                      now - timedelta(days=1), 100)
        cluster = _cluster(s, posts, "listing", now, 6)
        for hours, size, distinct, share in ((6, 2, 2, 0.0), (4, 3, 3, 0.33), (3, 4, 3, 0.33), (2, 5, 4, 0.5),
                                             (1, 6, 5, 0.6), (0.1, 8, 6, 0.67)):
            s.add(ClusterSnapshot(cluster_id=cluster.id, taken_at=now - timedelta(hours=hours), size=size,
                                  distinct_authors=distinct, new_account_share=share))
        for a, b in zip(posts, posts[1:], strict=False):
            s.add(NearDuplicateEdge(content_type="listing", src_post_id=b.id, dst_post_id=a.id,
                                    src_author_id=b.author_id, dst_author_id=a.author_id,
                                    cross_author=a.author_id != b.author_id,
                                    similarity=0.93, method="embedding", created_at=b.created_at))
        alert = _alert(s, cluster, posts, names, now, 0.1, 2, 3, 0.67)
        s.add(AlertDelivery(alert_id=alert.id, channel="slack", target="C0SELLERS", status="sent", attempts=1,
                            external_ref="1764000000.123456", sent_at=now - timedelta(minutes=5)))

        market = [_post(s, neighbours[i], MARKET + suffix, now - timedelta(hours=20 - i), 200 + i,
                        content_type="community") for i, suffix in enumerate(("", " 많이 와주세요!", " (선착순 20팀)"))]
        cluster_b = _cluster(s, market, "community", now, 20)
        alert_b = _alert(s, cluster_b, market, names, now, 18, 1, 0, 0.0)

        cats = [_post(s, neighbours[i], LOST_CAT + f" {i}", now - timedelta(days=3, hours=i), 300 + i,
                      content_type="community") for i in range(2)]
        cluster_c = _cluster(s, cats, "community", now, 72)
        alert_c = _alert(s, cluster_c, cats, names, now, 70, 1, 0, 0.0)
        decided = record_decision(s, subject_type="alert", subject_id=alert_c.id, decision="benign",
                                  moderator="slack:U024BE7LH (lee)", source="slack")

        v1 = PromptVersion(content_type="listing", version="v1", sha256="a" * 64, is_active=True,
                           text="Decide whether a marketplace listing comes from a professional seller.\n"
                                "Signals: bulk stock, business words, repeated contact numbers.\n"
                                "Answer JSON: {is_professional, reason}.",
                           provenance={"generated_by": "detector prompts regenerate", "examples": 24},
                           eval_scores={"labelled.jsonl:abc|gpt-4.1-mini": {"precision": 0.81, "recall": 0.7, "f1": 0.75}},
                           created_at=now - timedelta(days=20), activated_at=now - timedelta(days=20))
        v2 = PromptVersion(content_type="listing", version="v2", sha256="b" * 64,
                           text="Decide whether a marketplace listing comes from a professional seller.\n"
                                "Signals: bulk stock, business words, repeated contact numbers, "
                                "'매입' offers.\n"
                                "Ignore single second-hand items with personal context.\n"
                                "Answer JSON: {is_professional, reason}.",
                           provenance={"generated_by": "detector prompts regenerate", "examples": 40,
                                       "from_decisions": True},
                           eval_scores={"labelled.jsonl:abc|gpt-4.1-mini": {"precision": 0.9, "recall": 0.76, "f1": 0.82}},
                           created_at=now - timedelta(days=2))
        s.add_all([v1, v2])
        s.flush()
        llm_post = _post(s, buyer, BUYER, now - timedelta(hours=1), 400)
        detection = Detection(dedupe_key=f"llm:post:{llm_post.id}", content_type="listing", path="llm",
                              post_id=llm_post.id, is_positive=True, score=0.94, prompt_version_id=v1.id,
                              model="gpt-4o-mini", created_at=now - timedelta(minutes=50),
                              reason="Advertises a phone-buying business ('업체 운영 중', bulk purchase), "
                                     "not a private sale.")
        s.add(detection)
        calls = ((0.0011, 820.0, "ok"), (0.0009, 640.0, "ok"), (0.0, 30000.0, "error"))
        for i, (cost, ms, status) in enumerate(calls):
            s.add(LLMCall(stage="classify", post_id=llm_post.id, prompt_version_id=v1.id, model="gpt-4o-mini",
                          prompt_tokens=900, completion_tokens=60, cost_usd=cost, latency_ms=ms,
                          status=status, created_at=now - timedelta(hours=i + 1)))
        for i in range(2):  # Batch API lines: no latency of their own, so not in the latency figures
            s.add(LLMCall(stage="batch", post_id=llm_post.id, prompt_version_id=v1.id, model="gpt-4o-mini",
                          prompt_tokens=900, completion_tokens=60, cost_usd=0.0005, latency_ms=0.0,
                          status="ok", created_at=now - timedelta(hours=i + 1)))
        for i in range(2):
            _post(s, buyer, f"아이폰 매입 {i}", now - timedelta(minutes=30 + i), 500 + i, status="pending")
        shop, quiet = Author(external_id="laptop_depot"), Author(external_id="quiet_seller")
        s.add_all([shop, quiet])
        s.flush()
        report = Detection(dedupe_key="report:seed", content_type="listing", path="report", mode="report",
                           post_id=_post(s, shop, SHOP, now - timedelta(hours=4), 600).id, is_positive=True,
                           reason="reported by user-4412: 매일 같은 사진으로 올려요", created_at=now - timedelta(hours=2))
        audit = Detection(dedupe_key="audit:seed", content_type="listing", path="audit", mode="audit",
                          post_id=_post(s, neighbours[0], "아이 자전거 작아져서 팝니다. 한 번 탔어요.",
                                        now - timedelta(hours=9), 601).id,
                          is_positive=False, reason=AUDIT_REASON, created_at=now - timedelta(hours=3))
        audit_done = Detection(dedupe_key="audit:seed-2", content_type="listing", path="audit", mode="audit",
                               post_id=_post(s, quiet, QUIET, now - timedelta(days=2), 602).id, is_positive=False,
                               reason=AUDIT_REASON, created_at=now - timedelta(days=1, hours=20))
        s.add_all([report, audit, audit_done])
        s.flush()
        record_decision(s, subject_type="detection", subject_id=audit_done.id, decision="confirm_abuse",
                        moderator="lee")
        for hours in (2, 1):  # two hourly points of the metrics series
            take_snapshot(s, now - timedelta(hours=hours))
        s.add(DeadLetter(task_name="detector.pipeline.process_posts",
                         task_id="5f0c1c2e-dead-4e11-9a7b-000000000001",
                         args={"post_ids": [posts[0].id]}, attempts=8, created_at=now - timedelta(hours=3),
                         error="ValueError: embedding dimension 512 != index dimension 384"))
        s.flush()
        out.alert_open, out.alert_benign, out.alert_decided = alert.id, alert_b.id, alert_c.id
        out.cluster, out.cluster_benign, out.cluster_decided = cluster.id, cluster_b.id, cluster_c.id
        out.campaign_authors, out.campaign_posts = [a.id for a in authors], [p.id for p in posts]
        out.markup_post, out.other_post = posts[4].id, other.id
        out.detection, out.llm_post, out.llm_author = detection.id, llm_post.id, buyer.id
        out.prompt_v1, out.prompt_v2, out.decided_decision = v1.id, v2.id, decided.id
        out.report, out.audit, out.audit_decided, out.quiet_seller = report.id, audit.id, audit_done.id, quiet.id
    return out


if __name__ == "__main__":
    from detector.db import migrate

    target = sys.argv[1] if len(sys.argv) > 1 else "sqlite:///.sellerwatch/admin-demo.db"
    migrate.upgrade(target)
    print(seed(target))
