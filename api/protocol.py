"""uvicorn's h11 protocol with a request-read deadline, which uvicorn itself does not have.

uvicorn closes idle keep-alive connections (`timeout_keep_alive`) but waits forever for a request
that is sent slowly or only in part (a request line without its end, headers that never finish,
a body shorter than its Content-Length). Each such socket is cheap on an event loop, but they
add up to the open-file limit. This guard gives a connection `read_timeout` seconds from its
first byte (or from connecting) to deliver the whole request, then closes it; the wait after a
response is uvicorn's keep-alive timer, and nothing is timed while the app answers or streams.
"""

from __future__ import annotations

import asyncio

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

__all__ = ["GuardedH11Protocol", "guarded_protocol"]

_READING = (h11.IDLE, h11.SEND_BODY)


class GuardedH11Protocol(H11Protocol):
    """`H11Protocol` that closes a connection whose request is not complete in `read_timeout` seconds."""

    read_timeout: float = 10.0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self._read_deadline: asyncio.TimerHandle | None = None
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.conn.their_state in _READING and self.timeout_keep_alive_task is None:
            if self._read_deadline is None:
                self._arm()
        else:
            self._disarm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        if not self.transport.is_closing():
            self._read_deadline = self.loop.call_later(self.read_timeout, self._expire)

    def _disarm(self) -> None:
        if self._read_deadline is not None:
            self._read_deadline.cancel()
            self._read_deadline = None

    def _expire(self) -> None:
        self._read_deadline = None
        if self.conn.their_state in _READING and not self.transport.is_closing():
            self.transport.close()


def guarded_protocol(read_timeout: float) -> type[GuardedH11Protocol]:
    """The guarded protocol class with its deadline set (uvicorn takes a class, not an instance)."""
    return type("GuardedH11Protocol", (GuardedH11Protocol,), {"read_timeout": read_timeout})
