"""Shared HTTP plumbing of the vendor adapters: one httpx client, status -> typed error, retry hints.

Adapters never retry: they turn every failure into `RateLimited`, `TransientError` or
`FatalError` with the vendor's own message, and the agent's `RetryPolicy` decides. What is
retryable follows the official OpenAI/Anthropic SDKs: connection errors, timeouts, 408, 409,
429 and 5xx, overridden by an `x-should-retry: true|false` header.
"""

from __future__ import annotations

import email.utils
import json
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import httpx
from loguru import logger

from agentstage.runtime.errors import FatalError, ProviderError, RateLimited, TransientError
from agentstage.runtime.llm.types import Provider

__all__ = ["HttpProvider", "default_client", "error_for_status", "parse_arguments", "redact", "retry_after_seconds",
           "scrub"]

_SECRET_HEADERS = frozenset({"authorization", "api-key", "x-api-key", "x-goog-api-key"})


def default_client(timeout: float = 600.0, connect_timeout: float = 5.0) -> httpx.Client:
    """An httpx client with the SDKs' defaults: 600 s read, 5 s connect, 1000/100 connection limits."""
    return httpx.Client(
        timeout=httpx.Timeout(timeout, connect=connect_timeout),
        limits=httpx.Limits(max_connections=1000, max_keepalive_connections=100),
    )


def retry_after_seconds(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """The server's retry hint in seconds: `retry-after-ms`, else `retry-after` (seconds or HTTP date)."""
    raw_ms = headers.get("retry-after-ms")
    if raw_ms is not None:
        try:
            return float(raw_ms) / 1000
        except ValueError:
            pass
    raw = headers.get("retry-after")
    if raw is None:
        return None
    try:
        return float(raw)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    return when.timestamp() - (time.time() if now is None else now)


def vendor_message(response: httpx.Response) -> str:
    """The vendor's error message out of an error body (OpenAI, Anthropic, Gemini and Ollama shapes)."""
    try:
        body = response.json()
    except ValueError:
        text = response.text.strip()
        return text[:300] if text else response.reason_phrase or "no body"
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, str):
        return error
    if isinstance(error, dict):
        message = error.get("message") or error.get("type") or json.dumps(error)[:300]
        kind = error.get("type") or error.get("status") or error.get("code")
        return f"{message} ({kind})" if kind and kind != message else str(message)
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        return body["message"]
    return json.dumps(body)[:300]


def error_for_status(provider: str, response: httpx.Response, secrets: tuple[str, ...] = ()) -> ProviderError:
    """The typed error for an HTTP error response (the body must have been read).

    Any of `secrets` a vendor echoes in its message (some quote the key they rejected) becomes `***`.
    """
    status = response.status_code
    text = scrub(f"HTTP {status}: {vendor_message(response)}", secrets)
    should_retry = response.headers.get("x-should-retry", "").lower()
    if should_retry == "true":
        retryable = True
    elif should_retry == "false":
        retryable = False
    else:
        retryable = status in (408, 409, 429) or status >= 500
    if not retryable:
        return FatalError(provider, text, status=status)
    hint = retry_after_seconds(response.headers)
    if status == 429:
        return RateLimited(provider, text, retry_after=hint, status=status)
    return TransientError(provider, text, status=status, retry_after=hint)


def parse_arguments(provider: str, name: str, raw: str | dict[str, Any] | None) -> dict[str, Any]:
    """Tool-call arguments as a dict; vendors send a JSON string (OpenAI) or an object (others)."""
    if raw is None or raw == "":
        return {}
    if isinstance(raw, dict):
        return raw
    try:
        value = json.loads(raw)
    except (TypeError, ValueError):
        value = None
    if not isinstance(value, dict):
        # NOTE: sampling may produce valid arguments on a second try, so this is worth a retry.
        raise TransientError(provider, f"tool call {name!r} has arguments that are not a JSON object: {str(raw)[:120]!r}")
    return value


def scrub(text: str, secrets: tuple[str, ...]) -> str:
    """`text` with every secret replaced by `***`."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def redact(headers: Mapping[str, str]) -> dict[str, str]:
    """Headers safe to log or record: credentials replaced by `***`."""
    return {k: ("***" if k.lower() in _SECRET_HEADERS else v) for k, v in headers.items()}


class HttpProvider(Provider):
    """Base of the vendor adapters: owns (or borrows) one httpx client and maps its failures."""

    name = "http"

    def __init__(self, client: httpx.Client | None = None, *, timeout: float = 600.0,
                 connect_timeout: float = 5.0) -> None:
        self._owns_client = client is None
        self.client = client if client is not None else default_client(timeout, connect_timeout)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(model={getattr(self, 'model', '')!r})"

    @property
    def secrets(self) -> tuple[str, ...]:
        """Credential values in this adapter's `_headers`, scrubbed from error messages."""
        headers: Mapping[str, str] = getattr(self, "_headers", {})
        return tuple(v.removeprefix("Bearer ") for k, v in headers.items() if k.lower() in _SECRET_HEADERS)

    def close(self) -> None:
        if self._owns_client:
            self.client.close()

    def post_json(self, url: str, headers: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
        """POST `body` and return the decoded JSON object; failures become typed errors."""
        logger.debug("{} POST {} headers={}", self.name, url, redact(headers))
        with self._transport_errors():
            response = self.client.post(url, headers=headers, json=body)
        if response.status_code >= 400:
            raise error_for_status(self.name, response, self.secrets)
        try:
            payload = response.json()
        except ValueError:
            raise FatalError(self.name, f"malformed JSON response (HTTP {response.status_code}): "
                                        f"{response.text[:120]!r}", status=response.status_code) from None
        if not isinstance(payload, dict):
            raise FatalError(self.name, f"unexpected response: {response.text[:120]!r}", status=response.status_code)
        return payload

    @contextmanager
    def open_stream(self, url: str, headers: dict[str, str], body: dict[str, Any]) -> Iterator[httpx.Response]:
        """POST `body` for a streamed answer; transport failures while reading become typed errors."""
        logger.debug("{} POST {} (stream) headers={}", self.name, url, redact(headers))
        with self._transport_errors(), self.client.stream("POST", url, headers=headers, json=body) as response:
            if response.status_code >= 400:
                response.read()
                raise error_for_status(self.name, response, self.secrets)
            yield response

    @contextmanager
    def _transport_errors(self) -> Iterator[None]:
        try:
            yield
        except httpx.TimeoutException as exc:
            raise TransientError(self.name, f"request timed out ({type(exc).__name__})") from None
        except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
            raise FatalError(self.name, f"bad API URL: {exc}") from None
        except httpx.TransportError as exc:
            raise TransientError(self.name, f"connection error: {type(exc).__name__}: {exc}") from None
        except httpx.HTTPError as exc:
            raise FatalError(self.name, f"{type(exc).__name__}: {exc}") from None

    def shape_error(self, exc: Exception, payload: Any) -> FatalError:
        """A FatalError for a 200 response whose body lacks what the vendor's docs promise."""
        return FatalError(self.name, f"unexpected response shape ({type(exc).__name__}: {exc}): {str(payload)[:160]}")
