"""A local HTTP fake of the Slack Web API methods sellerwatch uses, for the real slack_sdk client.

Wire format as slack_sdk 3.47 sends and reads it (``slack_sdk/web/base_client.py``): every method
is a POST to ``<base_url><method>`` with ``Authorization: Bearer xoxb-...``; ``chat.*`` bodies are
JSON, ``conversations.history`` is form-encoded (booleans as ``1``/``0``), and an empty JSON body
is valid. Answers are HTTP 200 with ``{"ok": false, "error": ...}`` for API errors, as Slack does;
only injected faults use other statuses (429 with ``Retry-After``, 5xx with a non-JSON body).

Fidelity kept on purpose: ``ts`` strings grow with the wall clock; message metadata is stored and
returned by ``conversations.history`` only with ``include_all_metadata``; history is newest first,
``oldest`` is exclusive, pages carry ``next_cursor``; a few Block Kit limits are enforced
(``invalid_blocks``) so an over-long message fails here as it would in Slack. ``hang_next`` stores
the message and then delays the answer: Slack got it, the client timed out; ``lose_answer_next``
does the call and answers 5xx: Slack did the work, its gateway failed. ``outage`` answers every call
with one status until lifted; ``stop()`` and ``start(port=slack.port)`` refuse connections for a
while and keep the channels.

    with FakeSlack() as slack:
        client = make_client(slack.token, base_url=slack.base_url)
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

from tests.fakes.http_base import ThreadedHTTPFake

BLOCK_TYPES = {"header", "section", "actions", "context", "divider"}


class FakeSlack(ThreadedHTTPFake):
    """Slack Web API on 127.0.0.1:<random port>, served from a background thread."""

    def __init__(self, *, token: str = "xoxb-test"):
        super().__init__(_Handler, name="fake-slack")
        self.token = token
        self.lock = threading.Lock()
        self.calls: Counter[str] = Counter()
        self.requests: list[tuple[str, dict]] = []  # (method, decoded arguments)
        self.channels: dict[str, list[dict]] = {}  # channel -> messages, oldest first
        self.ephemeral: list[dict] = []
        self._faults: list[tuple[int, float | None, str | None]] = []
        self._hangs: list[float] = []
        self._lost: list[tuple[int, str | None]] = []
        self._outage: int | None = None
        self._last_ts = 0.0

    # -- test helpers ------------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/"

    def fail_next(self, status: int, count: int = 1, retry_after: float | None = None,
                  method: str | None = None) -> None:
        """Answer the next ``count`` calls (of ``method``, if given) with HTTP ``status``."""
        with self.lock:
            self._faults.extend([(status, retry_after, method)] * count)

    def outage(self, status: int | None) -> None:
        """Answer every call with HTTP ``status`` (doing nothing) until ``outage(None)``."""
        with self.lock:
            self._outage = status

    def lose_answer_next(self, status: int = 503, method: str | None = None) -> None:
        """Do the next call (of ``method``, if given), then answer HTTP ``status`` instead of the result."""
        with self.lock:
            self._lost.append((status, method))

    def hang_next(self, seconds: float) -> None:
        """Process the next call, then wait ``seconds`` before answering it."""
        with self.lock:
            self._hangs.append(seconds)

    def count(self, method: str) -> int:
        return self.calls[method]

    def messages(self, channel: str) -> list[dict]:
        with self.lock:
            return [dict(m) for m in self.channels.get(channel, [])]

    # -- request handling (called from handler threads) ---------------------------------------------
    def handle(self, path: str, headers, body: bytes) -> tuple[int, dict | str, dict, float]:
        parts = urlsplit(path)
        method = parts.path.rsplit("/", 1)[-1]
        with self.lock:
            self.calls[method] += 1
            if self._outage is not None:
                return self._outage, f"outage {self._outage}", {}, 0.0
            for i, (status, retry_after, only) in enumerate(self._faults):
                if only in (None, method):
                    del self._faults[i]
                    if status == 429:
                        extra = {"Retry-After": str(retry_after)} if retry_after is not None else {}
                        return 429, {"ok": False, "error": "ratelimited"}, extra, 0.0
                    return status, f"injected {status}", {}, 0.0
            hang = self._hangs.pop(0) if self._hangs else 0.0
            auth = headers.get("Authorization") or ""
            if not auth.startswith("Bearer "):
                return 200, {"ok": False, "error": "not_authed"}, {}, hang
            if auth != f"Bearer {self.token}":
                return 200, {"ok": False, "error": "invalid_auth"}, {}, hang
            try:
                args = _decode(headers.get("Content-Type") or "", body, parts.query)
            except ValueError:
                return 200, {"ok": False, "error": "invalid_json"}, {}, hang
            self.requests.append((method, args))
            route = {"auth.test": self._auth_test, "chat.postMessage": self._post,
                     "chat.update": self._update, "conversations.history": self._history,
                     "chat.postEphemeral": self._ephemeral}.get(method)
            if route is None:
                return 200, {"ok": False, "error": "unknown_method"}, {}, hang
            result = route(args)
            for i, (status, only) in enumerate(self._lost):
                if only in (None, method):
                    del self._lost[i]
                    return status, f"injected {status} after the call took effect", {}, hang
            return 200, result, {}, hang

    def _auth_test(self, _args: dict) -> dict:
        return {"ok": True, "url": "https://sellerwatch-test.slack.com/", "team": "sellerwatch",
                "user": "sellerwatch", "team_id": "T0TEST", "user_id": "U0BOT", "bot_id": "B0BOT",
                "is_enterprise_install": False}

    def _post(self, args: dict) -> dict:
        channel, blocks, metadata = args.get("channel"), args.get("blocks"), args.get("metadata")
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        if not args.get("text") and not blocks:
            return {"ok": False, "error": "no_text"}
        if blocks is not None and (error := _block_error(blocks)):
            return {"ok": False, "error": "invalid_blocks", "errors": [error]}
        if metadata is not None and not (isinstance(metadata, dict) and metadata.get("event_type")
                                         and isinstance(metadata.get("event_payload"), dict)):
            return {"ok": False, "error": "invalid_metadata_format"}
        self._last_ts = max(time.time(), self._last_ts + 0.000001)
        message = {"type": "message", "user": "U0BOT", "bot_id": "B0BOT", "app_id": "A0TEST",
                   "text": args.get("text") or "", "ts": f"{self._last_ts:.6f}"}
        if blocks is not None:
            message["blocks"] = blocks
        if metadata is not None:
            message["metadata"] = metadata
        self.channels.setdefault(channel, []).append(message)
        return {"ok": True, "channel": channel, "ts": message["ts"], "message": _public(message)}

    def _update(self, args: dict) -> dict:
        channel, ts, blocks = args.get("channel"), args.get("ts"), args.get("blocks")
        found = next((m for m in self.channels.get(channel or "", []) if m["ts"] == ts), None)
        if found is None:
            return {"ok": False, "error": "message_not_found"}
        if blocks is not None and (error := _block_error(blocks)):
            return {"ok": False, "error": "invalid_blocks", "errors": [error]}
        if blocks is not None:
            found["blocks"] = blocks
        if args.get("text") is not None:
            found["text"] = args["text"]
        found["edited"] = {"user": "U0BOT", "ts": f"{time.time():.6f}"}
        return {"ok": True, "channel": channel, "ts": ts, "text": found["text"], "message": _public(found)}

    def _history(self, args: dict) -> dict:
        channel = args.get("channel")
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        oldest, latest = float(args.get("oldest") or 0), float(args.get("latest") or "inf")
        limit, offset = int(args.get("limit") or 100), int(args.get("cursor") or 0)
        with_metadata = str(args.get("include_all_metadata")).lower() in ("1", "true")
        found = [m for m in reversed(self.channels.get(channel, [])) if oldest < float(m["ts"]) <= latest]
        page = found[offset:offset + limit]
        more = offset + limit < len(found)
        messages = [m if with_metadata else _public(m) for m in page]
        return {"ok": True, "messages": [dict(m) for m in messages], "has_more": more,
                "response_metadata": {"next_cursor": str(offset + limit) if more else ""}}

    def _ephemeral(self, args: dict) -> dict:
        self.ephemeral.append(args)
        return {"ok": True, "message_ts": f"{time.time():.6f}"}


def _decode(content_type: str, body: bytes, query: str) -> dict:
    """JSON or form body (plus query string), with JSON-valued form fields (blocks, metadata) decoded."""
    args: dict = {k: v[-1] for k, v in parse_qs(query).items()}
    if content_type.startswith("application/json"):
        decoded = json.loads(body or b"{}")
        if not isinstance(decoded, dict):
            raise ValueError("body is not an object")
        args.update(decoded)
    elif body:
        args.update({k: v[-1] for k, v in parse_qs(body.decode()).items()})
    for key in ("blocks", "metadata"):
        if isinstance(args.get(key), str):
            args[key] = json.loads(args[key])
    return args


def _public(message: dict) -> dict:
    return {k: v for k, v in message.items() if k != "metadata"}


def _block_error(blocks) -> str | None:
    """The first Block Kit rule (of the few checked) that ``blocks`` break, or None."""
    if not isinstance(blocks, list) or len(blocks) > 50:
        return "must be a list of at most 50 blocks"
    for i, block in enumerate(blocks):
        kind = block.get("type") if isinstance(block, dict) else None
        if kind not in BLOCK_TYPES:
            return f"[{i}] unknown block type {kind!r}"
        text = (block.get("text") or {}).get("text", "")
        if kind == "header" and (block["text"].get("type") != "plain_text" or len(text) > 150):
            return f"[{i}] header must be plain_text of at most 150 characters"
        if kind == "section" and (len(text) > 3000 or len(block.get("fields") or []) > 10
                                  or any(len(f.get("text", "")) > 2000 for f in block.get("fields") or [])):
            return f"[{i}] section text over 3000 characters or more than 10 fields / field over 2000"
        if kind == "actions":
            for element in block.get("elements") or []:
                if (len(element.get("text", {}).get("text", "")) > 75 or len(element.get("value", "")) > 2000
                        or len(element.get("url", "")) > 3000 or not element.get("action_id")):
                    return f"[{i}] button text over 75, value over 2000, url over 3000 or no action_id"
        if kind == "context" and len(block.get("elements") or []) > 10:
            return f"[{i}] context with more than 10 elements"
    return None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    fake: FakeSlack
    timeout = 30
    disable_nagle_algorithm = True

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        status, payload, extra, hang = self.fake.handle(self.path, self.headers, body)
        if hang:
            time.sleep(hang)
        is_json = isinstance(payload, dict)
        data = (json.dumps(payload) if is_json else payload).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8" if is_json else "text/plain")
            self.send_header("Content-Length", str(len(data)))
            for key, value in extra.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (hang_next)
            self.close_connection = True

    do_GET = do_POST

    def log_message(self, format, *args):
        pass
