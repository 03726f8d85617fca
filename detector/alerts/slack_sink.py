"""The Slack Web API calls the alert outbox needs, with Slack's failures sorted into three kinds.

``SlackRateLimited`` (429: wait ``retry_after`` seconds) and ``SlackUnavailable`` (5xx, timeouts,
refused connections: try again later) are transient; ``SlackRejected`` (a bad channel, a revoked
token, invalid blocks) will fail the same way every time. The client is built without slack_sdk's
retry handlers: retrying is the outbox's job, so that every attempt is counted in the database and
a retried post is first looked for in the channel (``find_posted``) instead of being sent twice.

Each alert message carries Slack message metadata naming its alert id, which is how a worker that
died between posting and recording the ``ts`` finds the message again.
"""

from __future__ import annotations

import http.client
from collections.abc import Iterator
from contextlib import contextmanager

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

EVENT_TYPE = "sellerwatch_alert"
HISTORY_PAGE = 200
HISTORY_MAX_PAGES = 10
# Slack's documented "try again" errors that come with an HTTP 200.
_TRANSIENT_ERRORS = {"internal_error", "fatal_error", "service_unavailable", "request_timeout"}


class SlackError(Exception):
    """A Slack call failed; the message names the method and Slack's error code, never the token."""


class SlackTransient(SlackError, ConnectionError):
    """Try again later. A ``ConnectionError``, so the task envelope's ``is_transient`` retries it."""


class SlackRateLimited(SlackTransient):
    """Slack answered 429: nothing was done; try again after ``retry_after`` seconds."""

    def __init__(self, message: str, retry_after: float):
        super().__init__(message)
        self.retry_after = retry_after


class SlackUnavailable(SlackTransient):
    """Slack could not be reached or failed on its side; the call may or may not have taken effect."""


class SlackRejected(SlackError):
    """Slack refused the call for a reason that retrying will not change."""


def make_client(token: str, base_url: str | None = None, timeout: int = 10) -> WebClient:
    """A WebClient with a short timeout and no retry handlers (see the module docstring)."""
    kwargs = {"base_url": base_url} if base_url else {}
    return WebClient(token=token, timeout=timeout, retry_handlers=[], **kwargs)


class SlackSink:
    """Posts, edits and finds alert messages in one channel (a channel id: ``chat.update`` needs one)."""

    def __init__(self, client: WebClient, channel: str):
        self.client = client
        self.channel = channel

    def post(self, alert_id: int | None, blocks: list[dict], text: str) -> str:
        """Post a message and return its ``ts``. A message without an alert id carries no metadata."""
        metadata = None
        if alert_id is not None:
            metadata = {"event_type": EVENT_TYPE, "event_payload": {"alert_id": alert_id}}
        with _mapped("chat.postMessage"):
            response = self.client.chat_postMessage(channel=self.channel, blocks=blocks, text=text,
                                                    metadata=metadata, unfurl_links=False, unfurl_media=False)
        return response["ts"]

    def update(self, ts: str, blocks: list[dict], text: str) -> None:
        """Replace the blocks and text of the message ``ts`` (its metadata stays)."""
        with _mapped("chat.update"):
            self.client.chat_update(channel=self.channel, ts=ts, blocks=blocks, text=text)

    def find_posted(self, alert_id: int, oldest_ts: str | None) -> str | None:
        """The ``ts`` of this alert's message posted after ``oldest_ts``, or None if Slack has none."""
        cursor = None
        for _page in range(HISTORY_MAX_PAGES):
            with _mapped("conversations.history"):
                response = self.client.conversations_history(
                    channel=self.channel, oldest=oldest_ts, limit=HISTORY_PAGE, cursor=cursor,
                    include_all_metadata=True)
            for message in response.get("messages") or []:
                metadata = message.get("metadata") or {}
                payload = metadata.get("event_payload") or {}
                if metadata.get("event_type") == EVENT_TYPE and str(payload.get("alert_id")) == str(alert_id):
                    return message.get("ts")
            cursor = (response.get("response_metadata") or {}).get("next_cursor")
            if not response.get("has_more") or not cursor:
                return None
        return None


@contextmanager
def _mapped(method: str) -> Iterator[None]:
    """Translate slack_sdk and socket errors into the three kinds the outbox acts on."""
    try:
        yield
    except SlackApiError as err:
        response = err.response
        status = response.status_code
        data = response.data if isinstance(response.data, dict) else {}
        code = str(data.get("error") or f"HTTP {status}")[:200]
        if status == 429 or code == "ratelimited":
            headers = {k.lower(): v for k, v in (response.headers or {}).items()}
            retry_after = _retry_after(headers.get("retry-after"))
            raise SlackRateLimited(f"{method}: rate limited", retry_after) from None
        if status >= 500 or code in _TRANSIENT_ERRORS:
            raise SlackUnavailable(f"{method}: {code}") from None
        raise SlackRejected(f"{method}: {code}") from None
    except (OSError, http.client.HTTPException) as err:  # URLError, timeouts, resets, bad status lines
        raise SlackUnavailable(f"{method}: {type(err).__name__}: {str(err)[:200]}") from None
    except SlackClientError as err:  # e.g. an invalid URL: configuration, not weather
        raise SlackRejected(f"{method}: {type(err).__name__}: {str(err)[:200]}") from None


def _retry_after(value: object) -> float:
    if isinstance(value, list):
        value = value[0] if value else None
    try:
        return max(0.0, float(value))
    except (TypeError, ValueError):
        return 1.0
