"""The reference DevUI's workflow JSON (its workflow files and `POST /workflows/registry` specs), translated
into an agentstage graph and compiled at once, so a bad edge or node is an error naming its path
(`nodes[1].kind: ...`) when the workflow is loaded, not when it first runs.

    {"name": "triage", "start": "prepare", "allowCycles": false,
     "nodes": [{"id": "prepare", "kind": "template", "template": "Handle: {{input}}", "outputKey": "prompt"},
               {"id": "agent", "kind": "agent", "inputFrom": "prompt", "outputKey": "answer"},
               {"id": "final", "kind": "output", "from": "data.answer"}],
     "edges": [{"from": "prepare", "to": "agent"}, {"from": "agent", "to": "final"}]}

The reference's `Data[K]` is state key `K`; its `input` and `output` are the state keys of those names.
`noop`, `set`, `template`, `output` and `router_json_key` nodes become set nodes (`SetNode`) with the
reference's semantics (`{{ token }}` templates, JSON-encoded non-strings, missing values empty). An agent
node runs the `default` agent (or the one its `agent` field names) and writes `outputKey` (default
`agent_output`) and `output`; when its input comes from `inputFrom`, `template` or `value`, a set node
`<id>.input` before it computes that input in the reference's order. A node with conditional edges is
followed by a router `<id>.next` that takes the first edge, in the file's order, whose condition holds;
an unconditional edge is its default, and without one the run ends there, as in the reference.
`allowCycles` allows cycles, bounded by `maxSteps` (default 100) since agentstage bounds every loop.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from agentstage.runtime.graph.builder import Graph, GraphError
from agentstage.runtime.graph.compiled import CompiledGraph
from agentstage.runtime.graph.nodes import END, AgentNode, Node, RouterNode, SetNode

__all__ = ["AGENT_INPUT", "DEFAULT_MAX_STEPS", "is_reference_document", "load_reference_workflow", "render_tokens"]

AGENT_INPUT = "_agent_input"
"""The state key an agent node's `<id>.input` step writes its input to."""
DEFAULT_MAX_STEPS = 100
"""Steps a run of a workflow with `allowCycles` may take when it gives no `maxSteps`."""

KINDS = ("noop", "set", "template", "agent", "output", "router_json_key")
_TOKEN = re.compile(r"\{\{\s*([^}]+?)\s*\}\}")
_RUN_TOKENS = ("runId", "sessionId")


def _stringify(value: Any) -> str:
    """A value as the reference's templates show it: strings as they are, nothing as empty, the rest as JSON."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def _resolve(token: str, state: Mapping[str, Any], run: Mapping[str, str]) -> str:
    token = token.strip()
    if token == "runId":
        return run.get("run_id", "")
    if token == "sessionId":
        return run.get("session_id", "")
    if token in ("input", "output"):
        return _stringify(state.get(token))
    return _stringify(state.get(token.removeprefix("data.")))


def render_tokens(template: str, state: Mapping[str, Any], run: Mapping[str, str]) -> str:
    """Fill `{{ token }}` placeholders: input, output, runId, sessionId, `data.K` or `K` (a state key)."""
    return _TOKEN.sub(lambda match: _resolve(match.group(1), state, run), template)


class _Trimmed(fields.String):
    """A string the reference trims before use."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        return super()._deserialize(value, attr, data, **kwargs).strip()


class NodeSchema(Schema):
    id = _Trimmed(required=True, validate=validate.Length(min=1, error="a node needs an id"))
    kind = _Trimmed(required=True, validate=validate.OneOf(KINDS, error="unsupported node kind {input!r}; "
                                                           "use noop, set, template, agent, output or router_json_key"))
    key = _Trimmed(load_default="")
    value = fields.Raw(load_default=None, allow_none=True)
    template = fields.String(load_default="")
    outputKey = _Trimmed(load_default="")
    inputFrom = _Trimmed(load_default="")
    source = _Trimmed(load_default="", data_key="from", attribute="from")
    checkKey = _Trimmed(load_default="")
    existsValue = fields.String(load_default="")
    missingValue = fields.String(load_default="")
    agent = _Trimmed(load_default="default", validate=validate.Length(min=1),
                     metadata={"description": "agentstage: the agent an agent node runs (default `default`)"})

    @validates_schema
    def _required_by_kind(self, data: dict[str, Any], **kwargs: Any) -> None:
        needs = {"set": "key", "template": "outputKey", "router_json_key": "checkKey"}.get(data["kind"])
        if needs and not data[needs]:
            raise ValidationError(f"required for {data['kind']} nodes", needs)


class WhenSchema(Schema):
    key = _Trimmed(required=True, validate=validate.Length(min=1))
    equals = fields.String(load_default="")

    @validates_schema
    def _routable(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data["key"] in _RUN_TOKENS:
            raise ValidationError(f"{data['key']} cannot be routed on: it is the same all run long", "key")


class EdgeSchema(Schema):
    source = _Trimmed(required=True, data_key="from", validate=validate.Length(min=1))
    target = _Trimmed(required=True, data_key="to", validate=validate.Length(min=1))
    when = fields.Nested(WhenSchema, load_default=None, allow_none=True)


class ReferenceWorkflowSchema(Schema):
    name = _Trimmed(required=True, validate=validate.Regexp(r"^[A-Za-z0-9._-]{1,80}$",
                                                          error="use 1-80 letters, digits, '.', '_' or '-'"))
    description = _Trimmed(load_default="")
    start = _Trimmed(required=True, validate=validate.Length(min=1, error="the start node is required"))
    allowCycles = fields.Boolean(load_default=False)
    maxSteps = fields.Integer(load_default=None, allow_none=True, strict=True, validate=validate.Range(min=1),
                              metadata={"description": "agentstage: the step bound of a workflow with cycles"})
    nodes = fields.List(fields.Nested(NodeSchema), required=True, validate=validate.Length(min=1))
    edges = fields.List(fields.Nested(EdgeSchema), load_default=list)


def is_reference_document(document: Any) -> bool:
    """Whether a parsed workflow document is in the reference's format (`start`, nodes with `id`)."""
    if not isinstance(document, dict) or "entry" in document:
        return False
    nodes = document.get("nodes")
    return "start" in document or (isinstance(nodes, list) and any(isinstance(n, dict) and "id" in n
                                                                    for n in nodes))


def load_reference_workflow(document: Any, source: str = "workflow") -> CompiledGraph:
    """Validate a reference-format document, translate it and compile it; WorkflowFileError lists every problem."""
    from agentstage.runtime.workflow.loader import WorkflowFileError, flatten_messages

    try:
        data = ReferenceWorkflowSchema().load(document)
    except ValidationError as exc:
        raise WorkflowFileError(source, flatten_messages(exc.messages)) from None
    problems = _reference_problems(data)
    if problems:
        raise WorkflowFileError(source, problems)
    graph = _translate(data)
    try:
        return graph.compile()
    except GraphError as exc:
        raise WorkflowFileError(source, [_explained(p) for p in exc.problems]) from None


def _reference_problems(data: dict[str, Any]) -> list[str]:
    """What the reference only finds when a run starts (or never): duplicate ids, unknown nodes, dead edges."""
    problems = []
    ids: dict[str, int] = {}
    for index, node in enumerate(data["nodes"]):
        if node["id"] in ids:
            problems.append(f"nodes[{index}].id: duplicate node id {node['id']!r} (also nodes[{ids[node['id']]}])")
        ids.setdefault(node["id"], index)
    if data["start"] not in ids:
        problems.append(f"start: unknown node {data['start']!r}")
    first_plain: dict[str, int] = {}
    seen: dict[tuple[str, str, str], int] = {}
    for index, edge in enumerate(data["edges"]):
        for end, field in ((edge["source"], "from"), (edge["target"], "to")):
            if end not in ids:
                problems.append(f"edges[{index}].{field}: unknown node {end!r}")
        source, when = edge["source"], edge["when"]
        if source in first_plain:
            problems.append(f"edges[{index}]: never taken: edges[{first_plain[source]}] from {source!r} has no "
                            "condition and comes first")
        elif when is None:
            first_plain[source] = index
        else:
            condition = (source, when["key"], when["equals"])
            if condition in seen:
                problems.append(f"edges[{index}]: never taken: edges[{seen[condition]}] from {source!r} has the "
                                "same condition and comes first")
            seen.setdefault(condition, index)
    return problems


def _explained(problem: str) -> str:
    if "needs a bound: set max_steps" in problem:
        return "graph: " + problem.replace("needs a bound: set max_steps", "is not allowed: set allowCycles")
    return f"graph: {problem}"


def _translate(data: dict[str, Any]) -> Graph:
    bound = data["maxSteps"] or (DEFAULT_MAX_STEPS if data["allowCycles"] else None)
    graph = Graph(data["name"], description=data["description"], max_steps=bound)
    taken = {node["id"] for node in data["nodes"]}

    def fresh(name: str) -> str:
        candidate, n = name, 2
        while candidate in taken:
            candidate, n = f"{name}~{n}", n + 1
        taken.add(candidate)
        return candidate

    heads: dict[str, str] = {}
    for node in data["nodes"]:
        steps = _nodes(node, fresh)
        graph.add(*steps)
        graph.chain(*(step.name for step in steps))
        heads[node["id"]] = steps[0].name
    out: dict[str, list[dict[str, Any]]] = {}
    for edge in data["edges"]:
        out.setdefault(edge["source"], []).append(edge)
    for source, edges in out.items():
        if all(edge["when"] is None for edge in edges):
            graph.edge(source, heads[edges[0]["target"]])
            continue
        router = _router(fresh(f"{source}.next"), edges, heads)
        graph.add(router)
        graph.edge(source, router.name)
    return graph.entry(heads[data["start"]])


def _router(name: str, edges: list[dict[str, Any]], heads: dict[str, str]) -> RouterNode:
    """The router taking the first edge whose condition holds; the first unconditional edge is its default."""
    conditions: list[tuple[str, str, str]] = []
    routes: dict[str, str] = {}
    default = END
    for edge in edges:
        when = edge["when"]
        if when is None:
            default = heads[edge["target"]]
            break
        label = f"{when['key']} == {when['equals']}"
        conditions.append((label, when["key"], when["equals"]))
        routes[label] = heads[edge["target"]]

    def choose(state: Mapping[str, Any]) -> str:
        for label, key, equals in conditions:
            if _resolve(key, state, {}) == equals:
                return label
        return ""

    return RouterNode(name, routes, default, key=None, func=choose)


def _nodes(spec: dict[str, Any], fresh: Callable[[str], str]) -> list[Node]:
    """The agentstage nodes of one reference node, in order (an agent may get an input step first)."""
    kind, name = spec["kind"], spec["id"]
    if kind == "agent":
        agent = AgentNode(name, spec["agent"], "{input}", spec["outputKey"] or "agent_output")
        if not (spec["inputFrom"] or spec["template"].strip() or spec["value"] is not None):
            return [agent]
        step = SetNode(fresh(f"{name}.input"), func=_agent_input(spec))
        return [step, AgentNode(name, spec["agent"], "{" + AGENT_INPUT + "}", agent.output_key)]
    if kind == "set":
        return [SetNode(name, {spec["key"]: spec["value"]})]
    if kind == "template":
        key, template = spec["outputKey"], spec["template"]
        return [SetNode(name, func=lambda state, run: {key: render_tokens(template, state, run)})]
    if kind == "output":
        return [SetNode(name, func=_output(spec))]
    if kind == "router_json_key":
        return [SetNode(name, func=_json_key(spec))]
    return [SetNode(name)]


StepFunc = Callable[[Mapping[str, Any], Mapping[str, str]], dict[str, Any]]


def _agent_input(spec: dict[str, Any]) -> StepFunc:
    source, template, value = spec["inputFrom"], spec["template"], spec["value"]

    def step(state: Mapping[str, Any], run: Mapping[str, str]) -> dict[str, Any]:
        if source and source in state:
            text = _stringify(state[source])
        elif template.strip():
            text = render_tokens(template, state, run)
        elif value is not None:
            text = _stringify(value)
        else:
            text = _stringify(state.get("input"))
        return {AGENT_INPUT: text}

    return step


def _output(spec: dict[str, Any]) -> StepFunc:
    source, template, value = spec["from"], spec["template"], spec["value"]

    def step(state: Mapping[str, Any], run: Mapping[str, str]) -> dict[str, Any]:
        if source:
            text = _resolve(source, state, run).strip()
        elif template.strip():
            text = render_tokens(template, state, run).strip()
        elif value is not None:
            text = _stringify(value).strip()
        else:
            text = _stringify(state.get("output"))
        return {"output": text}

    return step


def _json_key(spec: dict[str, Any]) -> StepFunc:
    check, key = spec["checkKey"], spec["key"] or "route"
    exists, missing = spec["existsValue"] or "true", spec["missingValue"] or "false"

    def step(state: Mapping[str, Any], run: Mapping[str, str]) -> dict[str, Any]:
        try:
            parsed = json.loads(_stringify(state.get("input")).strip())
        except ValueError:
            parsed = None
        return {key: exists if isinstance(parsed, dict) and check in parsed else missing}

    return step
