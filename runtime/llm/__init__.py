"""LLM providers behind one interface, and the built-in offline `scripted` provider."""

from agentstage.runtime.llm.anthropic import AnthropicProvider
from agentstage.runtime.llm.azure import AzureOpenAIProvider
from agentstage.runtime.llm.factory import PROVIDERS, create_provider, resolve_provider_name
from agentstage.runtime.llm.gemini import GeminiProvider
from agentstage.runtime.llm.ollama import OllamaProvider
from agentstage.runtime.llm.openai import OpenAIProvider
from agentstage.runtime.llm.scripted import Rule, ScriptedProvider
from agentstage.runtime.llm.types import (
    ChatMessage,
    LLMRequest,
    LLMResponse,
    Provider,
    StreamDelta,
    ToolCall,
    ToolSpec,
    Usage,
)

__all__ = [
    "PROVIDERS",
    "AnthropicProvider",
    "AzureOpenAIProvider",
    "ChatMessage",
    "GeminiProvider",
    "LLMRequest",
    "LLMResponse",
    "OllamaProvider",
    "OpenAIProvider",
    "Provider",
    "Rule",
    "ScriptedProvider",
    "StreamDelta",
    "ToolCall",
    "ToolSpec",
    "Usage",
    "create_provider",
    "resolve_provider_name",
]
