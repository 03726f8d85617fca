"""The demo generator must be reproducible and must keep the properties the detector relies on.

If private posts collapsed into near-duplicates, or campaign posts stopped resembling each
other, the demo would "work" for the wrong reasons, so those properties are pinned here.
"""

import difflib
import itertools
import json
import random
import statistics
from collections import defaultdict
from datetime import datetime

import pytest

from detector.demo.generator import SamplePost, bad_lines, generate_stream


def _ratio(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()


@pytest.fixture(scope="module")
def stream() -> list[SamplePost]:
    return generate_stream()


def _by_campaign(stream):
    groups = defaultdict(list)
    for p in stream:
        if p.campaign:
            groups[p.campaign].append(p)
    return groups


def test_same_seed_same_stream_other_seed_differs(stream):
    assert generate_stream() == stream
    other = generate_stream(seed=8)
    assert [p.record["text"] for p in other] != [p.record["text"] for p in stream]


def test_counts_labels_and_unique_ids(stream):
    normal = [p for p in stream if p.truth == "normal"]
    assert len(normal) == 300 and all(p.campaign is None for p in normal)
    assert all(p.truth == "seller" and p.campaign for p in stream if p.truth != "normal")
    groups = _by_campaign(stream)
    assert len(groups) == 6
    assert all(15 <= len(ps) <= 40 for ps in groups.values())
    ids = [p.record["id"] for p in stream]
    assert len(set(ids)) == len(ids) and all(i.startswith("demo-") for i in ids)
    small = generate_stream(n_normal=10, n_campaigns=2, seed=1)
    assert sum(p.truth == "normal" for p in small) == 10 and len(_by_campaign(small)) == 2


def test_records_are_well_formed_and_in_time_order(stream):
    times = []
    for p in stream:
        rec = json.loads(json.dumps(p.record, ensure_ascii=False))
        assert rec == p.record
        assert isinstance(rec["id"], str) and isinstance(rec["text"], str) and rec["text"]
        assert isinstance(rec.get("price", 0), int)
        assert rec.get("content_type", "listing") == "listing"
        assert all(u.startswith("https://") for u in rec.get("image_urls", []))
        if "created_at" in rec:
            times.append(datetime.fromisoformat(rec["created_at"]))
    assert all(t.tzinfo is not None for t in times)
    assert times == sorted(times)
    assert (times[-1] - times[0]).total_seconds() > 36 * 3600   # spread over ~2 days


def test_campaigns_use_several_authors_and_stay_bursty(stream):
    for ps in _by_campaign(stream).values():
        assert len({p.record["author_id"] for p in ps}) >= 3
        times = [datetime.fromisoformat(p.record["created_at"]) for p in ps]
        assert (max(times) - min(times)).total_seconds() < 8 * 3600


def test_campaign_posts_are_mutations_of_one_ad(stream):
    groups = _by_campaign(stream)
    for ps in groups.values():
        texts = [p.record["text"] for p in ps]
        assert len(set(texts)) >= 0.8 * len(texts)          # mutations really change the text
        ratios = [_ratio(a, b) for a, b in itertools.combinations(texts[:12], 2)]
        assert sum(r > 0.5 for r in ratios) >= 0.8 * len(ratios)   # ...but keep most of it
    firsts = [ps[:5] for ps in groups.values()]
    cross = [_ratio(a.record["text"], b.record["text"])
             for x, y in itertools.combinations(firsts, 2) for a in x for b in y]
    assert statistics.mean(cross) < 0.4


def test_evasion_tricks_appear(stream):
    text = "".join(p.record["text"] for p in stream if p.campaign)
    assert "\u200b" in text
    assert any(ch in text for ch in "①②③④⑤⑥⑦⑧⑨⓪")
    assert any(ch in text for ch in "☆★♥♡")
    assert "O1O" in text or "공일공" in text or "공1공" in text


def test_private_posts_are_diverse_and_mixed_language(stream):
    normal = [p for p in stream if p.truth == "normal"]
    sample = random.Random(0).sample([p.record["text"] for p in normal], 50)
    assert statistics.mean(_ratio(a, b) for a, b in itertools.combinations(sample, 2)) < 0.5
    english = sum(not any("가" <= ch <= "힣" for ch in p.record["text"]) for p in normal)
    assert 0.1 * len(normal) < english < 0.3 * len(normal)
    authors = defaultdict(int)
    for p in normal:
        authors[p.record["author_id"]] += 1
    assert max(authors.values()) <= 2 and len(authors) > 0.8 * len(normal)


def test_bad_lines_are_distinct_and_broken():
    lines = bad_lines()
    assert len(lines) == 10 and len(set(lines)) == 10
    assert all(isinstance(b, bytes) and not b.endswith(b"\n") for b in lines)
    utf8 = [b for b in lines if b"bad-utf8" in b]
    assert len(utf8) == 1
    with pytest.raises(UnicodeDecodeError):
        utf8[0].decode("utf-8")
    for raw in lines:
        if raw in utf8:
            continue
        try:
            obj = json.loads(raw)
        except json.JSONDecodeError:
            continue
        assert (not isinstance(obj, dict) or "id" not in obj or not isinstance(obj.get("text"), str)
                or len(obj["text"]) > 100_000 or not isinstance(obj.get("price", 0), int)
                or not isinstance(obj.get("image_urls", []), list) or obj.get("created_at") == "yesterday")
