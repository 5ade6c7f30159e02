"""Azure OpenAI: the Chat Completions body on a deployment URL with `api-version` and an `api-key` header.

`POST {endpoint}/openai/deployments/{deployment}/chat/completions?api-version={version}`;
the deployment picks the model, so the body carries none.
"""

from __future__ import annotations

from typing import Any, Unpack
from urllib.parse import quote

import httpx

from agentstage.runtime.llm._http import HttpOptions
from agentstage.runtime.llm.openai import OpenAIProvider, chat_body
from agentstage.runtime.llm.types import LLMRequest

__all__ = ["AzureOpenAIProvider"]

DEFAULT_API_VERSION = "2024-10-21"


class AzureOpenAIProvider(OpenAIProvider):
    """Chat Completions on an Azure OpenAI deployment."""

    name = "azure"

    def __init__(self, api_key: str, endpoint: str, deployment: str, api_version: str = DEFAULT_API_VERSION,
                 client: httpx.Client | None = None, **http: Unpack[HttpOptions]) -> None:
        super().__init__("", deployment, endpoint, client, **http)
        self.deployment = deployment
        self.api_version = api_version or DEFAULT_API_VERSION
        self._headers = {"api-key": api_key}

    @property
    def url(self) -> str:
        return (f"{self.base_url}/openai/deployments/{quote(self.deployment, safe='')}/chat/completions"
                f"?api-version={quote(self.api_version, safe='')}")

    def body(self, request: LLMRequest, *, stream: bool) -> dict[str, Any]:
        return chat_body(request, "", stream=stream, max_tokens_field="max_tokens")
