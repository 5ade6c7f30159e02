"""Evaluations: list, read, start (cases inline; they run as recorded runs), compare two."""

from __future__ import annotations

from typing import Any

import falcon.asgi

from agentstage.api.errors import FieldError
from agentstage.api.resources.base import Op, Resource, dump, load_body, load_query
from agentstage.api.schemas.evals import (
    EvalCompareQuery,
    EvalCompareSchema,
    EvalCreateSchema,
    EvalDetailSchema,
    EvalListQuery,
    EvalSchema,
    EvalStartedSchema,
)
from agentstage.runtime.errors import ConfigError, DatasetError
from agentstage.runtime.evals.dataset import EvalCase, parse_case
from agentstage.runtime.evals.judge import refuse_unable_judge
from agentstage.runtime.evals.runner import EvalOptions, start_eval
from agentstage.runtime.state.evals import compare_evals, get_eval, list_evals

__all__ = ["EvalCompareResource", "EvalResource", "EvalsResource"]


class EvalsResource(Resource):
    OPS = {
        "GET": Op("List evals, newest first", "evals", EvalSchema, many=True, query=EvalListQuery, errors=(422,)),
        "POST": Op("Start an eval of inline cases", "evals", EvalStartedSchema, status=202, body=EvalCreateSchema,
                   errors=(422,), description="The eval is stored as `running` before the answer; each case runs "
                   "as a recorded run in this process (in queued mode too) and its result is stored as it ends."),
    }

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        q = load_query(req, EvalListQuery)
        dump(resp, EvalSchema, await self.backend.read(lambda r: list_evals(r, limit=q["limit"], status=q["status"])),
             many=True)

    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        body = await load_body(req, EvalCreateSchema)
        cases = _cases(body["cases"])
        options = EvalOptions(agent=body["agent"], workflow=body["workflow"], workers=body["workers"], timeout=body["timeout"],
                              retries=body["retries"], fail_under=body["fail_under"], judge=body["judge"],
                              judge_rubric=body["judge_rubric"], judge_min_score=body["judge_min_score"])
        system = self.backend.system
        audit = self.backend.auditor(req, "eval.start", options.eval_id, {"dataset": body["dataset"],
                                                                         "cases": len(cases)})

        def start() -> None:
            _check(system, cases, options)
            audit()
            start_eval(system, cases, options, dataset=body["dataset"], control=self.backend.control)

        await self.backend.call(start)
        dump(resp, EvalStartedSchema, {"eval_id": options.eval_id, "status": "running", "cases": len(cases)},
             status=202)


class EvalResource(Resource):
    OPS = {"GET": Op("One eval with its case results and their runs", "evals", EvalDetailSchema, errors=(404,))}

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response, eval_id: str) -> None:
        dump(resp, EvalDetailSchema, await self.backend.read(lambda reader: get_eval(reader, eval_id)))


class EvalCompareResource(Resource):
    OPS = {"GET": Op("Compare two evals case by case (regressed, improved, ...)", "evals", EvalCompareSchema,
                     query=EvalCompareQuery, errors=(404, 422))}

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        q = load_query(req, EvalCompareQuery)
        dump(resp, EvalCompareSchema, await self.backend.read(lambda r: compare_evals(r, q["base"], q["head"])))


def _cases(raw: list[dict[str, Any]]) -> list[EvalCase]:
    """The body's cases, each checked like a dataset line; a 422 names `cases[i].field`."""
    cases: list[EvalCase] = []
    seen: set[str] = set()
    for index, item in enumerate(raw):
        try:
            case = parse_case(item, index + 1, "cases")
        except DatasetError as exc:
            raise _field_error(index, exc.field, exc.reason) from None
        if case.id in seen:
            raise _field_error(index, "id", f"duplicate id {case.id!r}")
        seen.add(case.id)
        cases.append(case)
    return cases


def _check(system: Any, cases: list[EvalCase], options: EvalOptions) -> None:
    """What `start_eval` would refuse, as 422s naming the field: unknown agents, a judge asked for but not
    given, a judge that is unknown or cannot judge."""
    agents = {spec.name for spec in system.agents()}
    workflows = set(system.workflows.names())
    if options.agent not in agents:
        raise FieldError(422, title="Invalid request", errors={"agent": [f"unknown agent {options.agent!r}"]})
    if options.workflow is not None and options.workflow not in workflows:
        raise FieldError(422, title="Invalid request", errors={"workflow": [f"unknown workflow {options.workflow!r}"]})
    if options.judge is not None:
        if options.judge not in agents:
            raise FieldError(422, title="Invalid request", errors={"judge": [f"unknown agent {options.judge!r}"]})
        try:
            refuse_unable_judge(system.provider_name(options.judge), "judge")
        except ConfigError as exc:
            raise FieldError(422, title="Invalid request", errors={"judge": [exc.reason]}) from None
    for index, case in enumerate(cases):
        if case.agent is not None and case.agent not in agents:
            raise _field_error(index, "agent", f"unknown agent {case.agent!r}")
        if case.workflow is not None and case.workflow not in workflows:
            raise _field_error(index, "workflow", f"unknown workflow {case.workflow!r}")
        if case.judge is not None and options.judge is None:
            raise _field_error(index, "judge", "the case asks for a judge; name the judge agent in 'judge'")


def _field_error(index: int, field: str, reason: str) -> FieldError:
    key = f"cases[{index}].{field}" if field else f"cases[{index}]"
    return FieldError(422, title="Invalid request", description=f"{key}: {reason}", errors={key: [reason]})
