"""Node definitions: prompt rendering from state, tool arguments from state."""

from __future__ import annotations

import pytest

from agentstage.runtime.graph.nodes import ToolNode, render


def test_render_fills_keys_and_fields_of_objects_and_leaves_missing_ones_empty() -> None:
    state = {"input": "hi", "recalled": {"found": True, "value": "tea"}, "items": [1, 2], "n": 3, "none": None}
    assert render("{input}|{recalled.value}|{items}|{n}|{none}", state) == 'hi|tea|[1, 2]|3|'
    assert render("{missing}{recalled.missing}{input.value}{recalled.value.deeper}", state) == ""
    assert render("{recalled}", state) == '{"found": true, "value": "tea"}'
    assert render("{not a placeholder} {.x}", state) == "{not a placeholder} {.x}"


def test_tool_arguments_take_literals_and_state_keys_and_name_a_missing_key() -> None:
    node = ToolNode("remember", "memory_store", args={"operation": "set"}, args_from={"value": "summary"})
    assert node.arguments({"summary": "s"}) == {"operation": "set", "value": "s"}
    with pytest.raises(KeyError, match="state has no key 'summary' for argument 'value'"):
        node.arguments({})
