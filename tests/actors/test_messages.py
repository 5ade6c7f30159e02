"""The wire codec: round trips, and decode errors that name the field."""

import json

import pytest

from agentstage.actors.messages import RunAgent, RunResult, from_wire, message_types, to_wire
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
