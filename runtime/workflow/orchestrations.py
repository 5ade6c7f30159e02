"""Orchestrations: one multi-agent pattern over named agents as a JSON definition, checked field by field and
built into a workflow graph by `runtime.workflow.patterns`.

    {"name": "review", "pattern": "debate", "agents": ["optimist", "skeptic"], "judge": "editor", "rounds": 2}

A definition is stored as a workflow file (its `pattern` key tells it from a graph document), so the workflow
registry loads it like any workflow file: at start, on a worker, after a restart. Every problem is reported at
once under its field's path (`agents[1]`, `routes.billing`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates, validates_schema

from agentstage.runtime.graph.builder import Graph, GraphError
from agentstage.runtime.graph.compiled import CompiledGraph
from agentstage.runtime.workflow import patterns
from agentstage.runtime.workflow.loader import WorkflowFileError, field_messages

__all__ = ["PATTERNS", "Orchestration", "OrchestrationError", "OrchestrationSchema", "Pattern", "PatternField",
           "build_orchestration", "definition_errors", "is_orchestration_document", "load_orchestration",
           "parse_orchestration", "unknown_agents"]

NAME = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$"
RESERVED_NAMES = ("patterns",)
"""Names the API's own routes take (`GET /orchestrations/patterns`)."""
MAX_AGENTS = 32
MAX_ROUNDS = 10
_AGENT_NAME = re.compile(r"^[^\s{}](?:[^{}]{0,78}[^\s{}])?$")
_ROUTE_PART = re.compile(r"^(routes\..*)\.(?:key|value)$")


@dataclass(frozen=True)
class PatternField:
    """One field of a pattern's definition, as `GET /orchestrations/patterns` describes it."""

    name: str
    type: str
    required: bool
    description: str
    default: Any = None


@dataclass(frozen=True)
class Pattern:
    """An orchestration pattern: its fields, and `roster`, the field naming the agents it chains or fans out to
    (where too few, a repeated one or one named like a step is reported)."""

    name: str
    description: str
    fields: tuple[PatternField, ...]
    roster: str
    reserved: tuple[str, ...] = ()
    """Step names of the pattern's own, which an agent of the roster cannot also be called."""
    distinct: bool = True
    min_agents: int = 1

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)


def _agents(description: str, minimum: int = 1) -> PatternField:
    return PatternField("agents", "agents", True, f"{description} (at least {minimum})")


def _agent(name: str, description: str, required: bool = True) -> PatternField:
    return PatternField(name, "agent", required, description)


_CONCURRENCY = PatternField("max_concurrency", "integer", False, "agents answering at once (default: all)")

PATTERNS: dict[str, Pattern] = {pattern.name: pattern for pattern in (
    Pattern("sequential", "Each agent in turn works on the task with the previous agent's result; the last one "
                          "answers.",
            (PatternField("agents", "agents", True, "the agents in turn order; one may appear more than once"),),
            "agents", distinct=False),
    Pattern("parallel", "Every agent answers the task at once; an aggregator agent, if given, merges the answers.",
            (_agents("the agents answering at once, each once"), _agent("aggregator", "merges the answers into one "
                                                                          "(default: the answers by agent)", False),
             _CONCURRENCY), "agents", reserved=("answers", "merge")),
    Pattern("router", "A classifier agent names a category; the agent routed for it answers (the label is matched "
                      "in the classifier's answer), else the default agent.",
            (_agent("classifier", "answers with one of the route labels"),
             PatternField("routes", "routes", True, "route label -> the agent answering for it"),
             _agent("default", "answers when no label matches")), "routes"),
    Pattern("supervisor", "The lead plans and assigns, the workers do their parts at once, the lead reviews the work "
                          "and answers.",
            (_agent("lead", "plans the task and reviews the work"),
             PatternField("workers", "agents", True, "the agents doing their parts at once, each once"),
             _CONCURRENCY), "workers", reserved=("plan", "work", "review")),
    Pattern("debate", "The agents argue at once for a number of rounds, each round seeing the last; the judge "
                      "decides.",
            (_agents("the debaters, each once", 2), _agent("judge", "gives the verdict"),
             PatternField("rounds", "integer", False, f"rounds of arguments (1-{MAX_ROUNDS})", 2), _CONCURRENCY),
            "agents", reserved=("round",), min_agents=2),
    Pattern("consensus", "Every agent answers at once; the judge compares their substance and gives the agreed answer "
                         "or the points of disagreement, 'consensus: yes' or 'consensus: no' on its first line.",
            (_agents("the agents answering at once, each once", 2), _agent("judge", "compares the answers"),
             _CONCURRENCY), "agents", reserved=("answers", "judge"), min_agents=2),
)}
_SPECIFIC = sorted({name for pattern in PATTERNS.values() for name in pattern.field_names})


class OrchestrationError(WorkflowFileError):
    """An orchestration definition is invalid; `errors` maps each field's path to its messages."""

    def __init__(self, source: str, errors: Mapping[str, list[str]]) -> None:
        super().__init__(source, [f"{path}: {message}" for path, messages in errors.items() for message in messages])
        self.errors = {path: list(messages) for path, messages in errors.items()}


def _agent_name(value: str) -> None:
    if not _AGENT_NAME.match(value):
        raise ValidationError("an agent name: 1-80 characters, no braces, no spaces around it")


def _label(value: str) -> None:
    if not _AGENT_NAME.match(value):
        raise ValidationError("a route label: 1-80 characters, no braces, no spaces around it")


def _agent_field(description: str) -> fields.String:
    return fields.String(validate=_agent_name, metadata={"description": description})


def _agent_list(description: str) -> fields.List:
    return fields.List(fields.String(validate=_agent_name), validate=validate.Length(max=MAX_AGENTS),
                       metadata={"description": description})


class OrchestrationSchema(Schema):
    """An orchestration definition: `name`, `pattern`, optional `description`, and the pattern's own fields."""

    name = fields.String(required=True, validate=validate.Regexp(NAME, error="use 1-80 letters, digits, '.', '_' or "
                                                                             "'-', starting with a letter or digit"),
                         metadata={"description": "the workflow name runs use (`POST /runs` with workflow=<name>)"})
    pattern = fields.String(required=True, validate=validate.OneOf(sorted(PATTERNS)),
                            metadata={"description": "the pattern (`GET /orchestrations/patterns` lists them)"})
    description = fields.String(load_default="", validate=validate.Length(max=2_000),
                                metadata={"description": "what it is for (default: one line the pattern writes)"})
    agents = _agent_list("sequential, parallel, debate, consensus: the agents taking part")
    aggregator = _agent_field("parallel: the agent merging the answers")
    classifier = _agent_field("router: the agent naming the category")
    routes = fields.Dict(keys=fields.String(validate=_label), values=fields.String(validate=_agent_name),
                         validate=validate.Length(min=1, max=MAX_AGENTS),
                         metadata={"description": "router: route label -> agent"})
    default = _agent_field("router: the agent answering when no label matches")
    lead = _agent_field("supervisor: the agent planning and reviewing")
    workers = _agent_list("supervisor: the agents doing their parts at once")
    judge = _agent_field("debate, consensus: the agent deciding")
    rounds = fields.Integer(strict=True, validate=validate.Range(1, MAX_ROUNDS),
                            metadata={"description": "debate: rounds of arguments (default 2)"})
    max_concurrency = fields.Integer(strict=True, allow_none=True, validate=validate.Range(min=1, max=MAX_AGENTS),
                                     metadata={"description": "parallel, supervisor, debate, consensus: agents "
                                                              "answering at once (default: all)"})

    @validates("name")
    def check_name(self, value: str, **kwargs: Any) -> None:
        if value in RESERVED_NAMES:
            raise ValidationError(f"{value!r} is reserved: GET /api/v1/orchestrations/{value} lists the patterns")

    @validates_schema(skip_on_field_errors=False, pass_original=True)
    def check_pattern(self, data: dict[str, Any], original: Any, **kwargs: Any) -> None:
        pattern = PATTERNS.get(data.get("pattern", ""))
        if pattern is None or not isinstance(original, dict):
            return
        errors: dict[str, Any] = {}
        given = set(original) & set(_SPECIFIC)
        for name in sorted(given - set(pattern.field_names)):
            errors[name] = [f"not a field of {pattern.name} orchestrations"]
        for spec in pattern.fields:
            if spec.required and spec.name not in given:
                errors[spec.name] = [f"required for {pattern.name} orchestrations"]
        roster = data.get(pattern.roster)
        problems: dict[Any, list[str]] = _roster_problems(pattern, roster) if isinstance(roster, list) else {}
        if roster is not None and len(roster) < pattern.min_agents:
            need = "one agent" if pattern.min_agents == 1 else f"{pattern.min_agents} agents"
            problems["_schema"] = [f"{pattern.name} orchestrations need at least {need}"]
        if problems:
            errors[pattern.roster] = problems
        if errors:
            raise ValidationError(errors)


def _roster_problems(pattern: Pattern, roster: list[str]) -> dict[Any, list[str]]:
    """A repeated agent (where each takes part once) or one named like a step of the pattern, by index."""
    problems: dict[Any, list[str]] = {}
    for index, agent in enumerate(roster):
        if pattern.distinct and agent in roster[:index]:
            problems.setdefault(index, []).append(f"{agent!r} is listed twice; each agent takes part once")
        if agent in pattern.reserved:
            problems.setdefault(index, []).append(f"{agent!r} is a step name of {pattern.name} orchestrations; "
                                                  "use an agent of another name")
    return problems


@dataclass(frozen=True)
class Orchestration:
    """A checked orchestration definition; `options` holds the pattern's own fields that were given."""

    name: str
    pattern: str
    description: str = ""
    options: Mapping[str, Any] = field(default_factory=dict)

    def agent_fields(self) -> list[tuple[str, str]]:
        """(field path, agent name) of every agent the definition names, in field order."""
        found: list[tuple[str, str]] = []
        for spec in PATTERNS[self.pattern].fields:
            value = self.options.get(spec.name)
            if spec.type == "agent" and value is not None:
                found.append((spec.name, value))
            elif spec.type == "agents":
                found += [(f"{spec.name}[{i}]", agent) for i, agent in enumerate(value or ())]
            elif spec.type == "routes":
                found += [(f"{spec.name}.{label}", agent) for label, agent in (value or {}).items()]
        return found

    def to_dict(self) -> dict[str, Any]:
        """The definition as stored and shown: name, pattern, description, then the pattern's fields given."""
        return {"name": self.name, "pattern": self.pattern, "description": self.description,
                **{name: _plain(self.options[name]) for name in PATTERNS[self.pattern].field_names
                   if name in self.options}}


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else dict(value) if isinstance(value, Mapping) else value


def is_orchestration_document(document: Any) -> bool:
    """Whether a parsed JSON document is an orchestration definition (it names a `pattern`)."""
    return isinstance(document, dict) and "pattern" in document


def parse_orchestration(document: Any, agents: Collection[str] | None = None,
                        source: str = "orchestration") -> Orchestration:
    """Check a definition (parsed JSON); with `agents`, every agent it names must be one of them.

    Raises OrchestrationError with every problem under its field's path.
    """
    if not isinstance(document, dict):
        raise OrchestrationError(source, {"$": [f"a definition must be a JSON object, got {type(document).__name__}"]})
    try:
        data = OrchestrationSchema().load(document)
    except ValidationError as exc:
        errors = definition_errors(exc.messages)
        valid = exc.valid_data if isinstance(exc.valid_data, dict) else {}
        if agents is not None and valid.get("pattern") in PATTERNS:
            for path, problems in unknown_agents(_orchestration(valid), agents).items():
                errors.setdefault(path, problems)
        raise OrchestrationError(source, errors) from None
    orchestration = _orchestration(data)
    if agents is not None and (problems := unknown_agents(orchestration, agents)):
        raise OrchestrationError(source, problems)
    return orchestration


def _orchestration(data: dict[str, Any]) -> Orchestration:
    options = {name: tuple(value) if isinstance(value, list) else value for name, value in data.items()
               if name not in ("name", "pattern", "description")}
    return Orchestration(data.get("name", ""), data["pattern"], data.get("description", "").strip(), options)


def definition_errors(messages: Any) -> dict[str, list[str]]:
    """marshmallow's messages for a definition by field path; a route's label or agent is `routes.<label>`."""
    errors: dict[str, list[str]] = {}
    for path, lines in field_messages(messages).items():
        errors.setdefault(_ROUTE_PART.sub(r"\1", path), []).extend(lines)
    return errors


def unknown_agents(orchestration: Orchestration, agents: Collection[str]) -> dict[str, list[str]]:
    """The fields naming an agent that is not in `agents`, with why (empty when all are known)."""
    return {path: [f"unknown agent {agent!r}"] for path, agent in orchestration.agent_fields() if agent not in agents}


def build_orchestration(orchestration: Orchestration) -> CompiledGraph:
    """The orchestration's workflow graph, compiled; raises OrchestrationError (on its roster field) when the
    pattern's graph does not compile."""
    pattern = PATTERNS[orchestration.pattern]
    graph = _BUILDERS[orchestration.pattern](orchestration.name, dict(orchestration.options))
    if orchestration.description:
        graph.description = orchestration.description
    try:
        return graph.compile()
    except GraphError as exc:
        raise OrchestrationError(orchestration.name, {pattern.roster: exc.problems}) from None


def load_orchestration(document: Any, source: str = "orchestration",
                       agents: Collection[str] | None = None) -> CompiledGraph:
    """Check a definition and build its compiled graph (the workflow loader's path for orchestration files)."""
    return build_orchestration(parse_orchestration(document, agents, source))


_BUILDERS: dict[str, Callable[[str, dict[str, Any]], Graph]] = {
    "sequential": lambda name, o: patterns.sequential(name, o["agents"]),
    "parallel": lambda name, o: patterns.parallel(name, o["agents"], o.get("aggregator"),
                                                  max_concurrency=o.get("max_concurrency")),
    "router": lambda name, o: patterns.router(name, o["classifier"], o["routes"], o["default"]),
    "supervisor": lambda name, o: patterns.supervisor(name, o["lead"], o["workers"],
                                                      max_concurrency=o.get("max_concurrency")),
    "debate": lambda name, o: patterns.debate(name, o["agents"], o["judge"], o.get("rounds", 2),
                                              max_concurrency=o.get("max_concurrency")),
    "consensus": lambda name, o: patterns.consensus(name, o["agents"], o["judge"],
                                                    max_concurrency=o.get("max_concurrency")),
}
