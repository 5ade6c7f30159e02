"""Guardrails: checks on what goes into the model, what comes out, and each tool call before it runs."""

from agentstage.runtime.lazy import lazy_exports as _lazy_exports

__getattr__ = _lazy_exports(__name__, {
    "BUILTIN_GUARDS": "agentstage.runtime.guardrails.builtin",
    "catalog": "agentstage.runtime.guardrails.builtin",
    "parse_guard": "agentstage.runtime.guardrails.builtin",
    "parse_guards": "agentstage.runtime.guardrails.builtin",
    "Finding": "agentstage.runtime.guardrails.guard",
    "Guard": "agentstage.runtime.guardrails.guard",
    "GuardrailMiddleware": "agentstage.runtime.guardrails.middleware",
    "guardrail_middleware": "agentstage.runtime.guardrails.middleware",
})

__all__ = ["BUILTIN_GUARDS", "Finding", "Guard", "GuardrailMiddleware", "catalog", "guardrail_middleware",
           "parse_guard", "parse_guards"]
