"""``LLMClient``: the one place that talks to an OpenAI-compatible endpoint (OpenAI, vLLM, Ollama, llama.cpp).

Retries are explicit and happen in exactly one loop, this one: the SDK is always built (or re-optioned)
with ``max_retries=0``, and ``_send`` retries 408/409/429/5xx, timeouts and connection errors with
exponential backoff and jitter, honouring ``Retry-After``. When they run out it raises
``LLMUnavailable``, the signal for the caller (a Celery task) to retry later; posts stay unclassified,
never get a made-up verdict. Inside a task, pass ``max_retries=0`` to leave all retrying to the task.

An answer that is not a valid ``Verdict`` (malformed JSON, out of range, cut at the token limit) or a
refusal is asked ``parse_attempts`` times in all, then returned with status ``invalid``/``refused``.

The response cache lives in the database, not in this object: ``cached_verdict`` finds an earlier llm
``Detection`` (each written only after a successful ``LLMCall``) on a post with the same normalized-text
hash, for the same prompt version and model. No new table, and the cache survives restarts and is
shared by all workers. The daily budget is the sum of today's (UTC) ``LLMCall.cost_usd``.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, time as dtime, timezone
from typing import Any, Callable, Mapping

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from detector.extras import require
from detector.llm.completions import (RESPONSE_FORMATS, read_completion, response_format_for, usage_of,
                                      with_schema_instruction)
from detector.llm.models import LLMCall

log = logging.getLogger(__name__)

DEFAULT_PROFILE_MODEL = "gpt-4.1"
DEFAULT_CLASSIFY_MODEL = "gpt-4.1-mini"
# USD per million (input, output) tokens; list prices of 2025. Override with ``prices=``.
DEFAULT_PRICES: dict[str, tuple[float, float]] = {
    "gpt-4.1": (2.00, 8.00), "gpt-4.1-mini": (0.40, 1.60), "gpt-4.1-nano": (0.10, 0.40),
    "gpt-4o": (2.50, 10.00), "gpt-4o-mini": (0.15, 0.60),
    "gpt-5": (1.25, 10.00), "gpt-5-mini": (0.25, 2.00), "gpt-5-nano": (0.05, 0.40),
}


class LLMError(Exception):
    """Base of the LLM path's errors."""


class LLMDisabled(LLMError):
    """No endpoint is configured: the path is off, and posts wait for one."""


class LLMUnavailable(LLMError):
    """The endpoint failed transiently (429, 5xx, timeout, connection) after every retry: retry later."""


class LLMRequestError(LLMError):
    """The endpoint refused the request itself (auth, unknown model, quota): retrying will not help."""


class BudgetExceeded(LLMError):
    """Today's spend reached the daily budget: no call is made until tomorrow (UTC) or a higher budget."""


class Verdict(BaseModel):
    """The structured answer of stage 2. ``reason`` comes first: models write fields in schema order,
    so the decision is made after the stated evidence, not rationalised after it."""

    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=2000)
    is_professional_seller: bool
    confidence: float = Field(ge=0.0, le=1.0)


@dataclass
class CallResult:
    """One logical call (all its attempts): what it cost and what came back."""

    status: str  # ok | refused | invalid
    model: str
    value: Any = None  # Verdict (classify) or str (profile) when ok
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    latency_ms: float = 0.0
    attempts: int = 0
    error: str | None = None

    def as_row(self, *, stage: str, post_id: int | None = None, prompt_version_id: int | None = None) -> LLMCall:
        return LLMCall(stage=stage, post_id=post_id, prompt_version_id=prompt_version_id, model=self.model,
                       prompt_tokens=self.prompt_tokens, completion_tokens=self.completion_tokens,
                       cost_usd=self.cost_usd, latency_ms=self.latency_ms, cache_hit=False,
                       status=self.status, error=self.error)


def endpoint_configured(settings) -> bool:
    return bool(settings.llm_base_url or (settings.llm_api_key and settings.llm_api_key.get_secret_value()))


class LLMClient:
    def __init__(self, *, base_url: str | None = None, api_key: str | None = None,
                 profile_model: str = DEFAULT_PROFILE_MODEL, classify_model: str = DEFAULT_CLASSIFY_MODEL,
                 timeout_s: float = 30.0, profile_timeout_s: float = 300.0, max_retries: int = 3,
                 backoff_s: float = 1.0, backoff_max_s: float = 30.0, parse_attempts: int = 2,
                 concurrency: int = 4, daily_budget_usd: float | None = None,
                 prices: Mapping[str, tuple[float, float]] | None = None, temperature: float | None = None,
                 response_format: str = "json_schema",
                 openai_client=None, sleep: Callable[[float], None] = time.sleep):
        self._openai = require("openai", extra="llm", purpose="The LLM path")
        if openai_client is None:
            openai_client = self._openai.OpenAI(base_url=base_url, api_key=api_key or "unused", timeout=timeout_s)
        self.sdk = openai_client.with_options(max_retries=0)  # our loop is the only retry loop
        self.profile_model, self.classify_model = profile_model, classify_model
        self.timeout_s, self.profile_timeout_s = timeout_s, profile_timeout_s
        self.max_retries, self.backoff_s, self.backoff_max_s = max_retries, backoff_s, backoff_max_s
        self.parse_attempts, self.concurrency = max(1, parse_attempts), max(1, concurrency)
        self._slots = threading.BoundedSemaphore(self.concurrency)  # per process, shared by all threads
        self.daily_budget_usd, self.prices = daily_budget_usd, dict(DEFAULT_PRICES if prices is None else prices)
        self.temperature, self.sleep, self._rng, self._unpriced = temperature, sleep, random.Random(), set()
        if response_format not in RESPONSE_FORMATS:  # fail at construction, not at the first post
            raise ValueError(f"unknown response format {response_format!r}: one of {', '.join(RESPONSE_FORMATS)}")
        self.response_format = response_format

    # -- costs and budget --------------------------------------------------------------------------
    def price(self, model: str) -> tuple[float, float]:
        """Exact name first, then the longest listed prefix (``gpt-4.1-mini-2025-04-14``); unknown: free."""
        for name in sorted(self.prices, key=len, reverse=True):
            if model == name or model.startswith(name + "-"):
                return self.prices[name]
        if model not in self._unpriced:
            self._unpriced.add(model)
            log.warning("no price for model %r: its calls count as $0 against the daily budget", model)
        return (0.0, 0.0)

    def cost(self, model: str, prompt_tokens: int, completion_tokens: int) -> float:
        per_in, per_out = self.price(model)
        return (prompt_tokens * per_in + completion_tokens * per_out) / 1_000_000

    def ensure_budget(self, session: Session, *, now: datetime | None = None) -> float:
        """Today's spend; raises ``BudgetExceeded`` when it has reached the budget."""
        spent = spent_today(session, now=now)
        if self.daily_budget_usd is not None and spent >= self.daily_budget_usd:
            raise BudgetExceeded(f"LLM spend today is ${spent:.4f}, at or over the daily budget of "
                                 f"${self.daily_budget_usd:.2f}; calls resume tomorrow (UTC) or with a higher budget")
        return spent

    # -- request bodies (shared by online calls and Batch API input lines) ----------------------------
    def request_body(self, model: str, messages: list[dict], response_format: type[BaseModel] | None) -> dict:
        """The exact JSON body of one chat completion; the online call and a batch line both send this."""
        body: dict = {"model": model, "messages": messages}
        if response_format is not None:
            body["response_format"] = response_format_for(response_format, self.response_format)
            if self.response_format != "json_schema":
                body["messages"] = with_schema_instruction(messages, response_format)
        if self.temperature is not None:
            body["temperature"] = self.temperature
        return body

    def classify_body(self, messages: list[dict], *, model: str | None = None) -> dict:
        return self.request_body(model or self.classify_model, messages, Verdict)

    # -- calls ---------------------------------------------------------------------------------------
    def classify(self, messages: list[dict]) -> CallResult:
        """Stage 2: a ``Verdict`` via structured output, asked again on a malformed answer or refusal."""
        return self._call(self.classify_model, messages, Verdict, self.timeout_s)

    def generate(self, messages: list[dict], *, model: str | None = None) -> CallResult:
        """Stage 1: free text (the profile) from the strong model."""
        return self._call(model or self.profile_model, messages, None, self.profile_timeout_s)

    def classify_many(self, batches: list[list[dict]]) -> list[CallResult | LLMError]:
        """``classify`` each, ``concurrency`` at a time; an ``LLMError`` is returned in its place, not raised."""
        def one(messages):
            try:
                return self.classify(messages)
            except LLMError as err:
                return err
        if len(batches) <= 1:
            return [one(m) for m in batches]
        with ThreadPoolExecutor(max_workers=min(self.concurrency, len(batches))) as pool:
            return list(pool.map(one, batches))

    def _call(self, model: str, messages: list[dict], response_format, timeout: float) -> CallResult:
        result = CallResult(status="invalid", model=model)
        body = self.request_body(model, messages, response_format)
        for _ in range(self.parse_attempts):
            raw, latency_ms = self._send(body, timeout)
            result.attempts += 1
            result.latency_ms += latency_ms
            try:
                answer = raw.http_response.json()
            except ValueError as err:
                answer = None
                status, value, error = "invalid", None, f"malformed answer: {type(err).__name__}"
            else:
                status, value, error = read_completion(answer, response_format)
            self._add_usage(result, answer)
            result.status, result.value, result.error = status, value, error
            if status == "ok":
                break
            log.info("LLM %s answered %s (%s); asking again", model, status, error)
        return result

    def _add_usage(self, result: CallResult, answer) -> None:
        """Tokens from the raw body: they are billed even when the answer then fails to parse."""
        pt, ct = usage_of(answer)
        result.prompt_tokens, result.completion_tokens = result.prompt_tokens + pt, result.completion_tokens + ct
        result.cost_usd += self.cost(result.model, pt, ct)

    def _send(self, body: dict, timeout: float):
        """One chat completion, retried on transient failures; returns the SDK's raw response and its latency."""
        def send():
            with self._slots:
                started = time.perf_counter()
                raw = self.sdk.chat.completions.with_raw_response.create(**body, timeout=timeout)
                return raw, (time.perf_counter() - started) * 1000
        return self.call_api(body["model"], send)

    def call_api(self, what: str, fn: Callable[[], Any]) -> Any:
        """``fn()`` (any SDK call), retried on 408/409/429/5xx, timeouts and connection errors.

        Raises ``LLMUnavailable`` when retries run out and ``LLMRequestError`` on a request the
        endpoint refused (auth, unknown model, quota, a 404 from a server without that route)."""
        openai = self._openai
        for attempt in range(self.max_retries + 1):
            try:
                return fn()
            except openai.APIConnectionError as err:  # includes APITimeoutError
                failure = err
            except openai.APIStatusError as err:
                transient = err.status_code in (408, 409, 429) or err.status_code >= 500
                if not transient or getattr(err, "code", None) == "insufficient_quota":
                    raise LLMRequestError(f"{what}: HTTP {err.status_code}: {str(err)[:300]}") from err
                failure = err
            if attempt >= self.max_retries:
                raise LLMUnavailable(f"{what}: {_describe(failure)} (after {attempt + 1} attempts)") from failure
            delay = self._delay(attempt, failure)
            log.warning("LLM %s: %s; retrying in %.1f s", what, _describe(failure), delay)
            self.sleep(delay)
        raise AssertionError("unreachable")  # the last attempt returns or raises

    def _delay(self, attempt: int, err: Exception) -> float:
        response = getattr(err, "response", None)
        headers = response.headers if response is not None else {}
        for key, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
            if str(headers.get(key, "")).replace(".", "", 1).isdigit():
                return min(self.backoff_max_s, float(headers[key]) * scale)
        return min(self.backoff_max_s, self.backoff_s * 2 ** attempt) * (0.5 + 0.5 * self._rng.random())


def _describe(err: Exception) -> str:
    status = getattr(err, "status_code", None)
    return f"HTTP {status}" if status else type(err).__name__


def spent_today(session: Session, *, now: datetime | None = None) -> float:
    """Sum of ``LLMCall.cost_usd`` since midnight UTC."""
    now = now or datetime.now(timezone.utc)
    start = datetime.combine(now.astimezone(timezone.utc).date(), dtime(0), tzinfo=timezone.utc)
    return float(session.scalar(select(func.coalesce(func.sum(LLMCall.cost_usd), 0.0))
                                .where(LLMCall.created_at >= start)) or 0.0)


def cached_verdict(session: Session, *, text_sha256: str | None, prompt_version_id: int, model: str) -> Verdict | None:
    """The verdict already given to the same normalized text by this prompt version and model, if any."""
    from detector.posts.models import Post
    from detector.review.models import Detection

    if not text_sha256:
        return None
    row = session.execute(
        select(Detection.is_positive, Detection.score, Detection.reason).join(Post, Post.id == Detection.post_id)
        .where(Post.normalized_sha256 == text_sha256, Detection.path == "llm",
               Detection.prompt_version_id == prompt_version_id, Detection.model == model)
        .order_by(Detection.id).limit(1)).first()
    if row is None:
        return None
    return Verdict(is_professional_seller=row.is_positive, confidence=row.score or 0.0, reason=row.reason)


def make_client(settings, **overrides) -> LLMClient:
    """The client from settings (``llm_*``; names not yet in ``Settings`` fall back to defaults)."""
    if not endpoint_configured(settings) and not overrides.get("base_url"):
        raise LLMDisabled("the LLM path is disabled: set DETECTOR_LLM_BASE_URL (any OpenAI-compatible "
                          "server) and/or DETECTOR_LLM_API_KEY (api.openai.com)")
    key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else None
    options = {"base_url": settings.llm_base_url, "api_key": key}
    for name, setting in (("profile_model", "llm_profile_model"), ("classify_model", "llm_classify_model"),
                          ("timeout_s", "llm_timeout_s"), ("max_retries", "llm_max_retries"),
                          ("concurrency", "llm_concurrency"), ("daily_budget_usd", "llm_daily_budget_usd"),
                          ("prices", "llm_prices"), ("response_format", "llm_response_format")):
        value = getattr(settings, setting, None)
        if value is not None and value != {}:
            options[name] = {k: tuple(v) for k, v in value.items()} if name == "prices" else value
    options["prices"] = {**DEFAULT_PRICES, **options.get("prices", {})}
    options.update({k: v for k, v in overrides.items() if v is not None})
    return LLMClient(**options)
