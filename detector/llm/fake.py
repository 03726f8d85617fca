"""A scripted, deterministic stand-in for an OpenAI-compatible chat endpoint, for tests and the offline demo.

``FakeLLM`` answers ``POST .../chat/completions`` with the wire shapes the real API uses (a
``chat.completion`` object with ``usage``; structured output as JSON text in ``message.content``; a
refusal as ``content: null`` plus ``message.refusal``; errors as ``{"error": {...}}``). The same core is
served two ways: ``fake.transport()`` for ``httpx2.MockTransport`` (in-process, no socket) and
``FakeLLMServer`` on 127.0.0.1 for the real SDK over HTTP (the CLI, a demo: ``--base-url``).

Its "model" is a few surface rules, on purpose: a profile request (no ``response_format``) returns a
profile whose last line lists the style features that separate the seller examples from the normal
ones; a classify request (with ``response_format``) flags a post that shows one of the features listed
in the profile it was given. So a profile built from good examples scores better than one built from
bad ones, which is what the evaluation gate needs to be tested. Faults are scripted with ``fail_next``
(one-shot, in order) or ``fail_always``: 429, 500, timeout, malformed, refusal, length.

The same fake serves the Files and Batches API (``fake.batches``, see ``fake_batch``): uploaded
request lines are answered by these rules and this fault script when the batch finishes.
"""

from __future__ import annotations

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from detector.llm.fake_batch import FakeBatchAPI

FAULTS = ("429", "500", "timeout", "malformed", "refusal", "length")
FEATURES = {
    "link": re.compile(r"https?://|www\.|\b[a-z0-9-]+\.(?:com|net|co\.kr|kr|ly|me|io)\b", re.I),
    "phone": re.compile(r"\d[\d\-. ]{6,}\d"),
    "money": re.compile(r"[£$€₩]\s?\d|\d\s?(?:원|만원|won\b|p\b)|\bcash\b|\bprize\b", re.I),
    "shouting": re.compile(r"!{2,}|\b[A-Z]{4,}\b"),
    "call_to_action": re.compile(r"\b(?:call|txt|text|reply|claim|click|subscribe|check out|visit|win|free)\b"
                                 r"|문의|연락|카톡|클릭|가입|상담|무료|이벤트|지급", re.I),
    "ad_marker": re.compile(r"\(광고\)|\[web발신\]|\[국제발신\]", re.I),
}
_SIGNALS = re.compile(r"^FAKE_SIGNALS: ?(.*)$", re.M)
_POST = re.compile(r"<post[^>]*>\n?(.*?)\n?</post>", re.S)


def features(text: str) -> set[str]:
    return {name for name, pattern in FEATURES.items() if pattern.search(text)}


def completion_body(content: str | None, *, model: str, refusal: str | None = None, finish_reason: str = "stop",
                    prompt_tokens: int = 0, completion_tokens: int = 0) -> dict:
    """A ``chat.completion`` object as the API returns it."""
    return {
        "id": f"chatcmpl-fake{int(time.time() * 1e6)}", "object": "chat.completion", "created": int(time.time()),
        "model": model, "system_fingerprint": "fp_fake", "service_tier": "default",
        "choices": [{"index": 0, "logprobs": None, "finish_reason": finish_reason,
                     "message": {"role": "assistant", "content": content, "refusal": refusal, "annotations": []}}],
        "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                  "total_tokens": prompt_tokens + completion_tokens,
                  "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
                  "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0,
                                                "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0}},
    }


def error_body(status: int) -> dict:
    if status == 429:
        return {"error": {"message": "Rate limit reached for requests", "type": "requests", "param": None,
                          "code": "rate_limit_exceeded"}}
    return {"error": {"message": "The server had an error while processing your request.", "type": "server_error",
                      "param": None, "code": None}}


class FakeLLM:
    """The rules and the fault script; thread-safe; records every request body in ``requests``."""

    def __init__(self, *, timeout_delay_s: float = 1.0, batch_complete_after: int = 1):
        self.requests: list[dict] = []
        self.batches = FakeBatchAPI(self, complete_after=batch_complete_after)
        self.timeout_delay_s = timeout_delay_s
        self._faults: list[str] = []
        self._always: str | None = None
        self._lock = threading.Lock()

    def fail_next(self, *kinds: str) -> FakeLLM:
        assert all(k in FAULTS for k in kinds), kinds
        with self._lock:
            self._faults.extend(kinds)
        return self

    def fail_always(self, kind: str | None) -> FakeLLM:
        assert kind is None or kind in FAULTS
        self._always = kind
        return self

    def answer(self, payload: dict) -> tuple[int, dict, str | None]:
        """``(status, body, fault)``; the fault ``timeout`` is left to the transport to enact."""
        with self._lock:
            self.requests.append(payload)
            fault = self._faults.pop(0) if self._faults else self._always
        model = str(payload.get("model", "fake"))
        if fault in ("429", "500"):
            return int(fault), error_body(int(fault)), fault
        messages = payload.get("messages") or []
        system = next((m.get("content") or "" for m in messages if m.get("role") == "system"), "")
        user = next((m.get("content") or "" for m in messages if m.get("role") == "user"), "")
        tokens_in = sum(len(str(m.get("content") or "")) for m in messages) // 4 + 1
        if fault == "refusal":
            return 200, completion_body(None, model=model, refusal="I'm sorry, I can't help with that request.",
                                        prompt_tokens=tokens_in, completion_tokens=9), fault
        content = self._profile(user) if payload.get("response_format") is None else self._verdict(system, user)
        if fault == "malformed":
            content = content[: max(1, len(content) // 2)]  # cut mid-JSON, as a truncated answer looks
        finish = "length" if fault == "length" else "stop"
        return 200, completion_body(content, model=model, finish_reason=finish, prompt_tokens=tokens_in,
                                    completion_tokens=len(content) // 4 + 1), fault

    @staticmethod
    def _profile(user: str) -> str:
        def shares(tag: str) -> dict[str, float]:
            block = re.search(f"<{tag}>(.*?)</{tag}>", user, re.S)
            posts = _POST.findall(block[1]) if block else []
            return {f: sum(f in features(p) for p in posts) / max(1, len(posts)) for f in FEATURES}

        seller, normal = shares("seller_examples"), shares("normal_examples")
        ranked = sorted((f for f in FEATURES if seller[f] - normal[f] >= 0.15), key=lambda f: normal[f] - seller[f])
        listed = ", ".join(ranked) or "none"
        return ("## Professional sellers\nWrite reusable, impersonal offers that steer the reader to act.\n\n"
                "## Ordinary users\nWrite once, conversationally, about their own situation.\n\n"
                f"## Distinguishing signals (strongest first)\n{listed}\n\n"
                "## Not evidence on its own\nA tidy format; selling several things.\n\n"
                f"FAKE_SIGNALS: {','.join(ranked)}")

    @staticmethod
    def _verdict(system: str, user: str) -> str:
        listed = _SIGNALS.search(system)
        signals = {s for s in (listed[1].split(",") if listed else []) if s}
        post = _POST.search(user)
        hits = sorted(signals & features(post[1] if post else ""))
        verdict = {"reason": f"Seller style signals: {', '.join(hits)}." if hits else "No seller style signal.",
                   "is_professional_seller": bool(hits),
                   "confidence": round(min(0.95, 0.6 + 0.15 * len(hits)), 2) if hits else 0.7}
        return json.dumps(verdict)

    def route(self, method: str, url: str, content_type: str, body: bytes) -> tuple[int, object, dict, str | None]:
        """``(status, JSON object or bytes, headers, fault)`` for one HTTP request to the fake."""
        split = urlsplit(url)
        if split.path.endswith("/chat/completions") and method == "POST":
            try:
                payload = json.loads(body or b"{}")
            except ValueError:
                return 400, {"error": {"message": "invalid JSON body", "type": "invalid_request_error"}}, {}, None
            status, answer, fault = self.answer(payload)
            return status, answer, {"retry-after-ms": "10"} if status == 429 else {}, fault
        status, answer = self.batches.handle(method, split.path, dict(parse_qsl(split.query)), content_type, body)
        return status, answer, {}, None

    def transport(self):
        """An ``httpx2.MockTransport`` serving this fake in-process (a timeout raises ``ReadTimeout``)."""
        import httpx2

        def handle(request):
            status, body, headers, fault = self.route(request.method, str(request.url),
                                                      request.headers.get("content-type", ""), request.read())
            if fault == "timeout":
                raise httpx2.ReadTimeout("fake timeout", request=request)
            if isinstance(body, bytes):
                return httpx2.Response(status, content=body, headers={"content-type": "application/octet-stream"})
            return httpx2.Response(status, json=body, headers=headers)

        return httpx2.MockTransport(handle)


class FakeLLMServer:
    """``FakeLLM`` over HTTP on 127.0.0.1:<free port>; ``base_url`` ends in ``/v1``."""

    def __init__(self, fake: FakeLLM | None = None, *, port: int = 0):
        self.fake = fake or FakeLLM()
        handler = type("Handler", (_Handler,), {"fake": self.fake})
        self._server = ThreadingHTTPServer(("127.0.0.1", port), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="fake-llm", daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def start(self) -> FakeLLMServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeLLMServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


class _Handler(BaseHTTPRequestHandler):
    fake: FakeLLM
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:  # keep test output clean
        pass

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self._route("GET", b"")

    def do_POST(self) -> None:  # noqa: N802
        self._route("POST", self.rfile.read(int(self.headers.get("Content-Length") or 0)))

    def _route(self, method: str, raw: bytes) -> None:
        status, body, headers, fault = self.fake.route(method, self.path, self.headers.get("Content-Type", ""), raw)
        if fault == "timeout":
            time.sleep(self.fake.timeout_delay_s)
        self._send(status, body, headers)

    def _send(self, status: int, body: dict | bytes, headers: dict | None = None) -> None:
        binary = isinstance(body, bytes)
        data = body if binary else json.dumps(body, ensure_ascii=False).encode("utf-8")
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/octet-stream" if binary else "application/json")
            self.send_header("Content-Length", str(len(data)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (an injected timeout)
            self.close_connection = True
