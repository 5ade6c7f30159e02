"""Secrets in what the API shows of runs (inputs, outputs, errors, event data, checkpoint state) are
redacted with the runtime's named secret patterns before they leave the server, so a key pasted
into a prompt or echoed by a tool is never shown to a viewer, in JSON or in an event stream."""

from __future__ import annotations

import dataclasses
from typing import Any

from marshmallow import fields

from agentstage.runtime.secret_patterns import redact_secrets
from agentstage.runtime.state.records import Event

__all__ = ["RedactedDict", "RedactedString", "redact_event", "redacted"]


def redacted(value: Any) -> Any:
    """`value` with every secret in its strings (keys of dicts included) replaced by `[REDACTED:<type>]`."""
    if isinstance(value, str):
        return redact_secrets(value)["redacted_text"] if value else value
    if isinstance(value, dict):
        return {redacted(k) if isinstance(k, str) else k: redacted(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redacted(v) for v in value]
    return value


def redact_event(event: Event) -> dict[str, Any]:
    """An event as a JSON object with its `data` and `error` redacted."""
    out = dataclasses.asdict(event)
    out["data"] = redacted(event.data)
    if event.error is not None:
        out["error"] = redacted(event.error)
    return out


class RedactedString(fields.String):
    """A string field dumped with its secrets redacted."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return redacted(super()._serialize(value, attr, obj, **kwargs))


class RedactedDict(fields.Dict):
    """A JSON object field dumped with the secrets in its strings redacted."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> dict | None:
        return redacted(super()._serialize(value, attr, obj, **kwargs))
