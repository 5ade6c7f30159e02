"""Node specifications of a static graph: what each node does with the run's state.

State is one JSON object: `input` holds the run's input, each node writes its result under its
`output_key` (its name by default). Nodes are plain frozen data; the node actors execute them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

__all__ = ["END", "REDUCERS", "AgentNode", "BranchNode", "HumanNode", "MapNode", "Node", "ParallelNode", "RouterNode",
           "SetNode", "ToolNode", "reduce_branches", "render"]

END = "__end__"
"""A router target that ends the run."""

_PLACEHOLDER = re.compile(r"\{(\w+(?:\.\w+)*)\}")


def render(template: str, state: Mapping[str, Any]) -> str:
    """Fill `{key}` placeholders from state, `{key.field}` from an object in it (missing keys become
    empty; lists and objects become JSON, other non-strings are str()'d)."""
    def value(match: re.Match[str]) -> str:
        found: Any = state
        for part in match.group(1).split("."):
            found = found.get(part, "") if isinstance(found, Mapping) else ""
        if isinstance(found, (list, dict)):
            return json.dumps(found, ensure_ascii=False, default=str)
        return found if isinstance(found, str) else "" if found is None else str(found)

    return _PLACEHOLDER.sub(value, template)


def _frozen(mapping: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return MappingProxyType(dict(mapping or {}))


@dataclass(frozen=True)
class AgentNode:
    """Run agent `agent` on `prompt` rendered from state; its answer goes to `output_key` and `output`."""

    name: str
    agent: str = "default"
    prompt: str = "{input}"
    output_key: str | None = None

    kind = "agent"

    @property
    def key(self) -> str:
        return self.output_key or self.name


@dataclass(frozen=True)
class ToolNode:
    """Call tool `tool` with literal `args` plus `args_from` (argument name -> state key).

    The result goes to `output_key`. A side-effecting tool is journalled under
    `(run_id, step, node)`, so a resumed run does not repeat a completed call.
    """

    name: str
    tool: str
    args: Mapping[str, Any] = field(default_factory=dict)
    args_from: Mapping[str, str] = field(default_factory=dict)
    output_key: str | None = None

    kind = "tool"

    def __post_init__(self) -> None:
        object.__setattr__(self, "args", _frozen(self.args))
        object.__setattr__(self, "args_from", _frozen(self.args_from))

    @property
    def key(self) -> str:
        return self.output_key or self.name

    def arguments(self, state: Mapping[str, Any]) -> dict[str, Any]:
        """The tool's arguments for this state; KeyError names a missing state key."""
        values = dict(self.args)
        for argument, source in self.args_from.items():
            if source not in state:
                raise KeyError(f"state has no key {source!r} for argument {argument!r}")
            values[argument] = state[source]
        return values


@dataclass(frozen=True)
class RouterNode:
    """Choose the next node: a label from `func(state)` or `state[key]`, looked up in `routes`.

    `match="equals"` compares the label with each route name; `"contains"` takes the first
    route name found in the label (case-insensitive). No match goes to `default`.
    """

    name: str
    routes: Mapping[str, str] = field(default_factory=dict)
    default: str | None = None
    key: str | None = "route"
    func: Callable[[Mapping[str, Any]], Any] | None = field(default=None, compare=False)
    match: str = "equals"

    kind = "router"

    def __post_init__(self) -> None:
        object.__setattr__(self, "routes", _frozen(self.routes))

    @property
    def targets(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys([*self.routes.values(), *([self.default] if self.default else [])]))

    def choose(self, state: Mapping[str, Any]) -> tuple[str, str]:
        """`(label, target)` for this state; deterministic; raises whatever `func` raises."""
        raw = self.func(state) if self.func is not None else state.get(self.key or "route", "")
        label = raw if isinstance(raw, str) else "" if raw is None else str(raw)
        if self.match == "contains":
            lowered = label.lower()
            for name, target in self.routes.items():
                if name.lower() in lowered:
                    return label, target
        elif label in self.routes:
            return label, self.routes[label]
        return label, self.default or END


@dataclass(frozen=True)
class HumanNode:
    """Pause the run (status `waiting`) until `resume(run_id, input=...)`; the input goes to `output_key`."""

    name: str
    prompt: str = ""
    output_key: str | None = None

    kind = "human"

    @property
    def key(self) -> str:
        return self.output_key or self.name


@dataclass(frozen=True)
class SetNode:
    """Write state keys without calling anything: the literal `values`, then what `func(state, run)` returns
    (`run` holds `run_id` and `session_id`). A pure data step between agents and tools, run in the graph actor."""

    name: str
    values: Mapping[str, Any] = field(default_factory=dict)
    func: Callable[[Mapping[str, Any], Mapping[str, str]], Mapping[str, Any]] | None = field(default=None,
                                                                                          compare=False)

    kind = "set"

    def __post_init__(self) -> None:
        object.__setattr__(self, "values", _frozen(self.values))

    def update(self, state: Mapping[str, Any], run: Mapping[str, str]) -> dict[str, Any]:
        """The keys this node writes for `state`; raises whatever `func` raises."""
        computed = self.func(state, run) if self.func is not None else {}
        return {**self.values, **computed}


BranchNode = AgentNode | ToolNode
"""What runs in one branch of a parallel or map node."""

REDUCERS = ("list", "dict", "concat", "merge")
"""How branch results are joined: a list in branch order, a dict by branch name, strings joined by a
blank line, or dicts merged in branch order."""


def reduce_branches(reducer: str | Callable[[list[Any]], Any], names: list[str], values: list[Any]) -> Any:
    """Join branch results (in branch order); raises ValueError when `merge` meets a non-object."""
    if callable(reducer):
        return reducer(values)
    if reducer == "list":
        return values
    if reducer == "dict":
        return dict(zip(names, values))
    if reducer == "concat":
        return "\n\n".join(v if isinstance(v, str) else json.dumps(v, sort_keys=True, default=str) for v in values)
    merged: dict[str, Any] = {}
    for name, value in zip(names, values):
        if not isinstance(value, dict):
            raise ValueError(f"reducer merge needs objects, branch {name!r} gave {type(value).__name__}")
        merged.update(value)
    return merged


@dataclass(frozen=True)
class ParallelNode:
    """Run `branches` (agent or tool nodes) at the same time; each writes its own key, and the joined
    results go to `output_key` (a dict by branch name unless `reducer` says otherwise).

    At most `max_concurrency` branches run at once (None: all). Each finished branch is checkpointed,
    so a resumed run re-runs only the branches that had not finished.
    """

    name: str
    branches: tuple[BranchNode, ...] = ()
    reducer: str | Callable[[list[Any]], Any] = field(default="dict", compare=False)
    max_concurrency: int | None = None
    output_key: str | None = None

    kind = "parallel"

    def __post_init__(self) -> None:
        object.__setattr__(self, "branches", tuple(self.branches))

    @property
    def key(self) -> str:
        return self.output_key or self.name

    def expand(self, state: Mapping[str, Any]) -> list[tuple[BranchNode, Mapping[str, Any]]]:
        """Each branch with the state it runs on."""
        return [(branch, state) for branch in self.branches]


@dataclass(frozen=True)
class MapNode:
    """Run `node` once per item of the list in `state[items]` (`{item}` and `{index}` are in its state);
    the results go to `output_key` as a list in item order unless `reducer` says otherwise.

    A string item list may be a JSON array or one item per line. Concurrency and checkpoints as for
    ParallelNode.
    """

    name: str
    items: str = "items"
    node: BranchNode = field(default_factory=lambda: AgentNode("item", prompt="{item}"))
    reducer: str | Callable[[list[Any]], Any] = field(default="list", compare=False)
    max_concurrency: int | None = None
    output_key: str | None = None

    kind = "map"

    @property
    def key(self) -> str:
        return self.output_key or self.name

    def expand(self, state: Mapping[str, Any]) -> list[tuple[BranchNode, Mapping[str, Any]]]:
        """One branch per item, named `name[i]`; raises ValueError when `state[items]` is not a list."""
        values = _items(state.get(self.items), self.items)
        return [(replace(self.node, name=f"{self.name}[{index}]"), {**state, "item": item, "index": index})
                for index, item in enumerate(values)]


def _items(value: Any, key: str) -> list[Any]:
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except ValueError:
            parsed = None
        value = parsed if isinstance(parsed, list) else [line for line in value.splitlines() if line.strip()]
    if not isinstance(value, list):
        raise ValueError(f"state key {key!r} is not a list (got {type(value).__name__})")
    return value


Node = AgentNode | ToolNode | RouterNode | HumanNode | ParallelNode | MapNode | SetNode
