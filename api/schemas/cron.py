"""Schedules under `/cron/jobs`, in the reference DevUI's shapes (`name`, `cronExpr`, `config{input, workflow}`,
`enabled`, `lastRun`, `nextRun`, `lastError`, `runCount`) plus what agentstage adds: a time zone, intervals, the
missed-tick grace, the agent to run."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from agentstage.api.schemas.common import Timestamp

__all__ = ["JobCreateSchema", "JobHistoryQuery", "JobHistorySchema", "JobPatchSchema", "JobRemovedSchema",
           "JobSchema", "JobTriggeredSchema"]

_NAME = validate.Regexp(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$",
                        error="1-100 letters, digits, '.', '_' or '-', starting with a letter or digit")


def _empty(kind: str):
    """Reference fields agentstage does not apply per schedule: accepted empty, refused otherwise."""
    def check(value: object) -> None:
        if value:
            raise ValidationError(f"per-schedule {kind} are not supported: schedule an agent configured with them")

    return check


class JobConfigSchema(Schema):
    """What a firing runs: an agent (default `default`) or a workflow, on `input`."""

    input = fields.String(load_default="", validate=validate.Length(0, 100_000),
                          metadata={"description": "the run's input"})
    agent = fields.String(load_default="default", validate=validate.Length(1, 200))
    workflow = fields.String(load_default=None, allow_none=True, validate=validate.Length(0, 200),
                             metadata={"description": "a workflow to run instead of the agent"})
    tools = fields.List(fields.String(), load_default=list, validate=_empty("tools"))
    systemPrompt = fields.String(load_default="", validate=_empty("system prompts"))
    replyTo = fields.Dict(load_default=None, allow_none=True, validate=_empty("reply targets"))


class JobConfigPatchSchema(Schema):
    """What to change of what a firing runs."""

    input = fields.String(validate=validate.Length(0, 100_000))
    agent = fields.String(validate=validate.Length(1, 200))
    workflow = fields.String(allow_none=True, validate=validate.Length(0, 200))
    tools = fields.List(fields.String(), validate=_empty("tools"))
    systemPrompt = fields.String(validate=_empty("system prompts"))
    replyTo = fields.Dict(allow_none=True, validate=_empty("reply targets"))


class _Timing(Schema):
    cronExpr = fields.String(allow_none=True, validate=validate.Length(1, 200),
                             metadata={"description": "5-field cron: minute hour day-of-month month day-of-week"})
    timezone = fields.String(validate=validate.Length(1, 100),
                             metadata={"description": "IANA time zone of cronExpr (default UTC)"})
    intervalSeconds = fields.Float(allow_none=True, allow_nan=False,
                                   metadata={"description": "fire every N seconds instead of cronExpr"})
    graceSeconds = fields.Float(allow_nan=False, metadata={
        "description": "how late a missed tick may still fire after downtime (default 300); older ones are skipped"})


class JobCreateSchema(_Timing):
    """Body of `POST /cron/jobs`: a name and a cronExpr (or intervalSeconds)."""

    name = fields.String(required=True, validate=_NAME)
    enabled = fields.Boolean(load_default=True)
    config = fields.Nested(JobConfigSchema, load_default=lambda: JobConfigSchema().load({}))

    @validates_schema
    def _one_timing(self, data: dict, **kwargs: object) -> None:
        if (data.get("cronExpr") is None) == (data.get("intervalSeconds") is None):
            raise ValidationError("give either cronExpr or intervalSeconds", "cronExpr")


class JobPatchSchema(_Timing):
    """Body of `PATCH /cron/jobs/{name}`: `{enabled}` (the reference's) or any timing or config to change."""

    enabled = fields.Boolean()
    config = fields.Nested(JobConfigPatchSchema)

    @validates_schema
    def _something(self, data: dict, **kwargs: object) -> None:
        if not data:
            raise ValidationError("nothing to change: give enabled, cronExpr, intervalSeconds, timezone, "
                                  "graceSeconds or config", "_schema")
        if data.get("cronExpr") is not None and data.get("intervalSeconds") is not None:
            raise ValidationError("give either cronExpr or intervalSeconds", "cronExpr")


class JobOutConfigSchema(Schema):
    input = fields.String(required=True)
    agent = fields.String(required=True)
    workflow = fields.String(allow_none=True, required=True)


class JobSchema(Schema):
    name = fields.String(required=True)
    cronExpr = fields.String(allow_none=True, required=True, metadata={"description": "null for an interval"})
    timezone = fields.String(required=True)
    intervalSeconds = fields.Float(allow_none=True, required=True)
    graceSeconds = fields.Float(required=True)
    enabled = fields.Boolean(required=True)
    config = fields.Nested(JobOutConfigSchema, required=True)
    createdAt = Timestamp("when it was created", required=True)
    updatedAt = Timestamp("when it last changed", required=True)
    lastRun = Timestamp("when it last fired (schedule or manual), null before", allow_none=True, required=True)
    lastStatus = fields.String(allow_none=True, required=True,
                               metadata={"description": "the last firing's run status, or started/failed/skipped"})
    lastRunId = fields.String(allow_none=True, required=True)
    nextRun = Timestamp("its next tick (null while disabled)", allow_none=True, required=True)
    lastError = fields.String(allow_none=True, required=True)
    runCount = fields.Integer(required=True, metadata={"description": "firings that started a run"})


class JobRunSchema(Schema):
    """One firing: a run started by the schedule or by hand, or a missed tick skipped."""

    at = Timestamp("when it fired", required=True)
    tick = Timestamp("the scheduled time (the trigger's time for a manual one)", required=True)
    trigger = fields.String(required=True, metadata={"enum": ["schedule", "manual"]})
    status = fields.String(required=True, metadata={
        "description": "the run's status (queued, running, completed, failed, ...) once stored; else started, "
                       "claimed, failed (it could not start) or skipped (a missed tick past the grace)"})
    runId = fields.String(allow_none=True, required=True)
    durationMs = fields.Float(allow_none=True, required=True, metadata={"description": "from firing to the run's end"})
    output = fields.String(allow_none=True, required=True, metadata={"description": "the run's answer, cut at 2000"})
    error = fields.String(allow_none=True, required=True)
    missed = fields.Integer(required=True, metadata={"description": "earlier missed ticks folded into this one"})
    owner = fields.String(required=True, metadata={"description": "the scheduler that held the tick's lease"})


class JobHistoryQuery(Schema):
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 500))


class JobHistorySchema(Schema):
    name = fields.String(required=True)
    runs = fields.List(fields.Nested(JobRunSchema), required=True, metadata={"description": "newest first"})
    logs = fields.List(fields.Nested(JobRunSchema), metadata={"description": "the same, on the `/logs` route"})
    count = fields.Integer(required=True)


class JobRemovedSchema(Schema):
    status = fields.String(required=True, metadata={"enum": ["removed"]})


class JobTriggeredSchema(Schema):
    name = fields.String(required=True)
    status = fields.String(required=True, metadata={"description": "started, or failed when the run could not start"})
    runId = fields.String(allow_none=True, required=True)
    output = fields.String(allow_none=True, required=True, metadata={
        "description": "null: the run goes on; read it at /runs/{runId}"})
    error = fields.String(allow_none=True, required=True)
