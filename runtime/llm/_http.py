"""Shared HTTP plumbing of the vendor adapters: sync and async calls, status -> typed error, retry hints.

An adapter says how to build a request (`prepare`), read an answer (`parse`) and follow a
stream (`stream_parser`); `HttpProvider` runs those over a sync or an async httpx client, so
both paths send the same bytes and raise the same errors.

Adapters never retry: they turn every failure into `RateLimited`, `TransientError` or
`FatalError` with the vendor's own message, and the agent's `RetryPolicy` decides. What is
retryable follows the official OpenAI/Anthropic SDKs: connection errors, timeouts, 408, 409,
429 and 5xx, overridden by an `x-should-retry: true|false` header.
"""

from __future__ import annotations

import asyncio
import dataclasses
import email.utils
import json
import threading
import time
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import aclosing, asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import Any, ClassVar, TypedDict

import aiohttp
import httpx
import msgspec

from agentstage.runtime._log import logger
from agentstage.runtime.errors import FatalError, ProviderError, RateLimited, TransientError
from agentstage.runtime.llm._clients import DEFAULT_LIMITS, AsyncClients, default_client
from agentstage.runtime.llm._sse import StreamParser, aiter_ndjson, aiter_sse_json, iter_ndjson, iter_sse_json
from agentstage.runtime.llm.types import UNREPORTED, LLMRequest, LLMResponse, Provider, StreamDelta, Usage

__all__ = ["HttpCall", "HttpOptions", "HttpProvider", "default_client", "error_for_status", "parse_arguments", "redact",
           "retry_after_seconds", "scrub", "with_usage"]

_SECRET_HEADERS = frozenset({"authorization", "api-key", "x-api-key", "x-goog-api-key"})


MAX_MESSAGE = 2000
"""Longest vendor error message kept in an error (characters)."""

_debug = logger.opt(lazy=True).debug
"""The request log line's logger, options bound once (PERF: one per model call)."""

_BODY = msgspec.json.Encoder()
"""Request bodies as compact UTF-8 JSON; a non-finite float becomes `null`, as JSON has no NaN."""

_MERGED_HEADERS_KEPT = 64
"""Distinct header sets a provider keeps merged (per-call tokens, as Azure's, would otherwise pile up)."""

_DECODERS = {"sse": (iter_sse_json, aiter_sse_json), "ndjson": (iter_ndjson, aiter_ndjson)}


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
    """The vendor's whole error message on one line, at most `MAX_MESSAGE` characters.

    Reads the OpenAI, Anthropic, Gemini and Ollama error shapes and FastAPI's `detail` (used by
    several OpenAI-compatible servers). Multi-line messages (a validation error lists its causes
    on the lines after "7 validation errors:") are joined, so the cause is not lost.
    """
    return _one_line(_raw_message(response))


def _raw_message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        text = response.text.strip()
        return text if text else response.reason_phrase or "no body"
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, str):
        return error
    if isinstance(error, dict):
        message = error.get("message") or error.get("type") or json.dumps(error)
        kind = error.get("type") or error.get("status") or error.get("code")
        return f"{message} ({kind})" if kind and kind != message else str(message)
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        return body["message"]
    detail = body.get("detail") if isinstance(body, dict) else None
    if isinstance(detail, str):
        return detail
    if isinstance(detail, list) and all(isinstance(d, dict) for d in detail):
        return "; ".join(f"{'.'.join(map(str, d.get('loc') or ()))}: {d.get('msg', d)}" for d in detail)
    return json.dumps(body)


def _one_line(text: str) -> str:
    flat = " ".join(line.strip() for line in text.splitlines() if line.strip())
    return flat if len(flat) <= MAX_MESSAGE else flat[:MAX_MESSAGE - 1] + "…"


def _json_headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {**headers, "content-type": "application/json"}


def _decoded(response: httpx.Response) -> Any:
    """The JSON body; msgspec first (PERF: several times faster), httpx's `json()` for what it refuses
    (other encodings than UTF-8, numbers past a double's range), so what parses is what parsed before."""
    try:
        return msgspec.json.decode(response.content)
    except msgspec.DecodeError:
        return response.json()


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


@dataclass(frozen=True, slots=True)
class HttpCall:
    """One POST to a vendor: where, with which headers, and the JSON body."""

    url: str
    headers: dict[str, str]
    body: dict[str, Any]


def _log_post(provider: str, call: HttpCall, streamed: bool = False) -> None:
    """The debug line of one POST (headers redacted), formatted only when debug logging is on.

    PERF: logged from here, not from the calling coroutine: loguru takes its caller's frame before
    it sees the line is disabled, and a suspended coroutine's frame then stays allocated for as
    long as the call is in flight.
    """
    _debug("{} POST {}{} headers={}", lambda: provider, lambda: call.url, lambda: " (stream)" if streamed else "",
           lambda: redact(call.headers))


class _TransportErrors:
    """Context manager turning httpx's transport failures into typed provider errors.

    PERF: a class, not a generator: a call in flight held the generator's frame for as long as it waited.
    """

    __slots__ = ("provider",)

    def __init__(self, provider: str) -> None:
        self.provider = provider

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: Any) -> bool:
        if exc is None or not isinstance(exc, httpx.HTTPError):
            return False
        name = self.provider
        if isinstance(exc, httpx.TimeoutException):
            if not _timed_out(exc):
                raise TransientError(name, f"connection error: {type(exc.__cause__).__name__}: {exc}") from None
            raise TransientError(name, f"request timed out ({type(exc).__name__})") from None
        if isinstance(exc, (httpx.UnsupportedProtocol, httpx.InvalidURL)):
            raise FatalError(name, f"bad API URL: {exc}") from None
        if isinstance(exc, httpx.TransportError):
            raise TransientError(name, f"connection error: {type(exc).__name__}: {exc}") from None
        raise FatalError(name, f"{type(exc).__name__}: {exc}") from None


class HttpOptions(TypedDict, total=False):
    """The keyword arguments every adapter passes on to `HttpProvider`."""

    async_client: httpx.AsyncClient | None
    timeout: float
    connect_timeout: float
    limits: httpx.Limits


class HttpProvider(Provider):
    """Base of the vendor adapters: runs their calls over httpx clients and maps the failures.

    Args:
        client: a sync client to use instead of an owned one (never closed here). Injected
            without `async_client`, the async methods run the sync ones on the loop's executor.
        async_client: an async client to use on every loop instead of owned ones (never closed here).
        timeout, connect_timeout: seconds of the owned clients (read/write, connect; no pool timeout).
        limits: connection limits of the owned clients (default 1000 connections, see `_clients`).
    """

    name = "http"
    stream_format: ClassVar[str] = "sse"
    """How the vendor streams: `sse` or `ndjson`."""

    def __init__(self, client: httpx.Client | None = None, *, async_client: httpx.AsyncClient | None = None,
                 timeout: float = 600.0, connect_timeout: float = 5.0, limits: httpx.Limits = DEFAULT_LIMITS) -> None:
        self._client = client
        self._owns_client = client is None
        self._client_args = (timeout, connect_timeout, limits)
        self._client_lock = threading.Lock()
        self._async_client = async_client
        self._urls: dict[str, httpx.URL] = {}
        self._merged_headers: dict[tuple[int, tuple[tuple[str, str], ...]], dict[str, str]] = {}
        self._async_clients = AsyncClients(timeout, connect_timeout, limits) if async_client is None else None
        self._threaded_async = client is not None and async_client is None

    def __repr__(self) -> str:
        return f"{type(self).__name__}(model={getattr(self, 'model', '')!r})"

    @property
    def client(self) -> httpx.Client:
        """The sync client: the injected one, else an owned one made on first use."""
        with self._client_lock:
            if self._client is None:
                self._client = default_client(*self._client_args)
            return self._client

    @property
    def secrets(self) -> tuple[str, ...]:
        """Credential values in this adapter's `_headers`, scrubbed from error messages."""
        headers: Mapping[str, str] = getattr(self, "_headers", {})
        return tuple(v.removeprefix("Bearer ") for k, v in headers.items() if k.lower() in _SECRET_HEADERS)

    def prepare(self, request: LLMRequest, *, stream: bool) -> HttpCall:
        """The vendor call for `request`."""
        raise NotImplementedError

    async def aprepare(self, request: LLMRequest, *, stream: bool) -> HttpCall:
        """The vendor call for `request` on the async path; an adapter may await a credential here."""
        return self.prepare(request, stream=stream)

    def parse(self, request: LLMRequest, payload: dict[str, Any]) -> LLMResponse:
        """The response in a vendor's non-streamed answer; raises FatalError on an unexpected shape."""
        raise NotImplementedError

    def stream_parser(self, request: LLMRequest) -> StreamParser:
        """A fresh parser for one streamed answer to `request`."""
        raise NotImplementedError

    def usage_of(self, payload: Any) -> Usage:
        """The usage a vendor body or stream item reports (UNREPORTED when none), read from failed calls too."""
        return UNREPORTED

    def generate(self, request: LLMRequest) -> LLMResponse:
        """One chat completion over the sync client; blocks the calling thread."""
        return self._parsed(request, self.post_json(self.prepare(request, stream=False)))

    def stream(self, request: LLMRequest) -> Iterator[StreamDelta]:
        """Yield text deltas, then the final response, over the sync client."""
        parser = self.stream_parser(request)
        decode = _DECODERS[self.stream_format][0]
        received, item = False, None
        try:
            with self.open_stream(self.prepare(request, stream=True)) as response:
                for event, item in decode(self.name, response):
                    received = True
                    yield from parser.feed(event, item)
                    if parser.done:
                        return
            yield from parser.end() if received else _whole(self.generate(request))
        except ProviderError as error:
            self._spent(error, parser, item)
            raise

    async def agenerate(self, request: LLMRequest) -> LLMResponse:
        """One chat completion over the running loop's async client."""
        if self._threaded_async:
            return await super().agenerate(request)
        return self._parsed(request, await self.apost_json(await self.aprepare(request, stream=False)))

    async def astream(self, request: LLMRequest) -> AsyncIterator[StreamDelta]:
        """`stream` over the running loop's async client."""
        if self._threaded_async:
            async for delta in super().astream(request):
                yield delta
            return
        parser = self.stream_parser(request)
        decode = _DECODERS[self.stream_format][1]
        received, item = False, None
        try:
            async with self.aopen_stream(await self.aprepare(request, stream=True)) as response:
                async with aclosing(decode(self.name, response)) as items:
                    async for event, item in items:
                        received = True
                        for delta in parser.feed(event, item):
                            yield delta
                        if parser.done:
                            return
            for delta in parser.end() if received else _whole(await self.agenerate(request)):
                yield delta
        except ProviderError as error:
            self._spent(error, parser, item)
            raise

    def _parsed(self, request: LLMRequest, payload: dict[str, Any]) -> LLMResponse:
        """`parse`, with the body's usage on the error when a 200 does not parse (its tokens were spent)."""
        try:
            return self.parse(request, payload)
        except ProviderError as error:
            with_usage(error, self.usage_of(payload))
            raise

    def _spent(self, error: ProviderError, parser: StreamParser, item: Any) -> ProviderError:
        """`error` with what the failed stream reported of its usage: the parser's, else the last item's."""
        return with_usage(error, parser.usage if parser.usage.reported else self.usage_of(item))

    def close(self) -> None:
        """Close the owned sync client (an injected one stays open)."""
        if not self._owns_client:
            return
        with self._client_lock:
            client, self._client = self._client, None
        if client is not None:
            client.close()

    async def aclose(self) -> None:
        """Close the running loop's owned async client (an injected one stays open)."""
        if self._async_clients is not None:
            await self._async_clients.aclose()

    def post_json(self, call: HttpCall) -> dict[str, Any]:
        """POST over the sync client and return the decoded JSON object; failures become typed errors."""
        _log_post(self.name, call)
        with self._transport_errors():
            response = self.client.post(call.url, headers=_json_headers(call.headers), content=_BODY.encode(call.body))
        return self._payload(response)

    async def apost_json(self, call: HttpCall) -> dict[str, Any]:
        """`post_json` over the running loop's async client."""
        _log_post(self.name, call)
        client = self._aclient()
        transport = self._async_clients.transport(client) if self._async_clients is not None else None
        with self._transport_errors():
            if transport is None:
                response = await client.send(self._request(client, call))
            else:
                # PERF: straight to the transport: no auth flow, redirects or cookie jar, which these APIs never use.
                response = await transport.post(call.url, self._headers_of(client, call.headers),
                                                _BODY.encode(call.body), client.timeout)
        return self._payload(response)

    def _request(self, client: httpx.AsyncClient, call: HttpCall) -> httpx.Request:
        """The POST as `client.post` would build it, from a parsed URL kept per address.

        PERF: `client.post` parses the URL, merges cookies and headers and encodes the body on every
        call; with thousands of calls a second that is a third of the client's CPU time.
        """
        url = self._urls.get(call.url)
        if url is None:
            url = self._urls[call.url] = httpx.URL(call.url)
        return httpx.Request("POST", url, headers=self._headers_of(client, call.headers),
                             content=_BODY.encode(call.body), extensions={"timeout": client.timeout.as_dict()})

    def _headers_of(self, client: httpx.AsyncClient, headers: Mapping[str, str]) -> dict[str, str]:
        """The client's headers, then the call's, then the JSON content type; merged once per distinct set.

        Keyed by the client's identity: a provider's clients (one per event loop) live as long as it does.
        """
        key = (id(client), tuple(headers.items()))
        merged = self._merged_headers.get(key)
        if merged is None:
            if len(self._merged_headers) >= _MERGED_HEADERS_KEPT:
                self._merged_headers.clear()
            combined = httpx.Headers(client.headers)
            combined.update(headers)
            combined["content-type"] = "application/json"
            merged = self._merged_headers[key] = {name.decode(): value.decode() for name, value in combined.raw}
        return merged

    @contextmanager
    def open_stream(self, call: HttpCall) -> Iterator[httpx.Response]:
        """POST for a streamed answer over the sync client; transport failures while reading become typed errors."""
        _log_post(self.name, call, streamed=True)
        with self._transport_errors(), self.client.stream("POST", call.url,
                                                          headers=_json_headers(call.headers),
                                                          content=_BODY.encode(call.body)) as response:
            if response.status_code >= 400:
                response.read()
                raise error_for_status(self.name, response, self.secrets)
            yield response

    @asynccontextmanager
    async def aopen_stream(self, call: HttpCall) -> AsyncIterator[httpx.Response]:
        """`open_stream` over the running loop's async client."""
        _log_post(self.name, call, streamed=True)
        with self._transport_errors():
            async with self._aclient().stream("POST", call.url, headers=_json_headers(call.headers),
                                              content=_BODY.encode(call.body)) as response:
                if response.status_code >= 400:
                    await response.aread()
                    raise error_for_status(self.name, response, self.secrets)
                yield response

    def _aclient(self) -> httpx.AsyncClient:
        if self._async_client is not None:
            return self._async_client
        assert self._async_clients is not None
        return self._async_clients.get()

    def _payload(self, response: httpx.Response) -> dict[str, Any]:
        if response.status_code >= 400:
            raise error_for_status(self.name, response, self.secrets)
        try:
            payload = _decoded(response)
        except ValueError:
            raise FatalError(self.name, f"malformed JSON response (HTTP {response.status_code}): "
                                        f"{response.text[:120]!r}", status=response.status_code) from None
        if not isinstance(payload, dict):
            raise FatalError(self.name, f"unexpected response: {response.text[:120]!r}", status=response.status_code)
        return payload

    def _transport_errors(self) -> _TransportErrors:
        return _TransportErrors(self.name)

    def shape_error(self, exc: Exception, payload: Any) -> FatalError:
        """A FatalError for a 200 response whose body lacks what the vendor's docs promise."""
        return FatalError(self.name, f"unexpected response shape ({type(exc).__name__}: {exc}): {str(payload)[:160]}")


def with_usage(error: ProviderError, usage: Usage) -> ProviderError:
    """`error` carrying `usage` when the server reported it (a usage already on the error is kept)."""
    if error.usage is None and usage.reported:
        error.usage = usage
    return error


def _whole(response: LLMResponse) -> list[StreamDelta]:
    """A non-streamed answer as stream deltas, marked as the fallback for a stream with an empty body.

    NOTE: a 200 stream with no event at all is what servers send that cannot stream this request
    (some compatible servers with tools); retrying the stream would get the same, so one plain call
    answers instead and the `llm.response` metadata says so.
    """
    final = dataclasses.replace(response, metadata={**response.metadata, "stream_fallback": "empty stream body"})
    return [StreamDelta(text=final.content), StreamDelta(final=final)] if final.content else [StreamDelta(final=final)]


def _timed_out(exc: httpx.TimeoutException) -> bool:
    """Whether a timeout is one; httpx-aiohttp reports every aiohttp connection error as ConnectTimeout."""
    cause = exc.__cause__
    return not isinstance(cause, aiohttp.ClientError) or isinstance(cause, asyncio.TimeoutError)
