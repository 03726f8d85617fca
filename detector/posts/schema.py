"""Validation at the ingest edge: raw bytes in, a clean ``PostIn`` or a ``Rejection`` out.

Everything a producer sends is untrusted. Each check yields a stable ``code`` (for counting and
filtering) and a sentence a human can act on ("field 'price' must be a number, got a string").
Nothing here raises on bad input: callers get a value either way, so one bad record can never take
down a worker or the rest of a batch.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal

from detector.settings import CONTENT_TYPE_RE

KNOWN_FIELDS = {"id", "text", "title", "author_id", "author_created_at", "content_type", "created_at", "region",
                "price", "image_urls"}
MAX_ID_CHARS = 256
MAX_SHORT_CHARS = 256  # region, content type, author id
MAX_TITLE_CHARS = 1_000
MAX_IMAGE_URLS = 50
MAX_URL_CHARS = 2_048
_URL_RE = re.compile(r"^https?://[^\s]+$", re.I)
_CONTROL_IN_ID = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class Rejection:
    code: str
    reason: str
    external_id: str | None = None
    content_type: str | None = None


@dataclass(frozen=True)
class PostIn:
    external_id: str
    content_type: str
    text: str
    title: str | None = None
    author_id: str | None = None
    author_created_at: datetime | None = None  # when the account was opened: new accounts are a signal
    created_at: datetime | None = None
    region: str | None = None
    price: Decimal | None = None
    image_urls: list[str] = field(default_factory=list)
    extra: dict = field(default_factory=dict)


class _Invalid(Exception):
    def __init__(self, code: str, reason: str):
        super().__init__(reason)
        self.code, self.reason = code, reason


def _type_name(value: object) -> str:
    return {bool: "a boolean", int: "a number", float: "a number", str: "a string", list: "a list",
            dict: "an object", type(None): "null"}.get(type(value), type(value).__name__)


def _string(record: dict, key: str, *, limit: int, required: bool = False) -> str | None:
    value = record.get(key)
    if value is None:
        if required:
            raise _Invalid("missing_field", f"required field '{key}' is missing")
        return None
    if not isinstance(value, str):
        raise _Invalid("wrong_type", f"field '{key}' must be a string, got {_type_name(value)}")
    if "\x00" in value:
        raise _Invalid("bad_text", f"field '{key}' contains a NUL character")
    if len(value) > limit:
        code = "too_large" if key == "text" else "field_too_long"
        raise _Invalid(code, f"field '{key}' has {len(value):,} characters; the limit is {limit:,}")
    return value


def _identifier(record: dict, key: str, *, required: bool) -> str | None:
    """Ids may arrive as strings or integers (many backends use numeric ids); stored as text."""
    value = record.get(key)
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
        record = {**record, key: value}
    value = _string(record, key, limit=MAX_ID_CHARS, required=required)
    if value is None:
        return None
    if not value.strip() or _CONTROL_IN_ID.search(value):
        raise _Invalid("bad_id", f"field '{key}' must be non-empty without control characters")
    return value


def _created_at(record: dict, key: str = "created_at") -> datetime | None:
    value = record.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise _Invalid("wrong_type", f"field '{key}' must be an ISO 8601 string, got {_type_name(value)}")
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise _Invalid("bad_date", f"field '{key}' is not an ISO 8601 date-time: {value[:40]!r}") from None
    # A time without zone is read as UTC: producers are told to send an offset.
    return parsed.replace(tzinfo=timezone.utc) if parsed.tzinfo is None else parsed


def _price(record: dict) -> Decimal | None:
    value = record.get("price")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _Invalid("wrong_type", f"field 'price' must be a number, got {_type_name(value)}")
    if isinstance(value, float) and not math.isfinite(value):
        raise _Invalid("bad_price", "field 'price' must be a finite number")
    if value < 0 or value >= 10**15:
        raise _Invalid("bad_price", f"field 'price' must be between 0 and 10^15, got {value}")
    return Decimal(str(value)).quantize(Decimal("0.01"))


def _image_urls(record: dict) -> list[str]:
    value = record.get("image_urls")
    if value is None:
        return []
    if not isinstance(value, list):
        raise _Invalid("wrong_type", f"field 'image_urls' must be a list of URLs, got {_type_name(value)}")
    if len(value) > MAX_IMAGE_URLS:
        raise _Invalid("field_too_long", f"field 'image_urls' has {len(value)} URLs; the limit is {MAX_IMAGE_URLS}")
    for url in value:
        if not isinstance(url, str) or len(url) > MAX_URL_CHARS or not _URL_RE.match(url):
            raise _Invalid("bad_url", f"field 'image_urls' holds an invalid http(s) URL: {str(url)[:60]!r}")
    return list(value)


def _has_lone_surrogate(value: object) -> bool:
    """JSON's \\ud800 escapes decode to strings that no database can store as UTF-8."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_lone_surrogate(k) or _has_lone_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_lone_surrogate(v) for v in value)
    return False


_RISKY_ESCAPE = re.compile(r"\\u(?:[dD][89a-fA-F]|0000)")


def validate_record(record: object, *, default_content_type: str, max_text_chars: int,
                    may_hold_bad_chars: bool = True) -> PostIn | Rejection:
    """Turn one decoded JSON value into a post, or say exactly why not.

    ``may_hold_bad_chars=False`` skips the recursive NUL/surrogate scan: ``parse_line`` knows from the
    raw bytes (valid UTF-8, no ``\\u0000`` or surrogate escapes) that there can be none.
    """
    if not isinstance(record, dict):
        return Rejection("not_an_object", f"a post must be a JSON object, got {_type_name(record)}")
    ext_id = record.get("id") if isinstance(record.get("id"), str) else None
    try:
        if may_hold_bad_chars and _has_lone_surrogate(record):
            raise _Invalid("bad_text", "the record holds a NUL character or an unpaired UTF-16 surrogate")
        external_id = _identifier(record, "id", required=True)
        content_type = _string(record, "content_type", limit=64) or default_content_type
        if not CONTENT_TYPE_RE.match(content_type):
            raise _Invalid("bad_content_type", f"content_type {content_type[:64]!r} must be lowercase "
                           "letters, digits, '_' or '-'")
        text = _string(record, "text", limit=max_text_chars, required=True)
        if not text.strip():
            raise _Invalid("empty_text", "field 'text' is empty")
        return PostIn(
            external_id=external_id, content_type=content_type, text=text,
            title=_string(record, "title", limit=MAX_TITLE_CHARS),
            author_id=_identifier(record, "author_id", required=False),
            author_created_at=_created_at(record, "author_created_at"),
            created_at=_created_at(record), region=_string(record, "region", limit=MAX_SHORT_CHARS),
            price=_price(record), image_urls=_image_urls(record),
            extra={k: v for k, v in record.items() if k not in KNOWN_FIELDS},
        )
    except _Invalid as err:
        ct = record.get("content_type") if isinstance(record.get("content_type"), str) else None
        return Rejection(err.code, err.reason, external_id=_safe(ext_id), content_type=_safe(ct))


def _safe(value: str | None, limit: int = 256) -> str | None:
    if value is None or _has_lone_surrogate(value):
        return None
    return value[:limit]


def parse_line(raw: bytes, *, default_content_type: str, max_text_chars: int,
               max_record_bytes: int) -> PostIn | Rejection:
    """One JSONL line (bytes, without the newline) to a post or a rejection."""
    if len(raw) > max_record_bytes:
        return Rejection("too_large", f"the record is {len(raw):,} bytes; the limit is {max_record_bytes:,}")
    try:
        line = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        return Rejection("invalid_utf8", f"the line is not valid UTF-8 (byte {err.start}: {raw[err.start:err.start+1]!r})")
    try:
        record = json.loads(line)
    except (ValueError, RecursionError) as err:
        return Rejection("invalid_json", f"the line is not valid JSON: {str(err)[:120]}")
    return validate_record(record, default_content_type=default_content_type, max_text_chars=max_text_chars,
                           may_hold_bad_chars="\x00" in line or bool(_RISKY_ESCAPE.search(line)))
