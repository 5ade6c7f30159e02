"""Guardrails: checks on what goes into the model, what comes out, and each tool call before it runs."""

from agentstage.runtime.guardrails.builtin import BUILTIN_GUARDS, catalog, parse_guard, parse_guards
from agentstage.runtime.guardrails.guard import Finding, Guard
from agentstage.runtime.guardrails.middleware import GuardrailMiddleware, guardrail_middleware

__all__ = ["BUILTIN_GUARDS", "Finding", "Guard", "GuardrailMiddleware", "catalog", "guardrail_middleware",
           "parse_guard", "parse_guards"]
