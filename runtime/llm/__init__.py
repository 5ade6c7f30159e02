"""LLM providers behind one interface, and the built-in offline `scripted` provider."""

from agentstage.runtime.llm.factory import PROVIDERS, create_provider, resolve_provider_name
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
    "ChatMessage",
    "LLMRequest",
    "LLMResponse",
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
