"""A provider for tests: answers with queued responses in order and records every request it was sent."""

from __future__ import annotations

from agentstage.runtime.llm.types import LLMRequest, LLMResponse, Provider


class QueuedProvider(Provider):
    """Answers each request with the next queued response; `requests` keeps what the agent sent."""

    name = "queued"

    def __init__(self, *steps: LLMResponse) -> None:
        self.steps = list(steps)
        self.requests: list[LLMRequest] = []

    def generate(self, request: LLMRequest) -> LLMResponse:
        self.requests.append(request)
        return self.steps.pop(0)
