"""API keys, audit, metrics, workers, attempts and health: query, body and response shapes."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from agentstage.api.rbac import ROLES
from agentstage.api.schemas.common import PageQuery, Timestamp, UtcDateTime, id_field

__all__ = [
    "ApiKeyCreateSchema",
    "ApiKeyCreatedSchema",
    "ApiKeySchema",
    "AttemptSchema",
    "AuditEntrySchema",
    "AuditPageSchema",
    "AuditQuery",
    "HealthSchema",
    "LoginSchema",
    "MeSchema",
    "MetricsQuery",
    "MetricsSchema",
    "ReadySchema",
    "WorkerSchema",
]


class ApiKeySchema(Schema):
    """An API key as listed: never its secret or hash."""

    id = fields.String(required=True)
    prefix = fields.String(required=True, metadata={"description": "first characters of the key, to recognise it"})
    role = fields.String(required=True, metadata={"enum": list(ROLES)})
    name = fields.String(required=True)
    created_at = Timestamp("creation", required=True)
    expires_at = Timestamp("expiry (null: never)", allow_none=True)
    revoked_at = Timestamp("revocation (null: active)", allow_none=True)
    last_used_at = Timestamp("last accepted request, to the minute", allow_none=True)


class ApiKeyCreateSchema(Schema):
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    name = fields.String(load_default="", validate=validate.Length(0, 200))
    expires_in = fields.Integer(load_default=None, validate=validate.Range(60, 10 * 365 * 86400),
                                metadata={"description": "seconds until the key expires (default: never)"})


class ApiKeyCreatedSchema(ApiKeySchema):
    secret = fields.String(required=True, metadata={"description": "the key itself: shown once, store it now"})


class LoginSchema(Schema):
    token = fields.String(required=True, validate=validate.Length(16, 200),
                          metadata={"description": "the one-time token printed by `agentstage ui`"})


class MeSchema(Schema):
    key_id = fields.String(required=True)
    role = fields.String(required=True)
    name = fields.String(required=True)


class AuditQuery(PageQuery):
    key_id = id_field("only rows of this key ('local' for loopback admin)", load_default=None)
    action = fields.String(load_default=None, validate=validate.Length(1, 200))
    outcome = fields.String(load_default=None, validate=validate.OneOf(("ok", "denied", "rejected")))
    since = UtcDateTime(load_default=None)
    until = UtcDateTime(load_default=None)


class AuditEntrySchema(Schema):
    id = fields.String(required=True)
    ts = Timestamp("when", required=True)
    action = fields.String(required=True, metadata={"description": "e.g. run.start, auth.key.create, access.denied"})
    outcome = fields.String(required=True, metadata={"enum": ["ok", "denied", "rejected"]})
    key_id = fields.String(allow_none=True)
    role = fields.String(allow_none=True)
    target = fields.String(required=True)
    request_id = fields.String(required=True)
    client = fields.String(required=True, metadata={"description": "client address"})
    detail = fields.Dict(required=True)


class AuditPageSchema(Schema):
    items = fields.List(fields.Nested(AuditEntrySchema), required=True)
    next_cursor = fields.String(allow_none=True, required=True)


class MetricsQuery(Schema):
    since = UtcDateTime(load_default=None, metadata={"description": "only runs created since"})


class ProviderTokensSchema(Schema):
    provider = fields.String(required=True)
    runs = fields.Integer(required=True)
    input_tokens = fields.Integer(required=True)
    output_tokens = fields.Integer(required=True)
    total_tokens = fields.Integer(required=True)


class MetricsSchema(Schema):
    runs = fields.Integer(required=True)
    by_status = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
    duration_ms_p50 = fields.Float(allow_none=True, required=True)
    duration_ms_p95 = fields.Float(allow_none=True, required=True)
    tokens = fields.List(fields.Nested(ProviderTokensSchema), required=True)


class WorkerSchema(Schema):
    worker_id = fields.String(required=True)
    host = fields.String(required=True)
    pid = fields.Integer(required=True)
    started_at = Timestamp("worker start", required=True)
    last_seen = Timestamp("latest heartbeat", required=True)
    in_flight = fields.Integer(required=True)
    concurrency = fields.Integer(required=True)
    status = fields.String(required=True)


class AttemptSchema(Schema):
    run_id = fields.String(required=True)
    attempt = fields.Integer(required=True)
    task_id = fields.String(required=True)
    worker_id = fields.String(required=True)
    status = fields.String(required=True)
    started_at = Timestamp("attempt start", required=True)
    ended_at = Timestamp("attempt end", allow_none=True)
    error = fields.String(allow_none=True)


class HealthSchema(Schema):
    status = fields.String(required=True)


class ReadySchema(Schema):
    status = fields.String(required=True, metadata={"enum": ["ready", "unavailable"]})
    checks = fields.Dict(keys=fields.String(), values=fields.String(), required=True)


class MetricsSeriesQuery(Schema):
    """The window and bucket size of `GET /metrics/timeseries`."""

    since = UtcDateTime(load_default=None, metadata={"description": "window start (default: an hour before until)"})
    until = UtcDateTime(load_default=None, metadata={"description": "window end (default: now)"})
    bucket = fields.Integer(load_default=60, validate=validate.Range(10, 86_400),
                            metadata={"description": "bucket length in seconds (10-86400; at most 500 buckets)"})


class PriceSchema(Schema):
    model = fields.String(required=True, metadata={"description": "a model name; `prefix*` matches by prefix"})
    input_per_mtok = fields.Float(required=True, metadata={"description": "USD per million input tokens"})
    output_per_mtok = fields.Float(required=True, metadata={"description": "USD per million output tokens"})


class SeriesBucketSchema(Schema):
    start = Timestamp("the bucket's start", required=True)
    runs = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True,
                       metadata={"description": "runs created in the bucket, by status"})
    duration_ms_p50 = fields.Float(allow_none=True, required=True)
    duration_ms_p95 = fields.Float(allow_none=True, required=True)
    llm_calls = fields.Integer(required=True)
    input_tokens = fields.Integer(required=True)
    output_tokens = fields.Integer(required=True)
    cost_usd = fields.Float(required=True, metadata={"description": "estimated cost of the priced models' calls"})
    queued = fields.Integer(allow_none=True, required=True, metadata={"description": "tasks queued (queued mode)"})
    claimed = fields.Integer(allow_none=True, required=True, metadata={"description": "tasks claimed by workers"})
    acked = fields.Integer(allow_none=True, required=True,
                           metadata={"description": "tasks workers finished: their throughput"})
    queue_depth = fields.Integer(allow_none=True, required=True,
                                 metadata={"description": "tasks waiting at the bucket's end"})


class MetricsSeriesSchema(Schema):
    since = Timestamp("window start", required=True)
    until = Timestamp("window end", required=True)
    bucket_s = fields.Integer(required=True)
    queues = fields.Boolean(required=True, metadata={"description": "whether queue figures apply (queued mode)"})
    buckets = fields.List(fields.Nested(SeriesBucketSchema), required=True)
    cost_usd = fields.Float(required=True, metadata={"description": "the window's estimated cost"})
    prices = fields.List(fields.Nested(PriceSchema), required=True, metadata={"description": "the price table"})
    unpriced_models = fields.List(fields.String(), required=True,
                                  metadata={"description": "models called in the window without a price"})
