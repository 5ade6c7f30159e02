"""Workflow JSON files: marshmallow schemas, loading into a `Graph`, and dumping back to JSON.

    {"name": "triage", "entry": "route", "max_steps": 10,
     "nodes": [{"name": "route", "kind": "router", "key": "input", "match": "contains",
                "routes": {"calculate": "solve"}, "default": "chat"},
               {"name": "solve", "kind": "agent", "prompt": "{input}"},
               {"name": "chat", "kind": "agent"}],
     "edges": []}

Every problem is reported at once with its path (`nodes[1].tool: ...`), schema and graph alike.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from agentstage.runtime.graph.builder import Graph, GraphError
from agentstage.runtime.graph.compiled import CompiledGraph
from agentstage.runtime.graph.nodes import (
    REDUCERS,
    AgentNode,
    HumanNode,
    MapNode,
    Node,
    ParallelNode,
    RouterNode,
    SetNode,
    ToolNode,
)

__all__ = ["WorkflowFileError", "dump_workflow", "field_messages", "flatten_messages", "load_workflow",
           "load_workflow_file"]

_KIND_FIELDS = {
    "agent": {"agent", "prompt", "output_key"},
    "tool": {"tool", "args", "args_from", "output_key"},
    "router": {"key", "match", "routes", "default"},
    "human": {"prompt", "output_key"},
    "parallel": {"branches", "reducer", "max_concurrency", "output_key"},
    "map": {"items", "node", "reducer", "max_concurrency", "output_key"},
    "set": {"values"},
}
_REQUIRED = {"tool": ("tool",), "router": ("routes", "default"), "parallel": ("branches",), "map": ("items", "node")}
_BRANCH_KINDS = ("agent", "tool")


class WorkflowFileError(GraphError):
    """A workflow document is invalid; `problems` are `path: message` lines."""

    def __init__(self, source: str, problems: list[str]) -> None:
        super().__init__(source, problems)
        self.source = source


class NodeSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1), metadata={"description": "unique node name"})
    kind = fields.String(required=True, validate=validate.OneOf(sorted(_KIND_FIELDS)))
    agent = fields.String(validate=validate.Length(min=1), metadata={"description": "agent spec name (agent nodes)"})
    prompt = fields.String(metadata={"description": "template with {state_key} placeholders"})
    output_key = fields.String(validate=validate.Length(min=1), metadata={"description": "state key of the result"})
    tool = fields.String(validate=validate.Length(min=1), metadata={"description": "tool name (tool nodes)"})
    args = fields.Dict(keys=fields.String(), metadata={"description": "literal tool arguments"})
    args_from = fields.Dict(keys=fields.String(), values=fields.String(),
                            metadata={"description": "tool argument -> state key"})
    key = fields.String(validate=validate.Length(min=1), metadata={"description": "state key a router reads"})
    match = fields.String(validate=validate.OneOf(["equals", "contains"]))
    routes = fields.Dict(keys=fields.String(), values=fields.String(), validate=validate.Length(min=1),
                         metadata={"description": "route label -> node name"})
    default = fields.String(validate=validate.Length(min=1), metadata={"description": "node when no route matches"})
    branches = fields.List(fields.Nested(lambda: NodeSchema()), validate=validate.Length(min=1),
                           metadata={"description": "agent or tool nodes run at the same time (parallel nodes)"})
    items = fields.String(validate=validate.Length(min=1),
                          metadata={"description": "state key of the list a map node runs its node over"})
    node = fields.Nested(lambda: NodeSchema(partial=("name",)),
                         metadata={"description": "the agent or tool node run per item (map nodes); "
                                                  "{item} and {index} are in its state"})
    reducer = fields.String(validate=validate.OneOf(REDUCERS),
                            metadata={"description": "how branch results join: list, dict, concat or merge"})
    max_concurrency = fields.Integer(strict=True, allow_none=True, validate=validate.Range(min=1),
                                     metadata={"description": "branches running at once (default: all)"})
    values = fields.Dict(keys=fields.String(validate=validate.Length(min=1)),
                         metadata={"description": "state keys a set node writes, with their literal values"})

    @validates_schema(skip_on_field_errors=False, pass_original=True)
    def check_kind(self, data: dict[str, Any], original: Any, **kwargs: Any) -> None:
        kind = data.get("kind")
        # NOTE: with field errors `data` lacks the bad fields; report what can still be checked.
        if kind not in _KIND_FIELDS:
            return
        errors: dict[str, list[str]] = {}
        given = (set(original) if isinstance(original, dict) else set(data)) & set(self.fields)
        for name in sorted(given - {"name", "kind"} - _KIND_FIELDS[kind]):
            errors[name] = [f"not a field of {kind} nodes"]
        for name in _REQUIRED.get(kind, ()):
            if name not in given:
                errors[name] = [f"required for {kind} nodes"]
        inner = data.get("branches") or ([data["node"]] if isinstance(data.get("node"), dict) else [])
        for index, branch in enumerate(inner):
            if branch.get("kind") not in _BRANCH_KINDS:
                path = "node" if kind == "map" else "branches"
                errors.setdefault(path, {})[index if kind == "parallel" else "kind"] = (
                    {"kind": ["a branch must be an agent or tool node"]} if kind == "parallel"
                    else ["a branch must be an agent or tool node"])
        if errors:
            raise ValidationError(errors)


class EdgeSchema(Schema):
    source = fields.String(required=True, data_key="from", validate=validate.Length(min=1))
    target = fields.String(required=True, data_key="to", validate=validate.Length(min=1))


class WorkflowSchema(Schema):
    name = fields.String(required=True, validate=validate.Regexp(r"^[A-Za-z0-9._-]{1,80}$",
                                                                 error="use 1-80 letters, digits, '.', '_' or '-'"))
    description = fields.String(load_default="")
    entry = fields.String(required=True, validate=validate.Length(min=1))
    max_steps = fields.Integer(load_default=None, allow_none=True, strict=True, validate=validate.Range(min=1))
    nodes = fields.List(fields.Nested(NodeSchema), required=True, validate=validate.Length(min=1))
    edges = fields.List(fields.Nested(EdgeSchema), load_default=list)

    @validates_schema(skip_on_field_errors=False, pass_original=True)
    def check_names(self, data: dict[str, Any], original: Any, **kwargs: Any) -> None:
        nodes = original.get("nodes") if isinstance(original, dict) else None
        seen: set[str] = set()
        errors: dict[str, Any] = {}
        for index, node in enumerate(nodes if isinstance(nodes, list) else []):
            name = node.get("name") if isinstance(node, dict) else None
            if isinstance(name, str) and name in seen:
                errors[index] = {"name": [f"duplicate node name {name!r}"]}
            seen.add(name)
        if errors:
            raise ValidationError({"nodes": errors})


def load_workflow(document: Any, source: str = "workflow") -> CompiledGraph:
    """Validate a workflow document (parsed JSON) and compile it; raises WorkflowFileError listing every problem.

    A document in the reference DevUI's format (`start`, nodes with `id`) is translated first
    (`runtime.workflow.reference_format`); an orchestration definition (it names a `pattern`) is built by its
    pattern (`runtime.workflow.orchestrations`).
    """
    from agentstage.runtime.workflow.orchestrations import is_orchestration_document, load_orchestration
    from agentstage.runtime.workflow.reference_format import is_reference_document, load_reference_workflow

    if not isinstance(document, dict):
        raise WorkflowFileError(source, [f"$: a workflow must be a JSON object, got {type(document).__name__}"])
    if is_orchestration_document(document):
        return load_orchestration(document, source)
    if is_reference_document(document):
        return load_reference_workflow(document, source)
    try:
        data = WorkflowSchema().load(document)
    except ValidationError as exc:
        raise WorkflowFileError(source, flatten_messages(exc.messages)) from None
    graph = Graph(data["name"], description=data["description"], max_steps=data["max_steps"])
    graph.add(*(_node(spec) for spec in data["nodes"]))
    for edge in data["edges"]:
        graph.edge(edge["source"], edge["target"])
    graph.entry(data["entry"])
    try:
        return graph.compile()
    except GraphError as exc:
        raise WorkflowFileError(source, [f"graph: {p}" for p in exc.problems]) from None


def load_workflow_file(path: str | Path) -> CompiledGraph:
    """Load a workflow JSON file; the name defaults to the file's stem."""
    path = Path(path)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise WorkflowFileError(str(path), [f"$: cannot read the file: {exc.strerror or exc}"]) from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise WorkflowFileError(str(path), [f"$: not JSON: {exc}"]) from None
    if isinstance(document, dict):
        document.setdefault("name", path.stem)
    return load_workflow(document, str(path))


def dump_workflow(graph: CompiledGraph) -> dict[str, Any]:
    """The JSON document of a compiled graph; `load_workflow` of it gives the same graph."""
    nodes = [_dump_node(graph.name, node) for node in graph.nodes.values()]
    document: dict[str, Any] = {"name": graph.name, "description": graph.description, "entry": graph.entry,
                                "max_steps": graph.max_steps, "nodes": nodes,
                                "edges": [{"from": s, "to": t} for s, t in graph.edges.items()]}
    return document


def _node(spec: dict[str, Any]) -> Node:
    kind, name = spec["kind"], spec["name"]
    if kind == "agent":
        return AgentNode(name, spec.get("agent", "default"), spec.get("prompt", "{input}"), spec.get("output_key"))
    if kind == "tool":
        return ToolNode(name, spec["tool"], spec.get("args", {}), spec.get("args_from", {}), spec.get("output_key"))
    if kind == "router":
        return RouterNode(name, spec["routes"], spec["default"], spec.get("key", "route"), None,
                          spec.get("match", "equals"))
    if kind == "parallel":
        return ParallelNode(name, tuple(_node(branch) for branch in spec["branches"]), spec.get("reducer", "dict"),
                            spec.get("max_concurrency"), spec.get("output_key"))
    if kind == "map":
        template = _node({"name": name, **spec["node"]})
        return MapNode(name, spec["items"], template, spec.get("reducer", "list"), spec.get("max_concurrency"),
                       spec.get("output_key"))
    if kind == "set":
        return SetNode(name, spec.get("values", {}))
    return HumanNode(name, spec.get("prompt", ""), spec.get("output_key"))


def _dump_node(graph: str, node: Node) -> dict[str, Any]:
    if isinstance(node, AgentNode):
        out = {"agent": node.agent, "prompt": node.prompt}
    elif isinstance(node, ToolNode):
        out = {"tool": node.tool, "args": dict(node.args), "args_from": dict(node.args_from)}
    elif isinstance(node, RouterNode):
        if node.func is not None:
            raise GraphError(graph, [f"router {node.name!r} uses a Python function; it has no JSON form"])
        out = {"key": node.key, "match": node.match, "routes": dict(node.routes), "default": node.default}
    elif isinstance(node, (ParallelNode, MapNode)):
        if callable(node.reducer):
            raise GraphError(graph, [f"{node.kind} node {node.name!r} uses a Python reducer; it has no JSON form"])
        out = {"reducer": node.reducer, "max_concurrency": node.max_concurrency}
        if isinstance(node, ParallelNode):
            out["branches"] = [_dump_node(graph, branch) for branch in node.branches]
        else:
            out.update(items=node.items, node=_dump_node(graph, node.node))
    elif isinstance(node, SetNode):
        if node.func is not None:
            raise GraphError(graph, [f"set node {node.name!r} uses a Python function; it has no JSON form"])
        out = {"values": dict(node.values)}
    else:
        out = {"prompt": node.prompt}
    if getattr(node, "output_key", None):
        out["output_key"] = node.output_key
    return {"name": node.name, "kind": node.kind, **out}


def flatten_messages(messages: Any, path: str = "") -> list[str]:
    """marshmallow's nested messages as `path: message` lines (`nodes[1].tool: required for tool nodes`)."""
    return [f"{key}: {message}" for key, lines in field_messages(messages, path).items() for message in lines]


def field_messages(messages: Any, path: str = "") -> dict[str, list[str]]:
    """marshmallow's nested messages by field path (`{"nodes[1].tool": ["required for tool nodes"]}`; `$` is the
    document itself)."""
    found: dict[str, list[str]] = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            if key == "_schema":
                child = path
            elif isinstance(key, int):
                child = f"{path}[{key}]"
            else:
                child = f"{path}.{key}" if path else str(key)
            for name, lines in field_messages(value, child).items():
                found.setdefault(name, []).extend(lines)
    elif isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        found[path or "$"] = list(messages)
    elif isinstance(messages, list):
        for item in messages:
            for name, lines in field_messages(item, path).items():
                found.setdefault(name, []).extend(lines)
    else:
        found[path or "$"] = [str(messages)]
    return found
