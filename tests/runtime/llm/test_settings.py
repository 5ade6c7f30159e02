"""Provider variables as the settings route shows them: secrets only as set or not, URL credentials removed."""

from __future__ import annotations

import dataclasses

from agentstage.runtime.llm.settings import PROVIDER_ENV, provider_env


def test_secrets_are_reported_only_as_configured(config) -> None:
    env = {"OPENAI_API_KEY": "sk-secret-value", "OLLAMA_HOST": "http://admin:hunter2@127.0.0.1:11434",
           "AGENTSTAGE_MODEL": "  m1  "}
    shown = provider_env(dataclasses.replace(config, env=env))
    assert shown["configured"]["OPENAI_API_KEY"] is True and "OPENAI_API_KEY" not in shown["values"]
    assert shown["values"]["OLLAMA_HOST"] == "http://127.0.0.1:11434" and shown["values"]["AGENTSTAGE_MODEL"] == "m1"
    assert "hunter2" not in str(shown) and "sk-secret-value" not in str(shown)
    reference = [f.key for f in PROVIDER_ENV][:17]
    assert reference[0] == "AGENT_PROVIDER" and reference[-1] == "AZURE_OPENAI_API_VERSION"
    assert [f.key for f in PROVIDER_ENV[:17] if f.secret] == ["GEMINI_API_KEY", "OPENAI_API_KEY", "ANTHROPIC_API_KEY",
                                                               "OLLAMA_API_KEY", "AZURE_OPENAI_API_KEY"]
