"""The `secops` workflow: route a Trivy report or application logs through deterministic tool nodes
to the `secops` agent, then finalize.

    route ─trivy─▶ parse_trivy ─▶ build_trivy_prompt ─▶ assistant_trivy ─┐
          └logs──▶ redact_logs ─▶ classify_logs ─▶ build_logs_prompt ─▶ assistant_logs ─┴▶ finalize

State keys: input, categorized, redaction, classifiedLogs, trivyPrompt, logsPrompt,
trivyAgentOutput / logsAgentOutput, output. The domain steps are tools (`secops_*`), so the
same graph runs in-process and on distributed workers.
"""

from __future__ import annotations

from typing import Any

from agentstage.runtime.agents import AgentSpec
from agentstage.runtime.config import Config
from agentstage.runtime.graph.builder import Graph
from agentstage.runtime.graph.nodes import AgentNode, RouterNode, ToolNode
from agentstage.runtime.secops.domain import (
    MalformedReport,
    build_logs_prompt,
    build_trivy_prompt,
    classify_logs,
    parse_trivy,
    redact_logs,
    route,
)
from agentstage.runtime.tools._kit import obj
from agentstage.runtime.tools.registry import Tool, ToolRegistry, trusted_schemas
from agentstage.runtime.workflow.registry import WorkflowRegistry

__all__ = ["AGENT", "AGENT_TOOLS", "agent_spec", "register_app", "secops_graph", "secops_tools"]

AGENT = "secops"
AGENT_TOOLS = ("@default", "@security")
AGENT_MAX_ITERATIONS = 4


def agent_spec(config: Config) -> AgentSpec:
    """The `secops` agent the workflow's agent nodes use: @default and @security tools, 4 iterations."""
    return AgentSpec.from_config(config, name=AGENT, tools=AGENT_TOOLS, max_iterations=AGENT_MAX_ITERATIONS,
                                 pool_size=min(2, config.agent_pool_size))


def _parse(report: str) -> dict[str, Any]:
    try:
        return parse_trivy(report)
    except MalformedReport as exc:
        return {"artifactName": "", "critical": [], "high": [], "mediumCount": 0, "lowCount": 0, "totalCount": 0,
                "rejects": [{"where": "(report)", "reason": str(exc)}]}


def _redacted_text(redaction: dict[str, Any] | str) -> str:
    return redaction if isinstance(redaction, str) else str(redaction.get("redactedLogs", ""))


def register_app(workflows: WorkflowRegistry, tools: ToolRegistry | None = None) -> None:
    """Register the secops app: workflow `secops` and, given a registry, its `secops_*` tools.

    The facade and the worker call this for their default registries; the tools and workflow
    layers know nothing of the app.
    """
    workflows.register("secops", secops_graph)
    if tools is not None:
        with trusted_schemas():
            for tool in secops_tools():
                tools.register(tool)


def secops_tools() -> list[Tool]:
    """The secops domain steps as tools (also usable by agents)."""
    text, anything = {"type": "string"}, {"type": ["object", "string"]}
    return [
        Tool("secops_parse_trivy", "Categorise a Trivy JSON report (or a JSON string holding one): CRITICAL and "
             "HIGH listed, MEDIUM and low counted; unreadable parts become rejects with a reason.",
             obj({"report": text}, ("report",)), _parse),
        Tool("secops_redact_logs", "Redact secrets in application logs; returns the redacted text and the count.",
             obj({"logs": text}, ("logs",)), lambda logs: redact_logs(logs)),
        Tool("secops_classify_logs", "Count log lines as errors, warnings and info; malformed lines are rejects.",
             obj({"redacted": anything}, ("redacted",)), lambda redacted: classify_logs(_redacted_text(redacted))),
        Tool("secops_build_trivy_prompt", "The triage prompt for a categorised Trivy report.",
             obj({"categorized": {"type": "object"}}, ("categorized",)), build_trivy_prompt),
        Tool("secops_build_logs_prompt", "The review prompt for redacted and classified logs.",
             obj({"redacted": anything, "classified": {"type": "object"}}, ("redacted", "classified")),
             lambda redacted, classified: build_logs_prompt(_redacted_text(redacted), classified)),
        Tool("secops_finalize", "The workflow's answer: the agent's output.", obj({"output": text}, ("output",)),
             lambda output: output),
    ]


def secops_graph() -> Graph:
    """The secops graph (registered as workflow `secops`)."""
    graph = Graph("secops", description="triage a Trivy report or application logs with the secops agent")
    graph.add(
        RouterNode("route", routes={"trivy": "parse_trivy", "logs": "redact_logs"}, default="redact_logs",
                   func=lambda state: route(str(state.get("input") or ""))),
        ToolNode("parse_trivy", "secops_parse_trivy", args_from={"report": "input"}, output_key="categorized"),
        ToolNode("build_trivy_prompt", "secops_build_trivy_prompt", args_from={"categorized": "categorized"},
                 output_key="trivyPrompt"),
        AgentNode("assistant_trivy", agent=AGENT, prompt="{trivyPrompt}", output_key="trivyAgentOutput"),
        ToolNode("redact_logs", "secops_redact_logs", args_from={"logs": "input"}, output_key="redaction"),
        ToolNode("classify_logs", "secops_classify_logs", args_from={"redacted": "redaction"},
                 output_key="classifiedLogs"),
        ToolNode("build_logs_prompt", "secops_build_logs_prompt",
                 args_from={"redacted": "redaction", "classified": "classifiedLogs"}, output_key="logsPrompt"),
        AgentNode("assistant_logs", agent=AGENT, prompt="{logsPrompt}", output_key="logsAgentOutput"),
        ToolNode("finalize", "secops_finalize", args_from={"output": "output"}, output_key="output"),
    )
    graph.chain("parse_trivy", "build_trivy_prompt", "assistant_trivy", "finalize")
    graph.chain("redact_logs", "classify_logs", "build_logs_prompt", "assistant_logs", "finalize")
    return graph.entry("route")
