"""Wire messages: frozen dataclasses with a stable type tag and version, and one JSON codec.

The same messages travel between actors in one process (pykka `tell`/`ask`) and between
processes (Redis Streams). `to_wire` / `from_wire` is the only codec; a message that fails
to decode raises `DecodeError` naming the field, and consumers dead-letter it. Nothing else
escapes the decoder: an oversized entry, nesting deeper than `MAX_DEPTH` or any surprise inside
the JSON parser is a `DecodeError` too, so no payload can kill a reader.
Unknown fields are ignored so an older reader accepts a newer, compatible writer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, ClassVar

import msgspec

from agentstage.runtime.errors import DecodeError
from agentstage.runtime.llm.types import ChatMessage, ToolCall, Usage
from agentstage.runtime.state.records import Checkpoint, ToolEffect
from agentstage.runtime.state.records import Event

__all__ = [
    "Cancel",
    "Enqueue",
    "Fork",
    "MAX_DEPTH",
    "Heartbeat",
    "Message",
    "Requeue",
    "RequeueAnswer",
    "Resume",
    "RunAgent",
    "SessionAnswer",
    "SessionRequest",
    "RunOutcome",
    "RunResult",
    "SteerAnswer",
    "Task",
    "TaskDone",
    "TaskRecords",
    "TaskReleased",
    "from_wire",
    "message_types",
    "to_wire",
]

_REGISTRY: dict[str, type[Message]] = {}

MAX_DEPTH = 100
"""Deepest nesting of objects and lists a wire message may have (envelope included)."""

# NOTE: msgspec encodes the message dataclasses and decodes JSON back into them, checking every field's
# type, in C (many times faster than reflecting on fields in Python); `_decode` says how.
_ENCODER = msgspec.json.Encoder()
_JSON = msgspec.json.Decoder()


class _Envelope(msgspec.Struct):
    """The envelope read first, its body kept as raw JSON for the decoder of its type."""

    type: str
    v: int
    body: msgspec.Raw


_ENVELOPE = msgspec.json.Decoder(_Envelope)
_TYPED: dict[type, msgspec.json.Decoder[Any]] = {}


class Message:
    """Base of every wire message; subclasses are registered by their `TYPE` tag."""

    TYPE: ClassVar[str] = ""
    VERSION: ClassVar[int] = 1

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.TYPE:
            if cls.TYPE in _REGISTRY and _REGISTRY[cls.TYPE].__qualname__ != cls.__qualname__:
                raise TypeError(f"message type {cls.TYPE!r} registered twice")
            _REGISTRY[cls.TYPE] = cls


def message_types() -> dict[str, type[Message]]:
    """Every registered message class by type tag."""
    return dict(_REGISTRY)


@dataclass(frozen=True, slots=True)
class RunAgent(Message):
    """Ask an agent pool to run one prompt to a final answer."""

    TYPE: ClassVar[str] = "run_agent"

    run_id: str
    session_id: str
    prompt: str
    agent: str = "default"
    history: tuple[ChatMessage, ...] = ()
    attempt: int = 1
    first_seq: int = 1
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RunResult(Message):
    """How a run ended: `status` is completed, failed or cancelled.

    `error_type` names a failure's type (see `runtime.errors`); `truncated` says the output token limit
    cut the final answer.
    """

    TYPE: ClassVar[str] = "run_result"

    run_id: str
    session_id: str
    status: str
    output: str = ""
    usage: Usage = Usage()
    error: str | None = None
    events: tuple[Event, ...] = ()
    error_type: str = ""
    truncated: bool = False

    @property
    def ok(self) -> bool:
        return self.status == "completed"


@dataclass(frozen=True, slots=True)
class RunOutcome(Message):
    """How a run, or one attempt of it on a worker, ended: the one shape of an ending on its way back.

    `status` is completed, failed, cancelled, or waiting (a graph run waiting for input).
    `error_type` names the failure's type and `retryable` says whether another attempt may succeed
    (that type's `retryable`, see `runtime.errors`). Stored under the run's done key as well.
    """

    TYPE: ClassVar[str] = "run_outcome"

    run_id: str
    status: str
    output: str | None = None
    error: str | None = None
    error_type: str = ""
    retryable: bool = False
    ended_at: str = ""

    def view(self) -> dict[str, Any]:
        """What operations answer for an ended run: status, output, error."""
        return {"status": self.status, "output": self.output, "error": self.error}


@dataclass(frozen=True, slots=True)
class Enqueue(Message):
    """Admit a run to the distributed runtime (sent to the coordinator)."""

    TYPE: ClassVar[str] = "enqueue"

    run_id: str
    session_id: str
    input: str
    mode: str = "run"
    agent: str = "default"
    workflow: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)
    enqueued_at: str = ""
    continue_session: bool = False


@dataclass(frozen=True, slots=True)
class Task(Message):
    """One attempt of a run for a worker; `(task_id, attempt)` identifies it.

    `history` and `first_seq` let a retried attempt continue the run's conversation and event
    sequence; `checkpoint` is the latest graph checkpoint the coordinator holds.
    """

    TYPE: ClassVar[str] = "task"

    task_id: str
    run_id: str
    session_id: str
    input: str
    mode: str = "run"
    agent: str = "default"
    workflow: str = ""
    attempt: int = 1
    first_seq: int = 1
    history: tuple[ChatMessage, ...] = ()
    metadata: dict[str, Any] = field(default_factory=dict)
    checkpoint: dict[str, Any] | None = None
    enqueued_at: str = ""
    answer: str | None = None
    """The input a waiting human node at `checkpoint` receives (a resumed run)."""
    children: dict[str, Any] = field(default_factory=dict)
    """A graph task's child agent runs recorded so far: id -> [last event seq, attempts], so a node's agent
    run started again takes the next attempt and event numbers instead of colliding with the earlier ones."""


@dataclass(frozen=True, slots=True)
class TaskRecords(Message):
    """Durable records a worker produced for a task so far (events, tool effects, checkpoints).

    `attempt` is the attempt that produced them (a graph's child runs' records travel under their
    parent's run and attempt); the coordinator keeps only the effects of an attempt that is not the
    run's current one. Attempt 0 names none: journalled effects, or workers from before version 2.
    """

    TYPE: ClassVar[str] = "task_records"
    VERSION: ClassVar[int] = 2

    task_id: str
    run_id: str
    attempt: int
    worker_id: str
    events: tuple[Event, ...] = ()
    effects: tuple[ToolEffect, ...] = ()
    checkpoints: tuple[Checkpoint, ...] = ()


@dataclass(frozen=True, slots=True)
class TaskDone(Message):
    """A task attempt ended on a worker with `outcome`; the coordinator records it and only then acks `entry_id`.

    The outcome of an attempt that is no longer the run's current one is refused (its effects are kept).
    """

    TYPE: ClassVar[str] = "task_done"
    VERSION: ClassVar[int] = 2

    task_id: str
    run_id: str
    attempt: int
    worker_id: str
    entry_id: str
    outcome: RunOutcome
    events: tuple[Event, ...] = ()
    effects: tuple[ToolEffect, ...] = ()
    checkpoints: tuple[Checkpoint, ...] = ()


@dataclass(frozen=True, slots=True)
class TaskReleased(Message):
    """A worker gives a task back unfinished (shutdown, restart); the coordinator retries it."""

    TYPE: ClassVar[str] = "task_released"

    task_id: str
    run_id: str
    attempt: int
    worker_id: str
    entry_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class Heartbeat(Message):
    """A worker's liveness report; `in_flight` tasks have had their leases extended.

    Also the worker's row in the workers hash: `interval` says when it is overdue, `agents` and
    `workflows` what it serves.
    """

    TYPE: ClassVar[str] = "heartbeat"

    worker_id: str
    host: str
    pid: int
    started_at: str
    last_seen: str
    in_flight: int = 0
    concurrency: int = 0
    status: str = "running"
    interval: float = 0.0
    agents: tuple[str, ...] = ()
    workflows: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Cancel(Message):
    """Stop a run: a queued task never starts, a running one stops at its next step boundary.

    `attempt` 0 stops whichever attempt runs; a worker ignores a cancel naming an attempt it does not hold.
    """

    TYPE: ClassVar[str] = "cancel"

    run_id: str
    reason: str = ""
    requested_at: str = ""
    attempt: int = 0


@dataclass(frozen=True, slots=True)
class Requeue(Message):
    """Run a failed, cancelled or dead-lettered run again as a new attempt.

    With `reply_to`, the coordinator answers under that reply key: requeued, or refused with the reason.
    """

    TYPE: ClassVar[str] = "requeue"

    run_id: str
    dlq_id: str = ""
    requested_at: str = ""
    reply_to: str = ""


@dataclass(frozen=True, slots=True)
class RequeueAnswer(Message):
    """The coordinator's answer to a `Requeue` with `reply_to`: requeued as `attempt`, or refused with `reason`."""

    TYPE: ClassVar[str] = "requeue_answer"

    run_id: str
    requeued: bool
    reason: str | None = None
    attempt: int = 0


@dataclass(frozen=True, slots=True)
class Resume(Message):
    """Continue a waiting graph run with `input` (the answer to its human node), or a failed one without.

    `reply_to` as in `Requeue`.
    """

    TYPE: ClassVar[str] = "resume"

    run_id: str
    input: str | None = None
    requested_at: str = ""
    reply_to: str = ""


@dataclass(frozen=True, slots=True)
class Fork(Message):
    """Start graph run `new_run_id` from checkpoint `step` of `run_id`, its state updated with `state_patch`.

    `reply_to` as in `Requeue`.
    """

    TYPE: ClassVar[str] = "fork"

    run_id: str
    step: int
    new_run_id: str
    state_patch: dict[str, Any] = field(default_factory=dict)
    requested_at: str = ""
    reply_to: str = ""


@dataclass(frozen=True, slots=True)
class SteerAnswer(Message):
    """The coordinator's answer to a `Resume` or `Fork` with `reply_to`: done, or refused with `reason`."""

    TYPE: ClassVar[str] = "steer_answer"

    run_id: str
    ok: bool
    reason: str | None = None
    attempt: int = 0


@dataclass(frozen=True, slots=True)
class SessionRequest(Message):
    """A worker's read (`values` None) or write of a session's tool state in one namespace (memory_store,
    todo_manager), sent to the coordinator, which keeps it in the store and answers under `reply_to`.

    `values` maps a key to `[value, expires_at]`, or to None to delete it.
    """

    TYPE: ClassVar[str] = "session_request"

    session_id: str
    namespace: str
    reply_to: str
    values: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class SessionAnswer(Message):
    """The coordinator's answer to a `SessionRequest`: the namespace's live items (`[value, expires_at]` by key)
    after a read, nothing after a committed write; `error` when it could not."""

    TYPE: ClassVar[str] = "session_answer"

    items: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


def to_wire(message: Message) -> bytes:
    """Encode a registered message as compact JSON bytes (UTF-8, fields in declaration order)."""
    return _ENCODER.encode({"type": message.TYPE, "v": message.VERSION, "body": message})


def from_wire(data: bytes | str, max_bytes: int | None = None) -> Message:
    """Decode bytes produced by `to_wire`; raises `DecodeError` (and nothing else) naming the bad field.

    Args:
        data: the payload of one stream entry.
        max_bytes: refuse payloads longer than this before parsing them (None: no limit).
    """
    if max_bytes is not None and len(data) > max_bytes:
        raise DecodeError("$", f"entry of {len(data)} bytes is larger than the limit of {max_bytes}")
    try:
        return _decode(data)
    except DecodeError:
        raise
    except RecursionError:
        raise DecodeError("$", "nested too deeply to parse") from None
    except Exception as exc:  # NOTE: a poison payload must never escape as anything but a DecodeError
        raise DecodeError("$", f"{type(exc).__name__}: {exc}") from None


def _decode(data: bytes | str) -> Message:
    if not _may_be_deep(data) and not _may_have_surrogates(data):
        typed = _decode_typed(data)
        if typed is not None:
            return typed
    try:
        envelope = _JSON.decode(data)
    except msgspec.DecodeError as exc:
        raise DecodeError("$", f"not JSON: {exc}") from None
    if not isinstance(envelope, dict):
        raise DecodeError("$", "envelope must be a JSON object")
    _check_depth(data, envelope)
    _check_text(data, envelope)
    tag = envelope.get("type")
    cls = _REGISTRY.get(tag) if isinstance(tag, str) else None
    if cls is None:
        raise DecodeError("type", f"unknown message type {tag!r}")
    version = envelope.get("v")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise DecodeError("v", f"version must be a positive integer, got {version!r}")
    if version > cls.VERSION:
        raise DecodeError("v", f"{tag} version {version} is newer than supported {cls.VERSION}")
    try:
        return msgspec.convert(envelope.get("body"), cls)
    except msgspec.ValidationError as exc:
        raise _field_error(str(exc)) from None


def _decode_typed(data: bytes | str) -> Message | None:
    """The message, decoded straight into its type (no dicts in between), or None for anything the checked path
    must judge (it names what is wrong).

    PERF: building the parsed JSON and converting it was two thirds of a stream reader's decoding.
    """
    try:
        envelope = _ENVELOPE.decode(data)
        cls = _REGISTRY.get(envelope.type)
        if cls is None or not 1 <= envelope.v <= cls.VERSION:
            return None
        decoder = _TYPED.get(cls)
        if decoder is None:
            decoder = _TYPED[cls] = msgspec.json.Decoder(cls)
        return decoder.decode(envelope.body)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None


_AT = re.compile(r"^(?P<reason>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.DOTALL)
_MISSING = re.compile(r"^Object missing required field `(?P<name>[^`]*)`$")


def _field_error(message: str) -> DecodeError:
    """A DecodeError naming the field of a validation message ("Expected `str`, got `int` - at `$.run_id`")."""
    found = _AT.match(message)
    reason, path = (found["reason"], found["path"] or "") if found else (message, "")
    missing = _MISSING.match(reason)
    if missing:
        return DecodeError(f"body{path}.{missing['name']}", "required field is missing")
    return DecodeError(f"body{path}", reason)


def _may_be_deep(data: bytes | str) -> bool:
    """PERF: depth cannot exceed the number of opening brackets, counted in C; walk only when it could."""
    opening = (b"[", b"{") if isinstance(data, bytes) else ("[", "{")
    return data.count(opening[0]) + data.count(opening[1]) > MAX_DEPTH  # type: ignore[arg-type]


def _may_have_surrogates(data: bytes | str) -> bool:
    """PERF: only an escaped surrogate can produce a lone one; scan the tree only when the payload has one."""
    pattern = _SURROGATE_BYTES if isinstance(data, bytes) else _SURROGATE_TEXT
    return pattern.search(data) is not None  # type: ignore[arg-type]


def _check_depth(data: bytes | str, envelope: dict[str, Any]) -> None:
    """Refuse nesting deeper than MAX_DEPTH, which later re-encoding could not survive."""
    if not _may_be_deep(data):
        return
    stack: list[tuple[Any, int]] = [(envelope, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise DecodeError("$", f"nested deeper than {MAX_DEPTH} levels")
        children = value.values() if isinstance(value, dict) else value
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))


_SURROGATE_BYTES = re.compile(rb"\\u[dD][89a-fA-F]")
_SURROGATE_TEXT = re.compile("\\\\u[dD][89a-fA-F]|[\ud800-\udfff]")


def _check_text(data: bytes | str, envelope: dict[str, Any]) -> None:
    """Refuse strings that are not valid Unicode (lone surrogates): re-encoding them would fail later."""
    if not _may_have_surrogates(data):
        return
    stack: list[Any] = [envelope]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            stack.extend(value.keys())
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
        elif isinstance(value, str):
            try:
                value.encode()
            except UnicodeEncodeError:
                raise DecodeError("$", "a string is not valid Unicode (lone surrogate)") from None
