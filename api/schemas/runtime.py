"""The distributed runtime's queues, DLQ, health, cancel and requeue: query, body and response shapes."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from agentstage.api.redaction import RedactedString
from agentstage.api.schemas.admin import WorkerSchema

__all__ = [
    "CancelSchema",
    "DetailsSchema",
    "DlqEntryDetailSchema",
    "DlqEntrySchema",
    "DlqQuery",
    "LiveWorkerSchema",
    "PurgedSchema",
    "QueueSchema",
    "RuntimeActionSchema",
]


class QueueSchema(Schema):
    stream = fields.String(required=True)
    kind = fields.String(required=True, metadata={"enum": ["stream", "dlq", "delayed"]})
    group = fields.String(load_default=None, metadata={"description": "consumer group (streams only)"})
    length = fields.Integer(required=True)
    pending = fields.Integer(required=True, metadata={"description": "delivered, not yet acknowledged"})
    lag = fields.Integer(required=True, metadata={"description": "not yet delivered to the group"})
    oldest_age_s = fields.Float(allow_none=True, required=True)


class DlqQuery(Schema):
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 500))
    run_id = fields.String(load_default=None, validate=validate.Length(1, 200),
                           metadata={"description": "only this run's entries"})


class DlqEntrySchema(Schema):
    id = fields.String(required=True)
    run_id = fields.String(required=True)
    task_id = fields.String(required=True)
    stream = fields.String(required=True)
    entry_id = fields.String(required=True)
    reason = fields.String(required=True)
    attempts = fields.Integer(required=True)
    worker = fields.String(required=True)
    last_error = fields.String(required=True)
    ts = fields.Float(required=True, metadata={"description": "dead-lettered at, seconds since the epoch"})


class DlqEntryDetailSchema(DlqEntrySchema):
    """A DLQ entry with the task message as it was queued (secrets redacted)."""

    payload = RedactedString(required=True, metadata={"description": "the queued message, as text (often JSON)"})


class LiveWorkerSchema(WorkerSchema):
    alive = fields.Boolean(required=True, metadata={"description": "heartbeat within 3 intervals"})
    age_s = fields.Float(required=True, metadata={"description": "seconds since the last heartbeat"})


class DetailsSchema(Schema):
    status = fields.String(required=True, metadata={"enum": ["healthy", "degraded"]})
    reasons = fields.List(fields.String(), required=True, metadata={"description": "why it is degraded"})
    queues = fields.List(fields.Nested(QueueSchema), required=True)
    workers = fields.List(fields.Nested(LiveWorkerSchema), required=True)
    worker_count = fields.Integer(required=True)
    alive_workers = fields.Integer(required=True)
    dlq = fields.List(fields.Nested(DlqEntrySchema), required=True)
    dlq_count = fields.Integer(required=True)


class CancelSchema(Schema):
    reason = fields.String(load_default="", validate=validate.Length(0, 1000))


class RuntimeActionSchema(Schema):
    run_id = fields.String(required=True)
    status = fields.String(required=True, metadata={"enum": ["cancelling", "cancelled", "requeued"]})
    dlq_id = fields.String(allow_none=True)
    attempt = fields.Integer(allow_none=True, metadata={"description": "the new attempt, when already known"})


class PurgedSchema(Schema):
    purged = fields.Integer(required=True, metadata={"description": "how many dead-lettered tasks were deleted"})
