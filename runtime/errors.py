"""The agentstage exception tree; every error carries the value that caused it.

    AgentstageError
    ├── ConfigError(setting, value)             bad configuration or CLI flag
    ├── DecodeError(field, reason)              a wire message that cannot be decoded (poison)
    ├── StoreError(path)                        the state file cannot be opened or written
    │   └── StoreLockedError                    another writer holds the lock past the busy timeout
    ├── ProviderError(provider)                 an LLM call failed
    │   ├── RateLimited(retry_after)            retry after the given delay
    │   ├── TransientError(retry_after)         worth retrying (network, 5xx, timeout)
    │   └── FatalError                          never retried (auth, bad request, unknown model)
    ├── ToolError(tool)                         a tool refused or failed; fed back to the model
    │   └── ToolArgumentsError(errors)          arguments do not match the tool's schema
    ├── RunError(run_id)                        a run ended without an answer
    │   ├── MaxIterationsExceeded(limit)
    │   └── RunAborted(reason)                  a middleware stopped the run on purpose
    ├── NotFound(kind, key)                     an unknown run, session, agent or tool
    ├── DatasetError(path, line, field)         an eval dataset line that cannot be used
    ├── InvalidArgument(field, reason)          a value a run-control call cannot use (the API's 422)
    └── Refused(subject, reason)                a run cannot be steered that way now (the API's 409)
        └── NotApplicable(operation)            the run-control mode has no such thing (no DLQ locally)

Each type says whether another attempt may succeed (`retryable`, a class attribute): the agent's
retry policy and the outcome of a run on a worker both read it (`retryable(error)`). Final:
ConfigError, DecodeError, FatalError, ToolArgumentsError, MaxIterationsExceeded, RunAborted,
NotFound, DatasetError, InvalidArgument, Refused; every other failure, an unexpected crash included, is worth another attempt.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from agentstage.runtime.llm.types import Usage

__all__ = [
    "AgentstageError",
    "ConfigError",
    "DatasetError",
    "DecodeError",
    "FatalError",
    "InvalidArgument",
    "NoCoordinator",
    "MaxIterationsExceeded",
    "NotApplicable",
    "NotFound",
    "ProviderError",
    "RateLimited",
    "Refused",
    "RunAborted",
    "RunError",
    "StoreError",
    "StoreLockedError",
    "ToolArgumentsError",
    "ToolError",
    "TransientError",
    "retryable",
]


class AgentstageError(Exception):
    """Base of every error agentstage raises on purpose."""

    retryable: ClassVar[bool] = True
    """Whether another attempt may succeed after this kind of error."""


class ConfigError(AgentstageError):
    """A setting has a value that cannot be used."""

    retryable: ClassVar[bool] = False

    def __init__(self, setting: str, value: object, reason: str) -> None:
        super().__init__(f"{setting}={value!r}: {reason}")
        self.setting = setting
        self.value = value
        self.reason = reason


class DecodeError(AgentstageError):
    """A wire message failed to decode; `field` names the offending field."""

    retryable: ClassVar[bool] = False

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"cannot decode message: field {field!r}: {reason}")
        self.field = field
        self.reason = reason


class StoreError(AgentstageError):
    """The state store cannot be opened, migrated or written."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"state store {path}: {reason}")
        self.path = path
        self.reason = reason


class NoCoordinator(StoreError):
    """No coordinator answered a control request (requeue, resume, fork) in time: none is running, or it is stuck."""


class StoreLockedError(StoreError):
    """Another process holds the write lock longer than the busy timeout."""


class ProviderError(AgentstageError):
    """An LLM provider call failed."""

    def __init__(self, provider: str, message: str, *, status: int | None = None) -> None:
        super().__init__(f"{provider}: {message}")
        self.provider = provider
        self.message = message
        self.status = status
        self.usage: Usage | None = None
        """Tokens the server reported for this failed call (a stream cut after its usage, a 200 that did not
        parse), None when it reported none; the run counts them, retried or not."""


class RateLimited(ProviderError):
    """The provider asked us to slow down; `retry_after` is in seconds when it said."""

    def __init__(
        self, provider: str, message: str, *, retry_after: float | None = None, status: int | None = 429
    ) -> None:
        super().__init__(provider, message, status=status)
        self.retry_after = retry_after


class TransientError(ProviderError):
    """A failure that may succeed on retry (network, timeout, 5xx); `retry_after` when the server said."""

    def __init__(
        self, provider: str, message: str, *, status: int | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(provider, message, status=status)
        self.retry_after = retry_after


class FatalError(ProviderError):
    """A failure that will not succeed on retry (auth, invalid request)."""

    retryable: ClassVar[bool] = False


class ToolError(AgentstageError):
    """A tool call failed; the message goes back to the model as the tool result."""

    def __init__(self, tool: str, message: str) -> None:
        super().__init__(message)
        self.tool = tool
        self.message = message


class ToolArgumentsError(ToolError):
    """Arguments do not match the tool's JSON schema."""

    retryable: ClassVar[bool] = False

    def __init__(self, tool: str, errors: list[str]) -> None:
        super().__init__(tool, f"invalid arguments for {tool}: " + "; ".join(errors))
        self.errors = errors


class RunError(AgentstageError):
    """A run ended without producing an answer."""

    def __init__(self, run_id: str, message: str) -> None:
        super().__init__(message)
        self.run_id = run_id


class MaxIterationsExceeded(RunError):
    """The agent loop used all its iterations without a final answer."""

    retryable: ClassVar[bool] = False

    def __init__(self, run_id: str, limit: int) -> None:
        super().__init__(run_id, f"max iterations reached ({limit}) without a final answer")
        self.limit = limit


class RunAborted(RunError):
    """A middleware aborted the run deliberately."""

    retryable: ClassVar[bool] = False

    def __init__(self, reason: str, run_id: str = "") -> None:
        super().__init__(run_id, f"run aborted: {reason}")
        self.reason = reason


class NotFound(AgentstageError):
    """Something was looked up by key and does not exist."""

    retryable: ClassVar[bool] = False

    def __init__(self, kind: str, key: str) -> None:
        super().__init__(f"unknown {kind}: {key}")
        self.kind = kind
        self.key = key


class DatasetError(AgentstageError):
    """A line of an eval dataset cannot be used; `field` names the offending key (`line` counts from 1)."""

    retryable: ClassVar[bool] = False

    def __init__(self, path: str, line: int, field: str, reason: str) -> None:
        where = f"{path} line {line}" if line else path
        super().__init__(f"{where}: field {field!r}: {reason}" if field else f"{where}: {reason}")
        self.path = path
        self.line = line
        self.field = field
        self.reason = reason


def retryable(error: BaseException | str) -> bool:
    """Whether another attempt may succeed after `error`, or after an error of the type named `error` (as a run's
    `run.failed` event names it on the wire): the type's `retryable`; a type agentstage does not know (a crash)
    is retried."""
    if isinstance(error, AgentstageError):
        return error.retryable
    if isinstance(error, str):
        found = _error_types().get(error)
        return True if found is None else found.retryable
    return True


def _error_types() -> dict[str, type[AgentstageError]]:
    found: dict[str, type[AgentstageError]] = {}
    stack = [AgentstageError]
    while stack:
        cls = stack.pop()
        found.setdefault(cls.__name__, cls)
        stack.extend(cls.__subclasses__())
    return found


class InvalidArgument(AgentstageError):
    """A run-control call got a value it cannot use; `field` names the argument."""

    retryable: ClassVar[bool] = False

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class Refused(AgentstageError):
    """The current state refuses the request: a run cannot be steered that way (it ended, it is not a graph
    run...), a name to create is taken."""

    retryable: ClassVar[bool] = False

    def __init__(self, subject: str, reason: str, *, field: str | None = None) -> None:
        super().__init__(reason)
        self.subject = subject
        self.reason = reason
        self.field = field


class NotApplicable(Refused):
    """The run-control mode has no such operation (queues and a DLQ exist only with a coordinator)."""

    def __init__(self, operation: str, reason: str) -> None:
        super().__init__(operation, reason)
        self.operation = operation
