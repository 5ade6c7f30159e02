"""The wire codec: round trips, and decode errors that name the field."""

import json

import pytest

from agentstage.runtime.wire import MAX_DEPTH, RunAgent, RunResult, from_wire, message_types, to_wire
from agentstage.runtime.errors import DecodeError
from agentstage.runtime.llm.types import ChatMessage, ToolCall, Usage


def sample_run_agent() -> RunAgent:
    history = (ChatMessage("user", "hi"), ChatMessage("assistant", "", (ToolCall("c1", "calculator", {"expression": "1+1"}),)),
               ChatMessage("tool", '{"result": 2}', tool_call_id="c1", name="calculator"))
    return RunAgent("run-1", "session-1", "what is 1+1?", "default", history, attempt=2, first_seq=9,
                    metadata={"source": "test"})


def test_round_trip_keeps_every_field() -> None:
    message = sample_run_agent()
    assert from_wire(to_wire(message)) == message
    result = RunResult("run-1", "session-1", "completed", "2", Usage(3, 4))
    assert from_wire(to_wire(result)) == result


def test_envelope_carries_type_tag_and_version() -> None:
    envelope = json.loads(to_wire(sample_run_agent()))
    assert envelope["type"] == "run_agent" and envelope["v"] == 1


def test_every_registered_type_has_a_unique_tag() -> None:
    types = message_types()
    assert len(set(types.values())) == len(types)


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        (b"not json", "$"),
        (b"[1, 2]", "$"),
        (b'{"type": "nope", "v": 1, "body": {}}', "type"),
        (b'{"type": "run_agent", "v": 99, "body": {}}', "v"),
        (b'{"type": "run_agent", "v": "1", "body": {}}', "v"),
        (b'{"type": "run_agent", "v": 1, "body": {"session_id": "s", "prompt": "p"}}', "body.run_id"),
        (b'{"type": "run_agent", "v": 1, "body": {"run_id": 5, "session_id": "s", "prompt": "p"}}', "body.run_id"),
        (b'{"type": "run_agent", "v": 1, "body": {"run_id": "r", "session_id": "s", "prompt": "p", "attempt": true}}',
         "body.attempt"),
        (b'{"type": "run_agent", "v": 1, "body": {"run_id": "r", "session_id": "s", "prompt": "p",'
         b' "history": [{"role": "user", "tool_calls": [{"id": "c", "name": 3}]}]}}', "body.history[0].tool_calls[0].name"),
    ],
)
def test_bad_input_raises_decode_error_naming_the_field(payload: bytes, field: str) -> None:
    with pytest.raises(DecodeError) as caught:
        from_wire(payload)
    assert caught.value.field == field


def test_unknown_fields_are_ignored_for_forward_compatibility() -> None:
    envelope = json.loads(to_wire(sample_run_agent()))
    envelope["body"]["added_later"] = {"x": 1}
    assert from_wire(json.dumps(envelope)) == sample_run_agent()


def test_deeply_nested_brackets_are_a_decode_error_not_a_recursion_error() -> None:
    payload = b"[" * 100_000 + b"]" * 100_000
    with pytest.raises(DecodeError) as caught:
        from_wire(payload)
    assert caught.value.field == "$"


def test_nesting_past_the_depth_limit_inside_a_valid_message_is_refused() -> None:
    envelope = json.loads(to_wire(sample_run_agent()))
    deep: dict = {}
    for _ in range(MAX_DEPTH):
        deep = {"x": deep}
    envelope["body"]["metadata"] = deep
    with pytest.raises(DecodeError, match="deeper than"):
        from_wire(json.dumps(envelope))


def test_nesting_within_the_limit_decodes() -> None:
    envelope = json.loads(to_wire(sample_run_agent()))
    envelope["body"]["metadata"] = {"list": [[i] for i in range(MAX_DEPTH * 2)]}
    assert from_wire(json.dumps(envelope)).metadata["list"][-1] == [MAX_DEPTH * 2 - 1]


def test_entry_larger_than_the_limit_is_refused_before_parsing() -> None:
    payload = to_wire(sample_run_agent())
    assert from_wire(payload, len(payload)) == sample_run_agent()
    with pytest.raises(DecodeError, match="larger than the limit"):
        from_wire(payload, len(payload) - 1)


@pytest.mark.parametrize("payload", [b"\xff\xfe\x00", b"", "\u2603", b'{"type": "run_agent", "v": 1}',
                                     b'{"type": "cancel", "v": 1, "body": {"run_id": "r", "reason": "\\udc80"}}',
                                     '{"type": "cancel", "v": 1, "body": {"run_id": "\udc80"}}'])
def test_odd_payloads_raise_only_decode_errors(payload) -> None:
    with pytest.raises(DecodeError):
        from_wire(payload)


def test_escaped_surrogate_pairs_are_valid_text() -> None:
    assert from_wire(b'{"type": "cancel", "v": 1, "body": {"run_id": "\\ud83d\\ude00"}}').run_id == "\U0001f600"
