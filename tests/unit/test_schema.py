"""The ingest edge's validation: every kind of bad input gets its own code and a clear reason."""

import json
from datetime import timezone
from decimal import Decimal

import pytest

from detector.posts.schema import PostIn, Rejection, parse_line

LIMITS = dict(default_content_type="listing", max_text_chars=1000, max_record_bytes=8192)


def parse(raw: bytes | str):
    return parse_line(raw.encode("utf-8") if isinstance(raw, str) else raw, **LIMITS)


def test_full_record_is_parsed_with_metadata_kept():
    post = parse(json.dumps({
        "id": "p1", "text": "이사 가서 팝니다", "title": "책상", "author_id": "u1", "content_type": "furniture",
        "created_at": "2026-11-20T09:15:00+09:00", "region": "서울 마포구", "price": 15000,
        "image_urls": ["https://img.example.com/a.jpg"], "category": "가구", "app": {"v": 3},
    }))
    assert isinstance(post, PostIn)
    assert (post.external_id, post.content_type, post.title, post.author_id) == ("p1", "furniture", "책상", "u1")
    assert post.created_at.astimezone(timezone.utc).hour == 0 and post.price == Decimal("15000.00")
    assert post.extra == {"category": "가구", "app": {"v": 3}}


def test_defaults_numeric_ids_and_nulls():
    post = parse('{"id": 42, "text": "hello", "author_id": 7, "title": null, "price": null}')
    assert isinstance(post, PostIn)
    assert (post.external_id, post.author_id, post.content_type, post.title) == ("42", "7", "listing", None)


def test_naive_date_is_read_as_utc_and_z_suffix_accepted():
    assert parse('{"id": "a", "text": "t", "created_at": "2026-01-02 03:04"}').created_at.tzinfo is not None
    assert parse('{"id": "a", "text": "t", "created_at": "2026-01-02T03:04:05Z"}').created_at.hour == 3


BAD = [
    (b"not json at all", "invalid_json", "not valid JSON"),
    (b'{"id": "x", "text": "unterminated', "invalid_json", "not valid JSON"),
    (b'["id", "text"]', "not_an_object", "got a list"),
    (b'"just a string"', "not_an_object", "got a string"),
    (b'{"text": "no id"}', "missing_field", "'id' is missing"),
    (b'{"id": "x"}', "missing_field", "'text' is missing"),
    (b'{"id": "x", "text": null}', "missing_field", "'text' is missing"),
    (b'{"id": "x", "text": 12345}', "wrong_type", "'text' must be a string, got a number"),
    (b'{"id": "x", "text": ["a"]}', "wrong_type", "'text' must be a string, got a list"),
    (b'{"id": true, "text": "t"}', "wrong_type", "'id' must be a string, got a boolean"),
    (b'{"id": "x", "text": "t", "title": 5}', "wrong_type", "'title' must be a string"),
    (b'{"id": "x", "text": "t", "region": {"a": 1}}', "wrong_type", "'region' must be a string, got an object"),
    (b'{"id": "x", "text": "t", "price": "free"}', "wrong_type", "'price' must be a number, got a string"),
    (b'{"id": "x", "text": "t", "price": true}', "wrong_type", "'price' must be a number, got a boolean"),
    (b'{"id": "x", "text": "t", "price": -5}', "bad_price", "between 0"),
    (b'{"id": "x", "text": "t", "price": 1e400}', "bad_price", "finite"),
    (b'{"id": "x", "text": "t", "created_at": "yesterday"}', "bad_date", "not an ISO 8601"),
    (b'{"id": "x", "text": "t", "created_at": 1700000000}', "wrong_type", "'created_at' must be an ISO 8601"),
    (b'{"id": "x", "text": "t", "image_urls": "https://a/b.jpg"}', "wrong_type", "must be a list"),
    (b'{"id": "x", "text": "t", "image_urls": ["javascript:alert(1)"]}', "bad_url", "invalid http(s) URL"),
    (b'{"id": "x", "text": "t", "content_type": "Bad Type!"}', "bad_content_type", "lowercase"),
    (b'{"id": "", "text": "t"}', "bad_id", "non-empty"),
    (b'{"id": "a\\nb", "text": "t"}', "bad_id", "control characters"),
    (b'{"id": "x", "text": "   "}', "empty_text", "empty"),
    (b'{"id": "x", "text": "a\\u0000b"}', "bad_text", "NUL"),
    (b'{"id": "x", "text": "\\ud800 lone surrogate"}', "bad_text", "surrogate"),
    (b'{"id": "bad-utf8", "text": "\xff\xfe caf\xe9"}', "invalid_utf8", "not valid UTF-8"),
    (b'{"id": "x", "text": "' + b"a" * 1001 + b'"}', "too_large", "1,001 characters; the limit is 1,000"),
    (b'{"id": "x", "text": "t", "pad": "' + b"a" * 9000 + b'"}', "too_large", "bytes; the limit is 8,192"),
]


@pytest.mark.parametrize("raw,code,phrase", BAD, ids=[f"{c}-{i}" for i, (_r, c, _p) in enumerate(BAD)])
def test_bad_input_is_rejected_with_code_and_reason(raw, code, phrase):
    result = parse(raw)
    assert isinstance(result, Rejection), result
    assert result.code == code
    assert phrase in result.reason


def test_rejection_keeps_the_id_when_known():
    result = parse('{"id": "p9", "text": 1, "content_type": "listing"}')
    assert (result.external_id, result.content_type) == ("p9", "listing")


def test_author_created_at_is_parsed_and_validated():
    post = parse('{"id": "a", "text": "t", "author_id": "u", "author_created_at": "2026-11-01T00:00:00Z"}')
    assert post.author_created_at.year == 2026 and "author_created_at" not in post.extra
    bad = parse('{"id": "a", "text": "t", "author_created_at": "last week"}')
    assert bad.code == "bad_date" and "author_created_at" in bad.reason
