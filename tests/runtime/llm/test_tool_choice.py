"""Tool choice: what is sent per request, and the reset of a forced choice after the first tool call."""

from __future__ import annotations

import pytest

from agentstage.runtime.llm.tool_choice import effective_choice, is_forced, turn_choice
from agentstage.runtime.llm.types import ChatMessage, LLMRequest, ToolCall, ToolSpec

TOOL = ToolSpec("add", "Add.", {"type": "object"})
ASKED = [ChatMessage("user", "sum?")]
CALLED = [*ASKED, ChatMessage("assistant", "", (ToolCall("c1", "add"),)), ChatMessage("tool", "3", tool_call_id="c1")]


def test_auto_is_sent_whenever_tools_are_and_nothing_without_tools() -> None:
    assert effective_choice(LLMRequest((), (TOOL,))) == "auto"
    assert effective_choice(LLMRequest((), (TOOL,), tool_choice="add")) == "add"
    assert effective_choice(LLMRequest((), tool_choice="required")) is None


@pytest.mark.parametrize(("choice", "forced"), [(None, False), ("auto", False), ("none", False),
                                                ("required", True), ("add", True)])
def test_forced_choices_reset_to_auto_after_a_tool_call(choice: str | None, forced: bool) -> None:
    assert is_forced(choice) is forced
    assert turn_choice(choice, ASKED) == choice
    assert turn_choice(choice, CALLED) == ("auto" if forced else choice)
