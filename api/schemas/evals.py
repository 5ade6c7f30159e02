"""Evaluations: list query, start body, stored eval and case result, and the comparison of two evals."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from agentstage.api.schemas.common import Timestamp, id_field

__all__ = ["EvalCaseSchema", "EvalCompareQuery", "EvalCompareSchema", "EvalCreateSchema", "EvalDetailSchema",
           "EvalListQuery", "EvalSchema", "EvalStartedSchema"]

EVAL_STATUSES = ("running", "completed", "failed")
CASE_STATUSES = ("passed", "failed", "error")


class EvalListQuery(Schema):
    """Filters of `GET /evals`."""

    limit = fields.Integer(load_default=50, validate=validate.Range(1, 500),
                           metadata={"description": "how many evals, newest first (1-500)"})
    status = fields.String(load_default=None, validate=validate.OneOf(EVAL_STATUSES))


class EvalCreateSchema(Schema):
    """Body of `POST /evals`: the dataset's cases inline (the objects of a JSONL dataset) and the run options."""

    cases = fields.List(fields.Dict(), required=True, validate=validate.Length(1, 1000),
                        metadata={"description": "cases as in a JSONL dataset: {input, id, agent, assertions, "
                                                 "required_tools, forbidden_tools, judge, ...}"})
    dataset = fields.String(load_default="api", validate=validate.Length(1, 200),
                            metadata={"description": "a label naming the dataset"})
    agent = fields.String(load_default="default", validate=validate.Length(1, 200),
                          metadata={"description": "agent for cases that name none"})
    workflow = fields.String(load_default=None, allow_none=True, validate=validate.Length(1, 200),
                             metadata={"description": "workflow for cases that name no agent or workflow (instead of agent)"})
    workers = fields.Integer(load_default=4, validate=validate.Range(1, 32))
    timeout = fields.Float(load_default=None, allow_none=True, validate=validate.Range(0, 3600, min_inclusive=False),
                           metadata={"description": "seconds each attempt may take (default: the run timeout)"})
    retries = fields.Integer(load_default=1, validate=validate.Range(0, 10),
                             metadata={"description": "more attempts for a case whose run fails or times out"})
    fail_under = fields.Float(load_default=1.0, validate=validate.Range(0, 1),
                              metadata={"description": "pass rate (0-1) the eval must reach"})
    judge = fields.String(load_default=None, allow_none=True, validate=validate.Length(1, 200),
                          metadata={"description": "agent grading every answer (none: no judge)"})
    judge_rubric = fields.String(load_default="", validate=validate.Length(0, 10_000))
    judge_min_score = fields.Float(load_default=0.7, validate=validate.Range(0, 1))


class EvalStartedSchema(Schema):
    eval_id = fields.String(required=True)
    status = fields.String(required=True, metadata={"enum": ["running"]})
    cases = fields.Integer(required=True)


class CheckSchema(Schema):
    name = fields.String(required=True)
    passed = fields.Boolean(required=True)
    detail = fields.String(required=True)


class EvalCaseSchema(Schema):
    """One case's result, linked to its run (and to every attempt's run)."""

    case_id = fields.String(required=True)
    status = fields.String(required=True, metadata={"enum": list(CASE_STATUSES)})
    passed = fields.Boolean(required=True)
    run_id = fields.String(required=True, metadata={"description": "the run of the last attempt"})
    run_ids = fields.List(fields.String(), required=True)
    attempts = fields.Integer(required=True)
    agent = fields.String(required=True)
    line = fields.Integer(required=True)
    output = fields.String(required=True)
    error = fields.String(allow_none=True)
    reason = fields.String(required=True, metadata={"description": "why it did not pass (empty when it did)"})
    checks = fields.List(fields.Nested(CheckSchema), required=True)
    tools = fields.List(fields.String(), required=True, metadata={"description": "tools its run and child runs called"})
    judge = fields.Dict(allow_none=True)
    seconds = fields.Float(required=True)
    tokens = fields.Integer(required=True)
    tags = fields.List(fields.String(), metadata={"description": "the case's tags from the dataset"})
    tool_constraints = fields.Boolean(allow_none=True, metadata={
        "description": "whether its required and forbidden tools held (null when it sets none)"})


class EvalSchema(Schema):
    """A stored eval: its options and totals."""

    eval_id = fields.String(required=True)
    dataset = fields.String(required=True)
    agent = fields.String(required=True)
    status = fields.String(required=True, metadata={"enum": list(EVAL_STATUSES)})
    started_at = Timestamp("when it started", required=True)
    ended_at = Timestamp("when it ended", allow_none=True)
    cases = fields.Integer(required=True)
    passed = fields.Integer(required=True)
    pass_rate = fields.Float(allow_none=True)
    fail_under = fields.Float(required=True)
    ok = fields.Function(lambda e: e["pass_rate"] is not None and e["pass_rate"] >= e["fail_under"],
                         metadata={"type": "boolean", "description": "whether it reached fail_under"})
    options = fields.Dict()
    summary = fields.Dict(required=True)
    error = fields.String(allow_none=True)


class EvalDetailSchema(EvalSchema):
    results = fields.List(fields.Nested(EvalCaseSchema), required=True)


class EvalCompareQuery(Schema):
    base = id_field("the earlier eval", required=True)
    head = id_field("the eval compared with it", required=True)


class _Side(Schema):
    status = fields.String(required=True)
    run_id = fields.String(required=True)
    reason = fields.String(required=True)


class CaseChangeSchema(Schema):
    case_id = fields.String(required=True)
    base = fields.Nested(_Side, allow_none=True)
    head = fields.Nested(_Side, allow_none=True)


class EvalCompareSchema(Schema):
    """Case by case, what changed from `base` to `head`."""

    base = fields.Nested(EvalSchema, required=True)
    head = fields.Nested(EvalSchema, required=True)
    regressed = fields.List(fields.Nested(CaseChangeSchema), required=True,
                            metadata={"description": "passed in base, not in head"})
    improved = fields.List(fields.Nested(CaseChangeSchema), required=True,
                           metadata={"description": "not passed in base, passed in head"})
    still_passing = fields.List(fields.Nested(CaseChangeSchema), required=True)
    still_failing = fields.List(fields.Nested(CaseChangeSchema), required=True)
    added = fields.List(fields.Nested(CaseChangeSchema), required=True)
    removed = fields.List(fields.Nested(CaseChangeSchema), required=True)
    pass_rate_delta = fields.Float(required=True)
