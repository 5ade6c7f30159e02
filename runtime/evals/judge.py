"""LLM-as-judge: a judge agent grades a case's answer against a rubric and answers with a score."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from agentstage.runtime.agents import AgentSpec
from agentstage.runtime.config import Config
from agentstage.runtime.errors import ConfigError

__all__ = ["DEFAULT_RUBRIC", "JUDGE_AGENT", "JUDGE_PROMPT", "Verdict", "judge_prompt", "judge_spec", "parse_verdict",
           "refuse_unable_judge"]

JUDGE_AGENT = "eval-judge"
DEFAULT_RUBRIC = "The answer is correct, complete and responds to the input."
JUDGE_PROMPT = (
    "You grade the answer an AI agent gave to an input, against a rubric. Reply with only a JSON object, "
    'no other text: {"score": <a number from 0 to 1>, "reason": "<one sentence>"}. '
    "1 means the answer fully meets the rubric, 0 that it does not meet it at all."
)
# NOTE: the offline provider answers from a rule table; a score from it would be made up.
_CANNOT_JUDGE = frozenset({"scripted"})


@dataclass(frozen=True, slots=True)
class Verdict:
    """A judge's grade of one answer: `score` in 0..1 and its one-line reason."""

    score: float
    reason: str


def judge_spec(config: Config, provider: str | None = None, model: str | None = None) -> AgentSpec:
    """The judge agent: no tools, one model call, the configured provider unless `provider` is given."""
    return AgentSpec.from_config(config, JUDGE_AGENT, provider=provider or config.provider, model=model or config.model,
                                 system_prompt=JUDGE_PROMPT, tools=(), max_iterations=1, tool_choice=None,
                                 guardrails=())


def refuse_unable_judge(provider: str, setting: str = "--judge-provider") -> None:
    """Raise ConfigError when `provider` cannot grade answers (the offline scripted one)."""
    if provider in _CANNOT_JUDGE:
        raise ConfigError(setting, provider, "the offline scripted provider cannot judge answers; "
                                             "give the judge a model provider (openai, anthropic, gemini, ollama, azure)")


def judge_prompt(prompt: str, answer: str, rubric: str) -> str:
    """The message the judge agent gets for one case."""
    return f"Rubric:\n{rubric}\n\nInput:\n{prompt}\n\nAnswer:\n{answer}\n\nGrade the answer against the rubric."


def parse_verdict(text: str) -> Verdict:
    """The judge's JSON answer as a Verdict; raises ValueError saying what is wrong with it."""
    match = re.search(r"\{.*\}", text, re.DOTALL)
    if match is None:
        raise ValueError(f"no JSON object in the judge's answer {text[:120]!r}")
    try:
        data = json.loads(match.group(0))
    except ValueError as exc:
        raise ValueError(f"the judge's answer is not JSON: {exc}") from None
    score = data.get("score") if isinstance(data, dict) else None
    if isinstance(score, bool) or not isinstance(score, (int, float)) or not 0 <= score <= 1:
        raise ValueError(f"the judge's score is not a number from 0 to 1: {score!r}")
    return Verdict(float(score), str(data.get("reason", "")))
