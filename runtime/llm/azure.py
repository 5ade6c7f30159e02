"""Azure OpenAI: the Chat Completions body on a deployment URL with `api-version`, keyed or with Entra ID.

`POST {endpoint}/openai/deployments/{deployment}/chat/completions?api-version={version}`;
the deployment picks the model, so the body carries none. Credentials as the official openai
SDK's `AzureOpenAI` takes them: an `api-key` header, or a Microsoft Entra ID token as
`Authorization: Bearer ...`, fixed or from a token provider called before every request
(an Entra ID token wins over a key when both are given).
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any, Unpack
from urllib.parse import quote

import httpx

from agentstage.runtime.errors import FatalError, TransientError
from agentstage.runtime.llm._http import HttpCall, HttpOptions
from agentstage.runtime.llm.openai import OpenAIProvider, chat_body
from agentstage.runtime.llm.types import LLMRequest

__all__ = ["AzureOpenAIProvider", "TokenProvider"]

DEFAULT_API_VERSION = "2024-10-21"

TokenProvider = Callable[[], "str | Awaitable[str]"]
"""Returns a current Entra ID access token; may be async on the async path. It should cache the
token until near its expiry, as azure-identity's `get_bearer_token_provider` does."""


class AzureOpenAIProvider(OpenAIProvider):
    """Chat Completions on an Azure OpenAI deployment.

    Args:
        api_key: the resource's key, sent as `api-key` ("" with Entra ID).
        ad_token: a fixed Entra ID access token (it expires: long-lived apps pass a provider).
        ad_token_provider: called before every request for the token to send.
    """

    name = "azure"

    def __init__(self, api_key: str, endpoint: str, deployment: str, api_version: str = DEFAULT_API_VERSION,
                 client: httpx.Client | None = None, *, ad_token: str = "",
                 ad_token_provider: TokenProvider | None = None, **http: Unpack[HttpOptions]) -> None:
        if not (api_key or ad_token or ad_token_provider):
            raise ValueError("AzureOpenAIProvider needs api_key, ad_token or ad_token_provider")
        super().__init__("", deployment, endpoint, client, **http)
        self.deployment = deployment
        self.api_version = api_version or DEFAULT_API_VERSION
        self._token_provider = ad_token_provider
        self._headers = {"Authorization": f"Bearer {ad_token}"} if ad_token else {"api-key": api_key}
        self._last_token = ""

    @property
    def url(self) -> str:
        return (f"{self.base_url}/openai/deployments/{quote(self.deployment, safe='')}/chat/completions"
                f"?api-version={quote(self.api_version, safe='')}")

    @property
    def secrets(self) -> tuple[str, ...]:
        return super().secrets + ((self._last_token,) if self._last_token else ())

    def body(self, request: LLMRequest, *, stream: bool) -> dict[str, Any]:
        return chat_body(request, "", stream=stream, max_tokens_field="max_tokens")

    def prepare(self, request: LLMRequest, *, stream: bool) -> HttpCall:
        if self._token_provider is None:
            return super().prepare(request, stream=stream)
        token = self._call_provider()
        if inspect.isawaitable(token):
            _discard(token)
            raise FatalError(self.name, "ad_token_provider is async; the synchronous path needs one returning a str")
        return self._bearer_call(request, token, stream=stream)

    async def aprepare(self, request: LLMRequest, *, stream: bool) -> HttpCall:
        if self._token_provider is None:
            return super().prepare(request, stream=stream)
        token = self._call_provider()
        if inspect.isawaitable(token):
            try:
                token = await token
            except Exception as exc:  # NOTE: whatever the app's credential raises, the run sees a provider error
                raise self._token_error(exc) from exc
        return self._bearer_call(request, token, stream=stream)

    def _call_provider(self) -> str | Awaitable[str]:
        assert self._token_provider is not None
        try:
            return self._token_provider()
        except Exception as exc:  # NOTE: as in aprepare
            raise self._token_error(exc) from exc

    def _token_error(self, exc: Exception) -> TransientError:
        """A failed token fetch may be a passing network fault of the identity service: the retry policy decides."""
        return TransientError(self.name, f"ad_token_provider failed: {type(exc).__name__}: {exc}")

    def _bearer_call(self, request: LLMRequest, token: object, *, stream: bool) -> HttpCall:
        if not isinstance(token, str) or not token.strip():
            raise FatalError(self.name, f"ad_token_provider returned no token (got {type(token).__name__})")
        self._last_token = token
        return HttpCall(self.url, {"Authorization": f"Bearer {token}"}, self.body(request, stream=stream))


def _discard(awaitable: Awaitable[Any]) -> None:
    """Close a coroutine that will never be awaited, so Python does not warn about it."""
    close = getattr(awaitable, "close", None)
    if callable(close):
        close()
