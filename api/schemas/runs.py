"""Runs, sessions, events and checkpoints: query, body and response shapes."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates

from agentstage.api.redaction import RedactedDict, RedactedString
from agentstage.api.schemas.common import PageQuery, Timestamp, UtcDateTime, id_field

__all__ = [
    "CheckpointSchema",
    "CheckpointSummarySchema",
    "EventIngestSchema",
    "EventIngestedSchema",
    "EventSchema",
    "EventsQuery",
    "RunCreateSchema",
    "RunListQuery",
    "RunPageSchema",
    "RunSchema",
    "RunStartedSchema",
    "RunStreamQuery",
    "SessionPageSchema",
    "SessionRunsQuery",
    "SessionSchema",
    "StreamQuery",
]

STATUSES = ("queued", "running", "waiting", "completed", "failed", "cancelled")
RESERVED_EVENT_PREFIXES = ("run.", "llm.", "tool.", "node.", "checkpoint.", "task.", "worker.")


class RunListQuery(PageQuery):
    """Filters, sort and page of `GET /runs`."""

    status = fields.String(load_default=None, validate=validate.OneOf(STATUSES))
    session_id = id_field("only runs of this session", load_default=None)
    workflow = fields.String(load_default=None, validate=validate.Length(1, 200))
    agent = fields.String(load_default=None, validate=validate.Length(1, 200),
                          metadata={"description": "only runs of this agent"})
    worker = fields.String(load_default=None, validate=validate.Length(1, 200),
                           metadata={"description": "only runs executed by this worker id"})
    id_prefix = id_field("only runs whose id starts with this", load_default=None)
    q = fields.String(load_default=None, validate=validate.Length(1, 200),
                      metadata={"description": "only runs whose input or output contains this text (any case)"})
    top_level = fields.Boolean(load_default=False,
                               metadata={"description": "only runs without a parent (child runs left out)"})
    parent_run_id = fields.List(id_field("a graph run"), load_default=None, validate=validate.Length(1, 100),
                                metadata={"description": "only the child runs of these runs (repeat the parameter)"})
    since = UtcDateTime(load_default=None,
                                 metadata={"description": "created at or after (ISO-8601 with zone)"})
    until = UtcDateTime(load_default=None, metadata={"description": "created before (ISO-8601 with zone)"})
    sort = fields.String(load_default="desc", validate=validate.OneOf(("desc", "asc")),
                         metadata={"description": "by creation time: desc (newest first) or asc"})


class SessionRunsQuery(PageQuery):
    """Page of `GET /sessions/{id}/runs`."""


class RunSchema(Schema):
    """A run: the projection of its events."""

    run_id = fields.String(required=True)
    session_id = fields.String(required=True)
    kind = fields.String(required=True, metadata={"description": "agent or graph"})
    agent = fields.String(allow_none=True)
    workflow = fields.String(allow_none=True)
    provider = fields.String(allow_none=True)
    model = fields.String(allow_none=True)
    status = fields.String(required=True, metadata={"enum": list(STATUSES)})
    input = RedactedString(required=True, metadata={"description": "secrets shown as [REDACTED:<type>]"})
    output = RedactedString(allow_none=True)
    error = RedactedString(allow_none=True)
    input_tokens = fields.Integer(required=True)
    output_tokens = fields.Integer(required=True)
    total_tokens = fields.Integer(required=True)
    attempt = fields.Integer(required=True)
    worker_id = fields.String(allow_none=True)
    parent_run_id = fields.String(allow_none=True)
    metadata = RedactedDict(required=True)
    last_seq = fields.Integer(required=True)
    created_at = Timestamp("when the run was queued or started", required=True)
    started_at = Timestamp("when it started running", allow_none=True)
    updated_at = Timestamp("last change", required=True)
    ended_at = Timestamp("when it ended", allow_none=True)


class RunPageSchema(Schema):
    items = fields.List(fields.Nested(RunSchema), required=True)
    next_cursor = fields.String(allow_none=True, required=True, metadata={"description": "null on the last page"})


class RunCreateSchema(Schema):
    """Start a run of an agent, or of a workflow (graph run)."""

    input = fields.String(required=True, validate=validate.Length(1, 100_000), metadata={"description": "the prompt"})
    agent = fields.String(load_default="default", validate=validate.Length(1, 200),
                          metadata={"description": "the agent of an agent run"})
    workflow = fields.String(load_default=None, validate=validate.Length(1, 200),
                             metadata={"description": "run this workflow (a graph run) instead of an agent"})
    session_id = id_field("continue this session (default: a new one)", load_default=None)
    run_id = id_field("choose the run id (default: a new one)", load_default=None)
    metadata = fields.Dict(keys=fields.String(), load_default=dict)

    @validates("input")
    def _not_blank(self, value: str, **kwargs) -> None:
        if not value.strip():
            raise ValidationError("must not be blank")


class RunStartedSchema(Schema):
    run_id = fields.String(required=True)
    session_id = fields.String(required=True)
    status = fields.String(required=True)


class EventSchema(Schema):
    """One durable event of a run; `seq` orders a run's events."""

    run_id = fields.String(required=True)
    seq = fields.Integer(required=True)
    type = fields.String(required=True)
    ts = Timestamp("when it happened", required=True)
    session_id = fields.String(required=True)
    node = fields.String(allow_none=True)
    tool = fields.String(allow_none=True)
    provider = fields.String(allow_none=True)
    duration_ms = fields.Float(allow_none=True)
    error = RedactedString(allow_none=True)
    data = RedactedDict(required=True, metadata={"description": "secrets in its strings shown as [REDACTED:<type>]"})


class EventsQuery(Schema):
    after_seq = fields.Integer(load_default=0, validate=validate.Range(0, 2**53),
                               metadata={"description": "only events with a larger seq"})
    limit = fields.Integer(load_default=500, validate=validate.Range(1, 1000))


class EventIngestSchema(Schema):
    """An external event to add to a finished run's trace."""

    run_id = id_field("the run the event belongs to", required=True)
    type = fields.String(required=True, validate=[
        validate.Regexp(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$", error="must look like 'source.what' in lower case"),
        validate.Length(3, 100)])
    data = fields.Dict(keys=fields.String(), load_default=dict)
    node = fields.String(load_default=None, validate=validate.Length(1, 200))
    tool = fields.String(load_default=None, validate=validate.Length(1, 200))
    duration_ms = fields.Float(load_default=None, validate=validate.Range(0, 1e12))
    error = fields.String(load_default=None, validate=validate.Length(1, 10_000))

    @validates("type")
    def _not_reserved(self, value: str, **kwargs) -> None:
        if value.startswith(RESERVED_EVENT_PREFIXES):
            raise ValidationError(f"types starting with {', '.join(RESERVED_EVENT_PREFIXES)} are the runtime's own")


class EventIngestedSchema(Schema):
    run_id = fields.String(required=True)
    seq = fields.Integer(required=True)


class RunStreamQuery(Schema):
    """Bounds of a run's event stream (the stream also ends when the run does)."""

    after_seq = fields.Integer(load_default=None, validate=validate.Range(0, 2**53),
                               metadata={"description": "resume after this seq (Last-Event-ID wins when sent)"})
    max_events = fields.Integer(load_default=None, validate=validate.Range(1, 100_000),
                                metadata={"description": "end the stream after this many events"})
    timeout = fields.Float(load_default=None, validate=validate.Range(0.1, 86_400),
                           metadata={"description": "end the stream after this many seconds"})


class StreamQuery(RunStreamQuery):
    """Filters of the all-events stream."""

    run_id = id_field("only this run's events", load_default=None)
    type = fields.List(fields.String(validate=validate.Length(1, 100)), load_default=None,
                       metadata={"description": "only these event types (repeat the parameter)"})
    backlog = fields.Integer(load_default=0, validate=validate.Range(0, 500),
                             metadata={"description": "first send up to this many stored events"})


class CheckpointSummarySchema(Schema):
    run_id = fields.String(required=True)
    step = fields.Integer(required=True)
    node = fields.String(required=True)
    next_node = fields.String(allow_none=True)
    state_bytes = fields.Integer(required=True)
    version = fields.Integer(required=True)
    created_at = Timestamp("when it was saved", required=True)


class CheckpointSchema(CheckpointSummarySchema):
    state = RedactedDict(required=True)


class SessionSchema(Schema):
    session_id = fields.String(required=True)
    created_at = Timestamp("first run", required=True)
    updated_at = Timestamp("latest run", required=True)
    runs = fields.Integer(required=True)


class SessionPageSchema(Schema):
    items = fields.List(fields.Nested(SessionSchema), required=True)
    next_cursor = fields.String(allow_none=True, required=True)
