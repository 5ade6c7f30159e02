"""A local UDP DNS server for tests of dns_lookup: answers from a small zone, NXDOMAIN otherwise."""

from __future__ import annotations

import socket
import threading
from typing import Any

import dns.message
import dns.rcode
import dns.rrset


class LocalDNS:
    """Serves `zone[(name, type)] = [rdata text, ...]` on 127.0.0.1 (UDP, a free port)."""

    def __init__(self, zone: dict[tuple[str, str], list[str]]) -> None:
        self.zone = zone
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.socket.bind(("127.0.0.1", 0))
        self.socket.settimeout(0.1)
        self.port = self.socket.getsockname()[1]
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                data, peer = self.socket.recvfrom(4096)
            except TimeoutError:
                continue
            query = dns.message.from_wire(data)
            response = dns.message.make_response(query)
            question = query.question[0]
            key = (question.name.to_text(), dns.rdatatype.to_text(question.rdtype))
            if key in self.zone:
                response.answer.append(dns.rrset.from_text_list(question.name, 300, "IN", key[1], self.zone[key]))
            else:
                response.set_rcode(dns.rcode.NXDOMAIN)
            self.socket.sendto(response.to_wire(), peer)

    def __enter__(self) -> LocalDNS:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self.thread.join(timeout=2)
        self.socket.close()
