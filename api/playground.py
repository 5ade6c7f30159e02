"""The playground's resolution (the reference DevUI's order) and its runs, shared by `/playground/*` and
`/flows/{name}/run`.

1. A flow fills workflow, tools and the system prompt the request leaves empty.
2. Skills (the flow's, then the request's) append `## Skill: <name>` and their instructions to the
   system prompt and add their allowed tools.
3. An explicit `systemPrompt` wins over `promptRef`, which wins over the skill-augmented prompt.
4. No workflow (or `basic`) runs one agent; a custom configuration runs on an agent made for it (in
   this process: in queued mode only the configured agents exist on the workers, so it is a 409).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from agentstage.runtime.errors import ConfigError, InvalidArgument, NotApplicable, NotFound
from agentstage.runtime.flows import SINGLE_AGENT, Flow
from agentstage.runtime.state.reader import RunRow

__all__ = ["Resolved", "resolve", "response"]

_MAX_AGENTS = 32
_PREFIX = "playground-"


@dataclass(frozen=True)
class Resolved:
    """What a playground request runs: an agent (or a workflow), with the skills it applied."""

    agent: str
    workflow: str | None
    applied_skills: tuple[str, ...]
    flow: str | None


def _flow(system: Any, name: str | None) -> Flow | None:
    if not name:
        return None
    try:
        return system.flows.get(name)
    except NotFound:
        raise InvalidArgument("flow", f"unknown flow {name!r}") from None


def resolve(system: Any, control: Any, body: dict[str, Any]) -> Resolved:
    """The agent or workflow `body` runs; InvalidArgument names the field, NotApplicable a queued-mode limit."""
    flow = _flow(system, body.get("flow"))
    workflow = (body.get("workflow") or (flow.workflow if flow else "")).strip()
    tools = list(body.get("tools") or (flow.tools if flow else ()))
    prompt = flow.system_prompt if flow and not body.get("systemPrompt") else ""
    applied: list[str] = []
    for name in dict.fromkeys([*(flow.skills if flow else ()), *body.get("skills", [])]):
        try:
            skill = system.skills.get(name)
        except NotFound:
            raise InvalidArgument("skills", f"unknown skill {name!r}") from None
        prompt = f"{prompt}\n\n## Skill: {skill.name}\n{skill.instructions}".strip()
        tools += [t for t in skill.allowed_tools if t not in tools]
        applied.append(skill.name)
    if body.get("promptRef"):
        try:
            spec = system.prompts.get(body["promptRef"], "promptRef")
        except NotFound:
            raise InvalidArgument("promptRef", f"unknown prompt {body['promptRef']!r}") from None
        try:
            prompt = spec.render(body.get("promptInput") or {})
        except InvalidArgument as exc:
            raise InvalidArgument("promptInput", exc.reason) from None
    if body.get("systemPrompt"):
        prompt = body["systemPrompt"]
    guardrails = list(body.get("guardrails") or [])
    if workflow not in SINGLE_AGENT:
        control.check_start(workflow=workflow)
        return Resolved("default", workflow, tuple(applied), flow.name if flow else None)
    agent = body.get("agent") or "default"
    if not (prompt or tools or guardrails):
        control.check_start(agent=agent)
        return Resolved(agent, None, tuple(applied), flow.name if flow else None)
    return Resolved(_custom_agent(system, control, agent, prompt, tools, guardrails), None, tuple(applied),
                    flow.name if flow else None)


def _custom_agent(system: Any, control: Any, base: str, prompt: str, tools: list[str], guardrails: list[str]) -> str:
    """The name of an agent configured like `base` with this prompt, tools and guardrails (made on first use)."""
    if control.remote:
        raise NotApplicable("playground", "a playground configuration (system prompt, tools, skills, guardrails) "
                                          "runs in local mode only: in queued mode the workers serve the configured "
                                          "agents; run one of them, or a workflow")
    known = {spec.name: spec for spec in system.agents()}
    if base not in known:
        raise InvalidArgument("agent", f"unknown agent {base!r}")
    digest = hashlib.sha256(json.dumps([base, prompt, tools, guardrails]).encode()).hexdigest()[:12]
    name = f"{_PREFIX}{digest}"
    if name in known:
        return name
    if sum(1 for n in known if n.startswith(_PREFIX)) >= _MAX_AGENTS:
        raise NotApplicable("playground", f"at most {_MAX_AGENTS} playground configurations per process; save the "
                                          "configuration as a flow or restart the API")
    template = known[base]
    try:
        system.add_variant(base, dataclasses.replace(template, name=name, system_prompt=prompt,
                                                     tools=tuple(tools) or tuple(template.tools),
                                                     guardrails=tuple(guardrails), stream=True, pool_size=1))
    except ValueError as exc:
        raise InvalidArgument("guardrails", str(exc)) from None
    except ConfigError as exc:
        raise InvalidArgument("tools", f"{exc.reason}: {exc.value}") from None
    return name


def response(row: RunRow | None, run_id: str, session_id: str, provider: str, resolved: Resolved,
             reply_to: Any, timeout: float) -> dict[str, Any]:
    """The reference's PlaygroundResponse for a run (failed with the reason when it did not end in time)."""
    if row is None:
        status, output, error = "failed", "", f"the run did not end within {timeout:g}s (it goes on: run {run_id})"
    elif row.status == "completed":
        status, output, error = "completed", row.output or "", None
    else:
        status, output = "failed", row.output or ""
        error = "the run waits for input" if row.status == "waiting" else row.error or row.status
    return {"output": output, "runId": run_id, "sessionId": row.session_id if row else session_id,
            "provider": provider, "appliedSkills": list(resolved.applied_skills), "status": status, "error": error,
            "replyTo": reply_to, "flow": resolved.flow, "workflow": resolved.workflow}
