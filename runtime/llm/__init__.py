"""LLM providers behind one interface, and the built-in offline `scripted` provider."""

from agentstage.runtime.lazy import lazy_exports as _lazy_exports

__getattr__ = _lazy_exports(__name__, {
    "AnthropicProvider": "agentstage.runtime.llm.anthropic",
    "AzureOpenAIProvider": "agentstage.runtime.llm.azure",
    "PROVIDERS": "agentstage.runtime.llm.factory",
    "create_provider": "agentstage.runtime.llm.factory",
    "resolve_provider_name": "agentstage.runtime.llm.factory",
    "GeminiProvider": "agentstage.runtime.llm.gemini",
    "OllamaProvider": "agentstage.runtime.llm.ollama",
    "OpenAIProvider": "agentstage.runtime.llm.openai",
    "Rule": "agentstage.runtime.llm.scripted",
    "ScriptedProvider": "agentstage.runtime.llm.scripted",
    "ChatMessage": "agentstage.runtime.llm.types",
    "LLMRequest": "agentstage.runtime.llm.types",
    "LLMResponse": "agentstage.runtime.llm.types",
    "Provider": "agentstage.runtime.llm.types",
    "StreamDelta": "agentstage.runtime.llm.types",
    "ToolCall": "agentstage.runtime.llm.types",
    "ToolSpec": "agentstage.runtime.llm.types",
    "Usage": "agentstage.runtime.llm.types",
})

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
