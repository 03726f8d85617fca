"""Fixtures of the LLM path: the scripted fake behind the real OpenAI SDK, synthetic labelled posts, posts in a DB."""

from __future__ import annotations

import random
from datetime import datetime, timezone

import pytest

SELLER_OPENERS = ["최저가 도매 직판", "정품 새상품 대량 입고", "업체 직영 특가", "FREE entry WIN cash prize",
                  "Check out our shop", "신규 회원 이벤트 진행중", "Limited offer for all customers"]
SELLER_CTA = ["문의 주세요", "카톡 상담 가능", "click the link", "call now", "reply YES to claim", "가입 즉시 지급"]
NORMAL_WORDS = ["이사", "가면서", "쓰던", "책상", "의자", "아이가", "커서", "안", "입는", "옷", "정리합니다",
                "직거래만", "해요", "상태", "좋아요", "선물", "받은건데", "취향이", "아니라서", "내놔요", "동네",
                "근처", "오시면", "드려요", "my", "old", "bike", "still", "works", "fine", "moving", "out", "soon",
                "lovely", "song", "thanks", "everyone", "see", "you", "tonight", "haha"]


def synthetic(n_seller: int, n_normal: int, seed: int = 0) -> list[dict]:
    """Labelled posts a surface-rule model can separate: sellers push contact (phone, link, call to action)."""
    rng = random.Random(seed)
    records = []
    for i in range(n_seller):
        words = " ".join(rng.sample(NORMAL_WORDS, 4))
        contact = rng.choice([f"010-{rng.randint(1000, 9999)}-{rng.randint(1000, 9999)}",
                              f"www.shop{rng.randint(1, 999)}.com", f"http://bit.ly/{rng.randint(10**5, 10**6)}"])
        records.append({"id": f"s{i}", "label": "seller",
                        "text": f"{rng.choice(SELLER_OPENERS)} {words} {rng.choice(SELLER_CTA)} {contact}"})
    for i in range(n_normal):
        records.append({"id": f"n{i}", "label": "normal", "text": " ".join(rng.sample(NORMAL_WORDS, rng.randint(5, 9)))})
    return records


@pytest.fixture
def fake():
    from detector.llm.fake import FakeLLM

    return FakeLLM()


@pytest.fixture
def sleeps():
    return []


@pytest.fixture
def make_client(fake, sleeps):
    """``LLMClient`` over the real OpenAI SDK whose HTTP goes to ``fake`` through ``httpx2.MockTransport``."""
    import httpx2
    from openai import OpenAI

    from detector.llm.client import LLMClient

    def build(transport=None, **kwargs) -> LLMClient:
        sdk = OpenAI(api_key="sk-test", base_url="http://llm.test/v1",
                     http_client=httpx2.Client(transport=transport or fake.transport()))
        return LLMClient(openai_client=sdk, sleep=sleeps.append, **kwargs)

    return build


@pytest.fixture
def client(make_client):
    return make_client()


def add_posts(session, texts, *, content_type="listing", status="processed", start=0) -> list[int]:
    """Posts as the pipeline leaves them: normalized text and its hash filled in."""
    from detector.normalize import normalize, text_hash
    from detector.posts.models import Post

    ids = []
    for i, text in enumerate(texts, start):
        norm = normalize(text)
        post = Post(content_type=content_type, external_id=f"{content_type}-{i}", text=text, content_sha256="x",
                    normalized_text=norm, normalized_sha256=text_hash(norm), created_at=datetime.now(timezone.utc),
                    source="test", status=status)
        session.add(post)
        session.flush()
        ids.append(post.id)
    return ids
