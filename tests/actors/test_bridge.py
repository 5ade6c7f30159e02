"""BridgeActor and StreamReader against real redis-servers."""

from __future__ import annotations

import threading

import redis

from agentstage.actors.bridge import BridgeActor, Send, StreamReader
from agentstage.runtime.wire import Cancel, to_wire
from agentstage.runtime.streams import StreamLayout
from agentstage.runtime.transport import RedisTransport
from tests.redis_server import RedisServer
from tests.runtime.distributed.harness import wait_for


def test_sends_queued_while_redis_is_down_arrive_after_it_returns(tmp_path):
    server = RedisServer(tmp_path / "r", appendonly=True).start()
    bridge = BridgeActor.start(RedisTransport.from_url(server.url))
    try:
        done = threading.Event()
        server.kill()
        bridge.tell(Send((("xadd", "s", b"one", None),)))
        bridge.tell(Send((("xadd", "s", b"two", None),), done.set))
        assert not done.wait(0.5)
        server.start()
        assert done.wait(30)
        assert [f[b"m"] for _, f in server.client().xrange("s")] == [b"one", b"two"]
    finally:
        bridge.stop()
        server.stop()


def test_reader_dead_letters_poison_and_delivers_the_rest(redis_url):
    layout = StreamLayout("p")
    client = redis.Redis.from_url(redis_url)
    got: list = []
    reader = StreamReader(RedisTransport.from_url(redis_url), layout, (layout.control,), "g", "c", lambda entries, _: got.extend(entries),
                          lambda: 10)
    reader.start()
    try:
        assert reader.ready.wait(10)
        client.xadd(layout.control, {"m": b"{]"})
        client.xadd(layout.control, {"m": to_wire(Cancel("r1"))})
        wait_for(lambda: got)
        [dead] = wait_for(lambda: client.xrange(layout.dlq))
    finally:
        reader.stop()
    assert [e.message for e in got] == [Cancel("r1")]
    assert b"not JSON" in dead[1][b"reason"]
    assert client.xpending(layout.control, "g")["pending"] == 1


def test_reader_redelivers_own_pending_entries_once_at_start(redis_url):
    layout = StreamLayout("p")
    client = redis.Redis.from_url(redis_url)
    client.xgroup_create(layout.control, "g", id="0", mkstream=True)
    client.xadd(layout.control, {"m": to_wire(Cancel("r1"))})
    client.xreadgroup("g", "c", {layout.control: ">"})
    got: list = []
    reader = StreamReader(RedisTransport.from_url(redis_url), layout, (layout.control,), "g", "c",
                          lambda entries, redelivered: got.append((redelivered, [e.message for e in entries])),
                          lambda: 10)
    reader.start()
    try:
        wait_for(lambda: got)
        client.xadd(layout.control, {"m": to_wire(Cancel("r2"))})
        wait_for(lambda: len(got) == 2)
    finally:
        reader.stop()
    assert got == [(True, [Cancel("r1")]), (False, [Cancel("r2")])]


def test_a_lingering_reader_hands_on_what_arrived_during_its_wait_as_one_batch(redis_url):
    layout = StreamLayout("p")
    client = redis.Redis.from_url(redis_url)
    client.xgroup_create(layout.control, "g", id="$", mkstream=True)
    batches: list[list[str]] = []
    asked: list[int] = []
    first_delivered = threading.Event()

    def deliver(entries, _):
        batches.append([e.message.run_id for e in entries])
        first_delivered.set()

    def linger():
        asked.append(len(batches))
        return 2.0 if len(batches) == 2 else 0.0

    client.xadd(layout.control, {"m": to_wire(Cancel("r1"))})
    client.xadd(layout.control, {"m": to_wire(Cancel("r2"))})
    reader = StreamReader(RedisTransport.from_url(redis_url), layout, (layout.control,), "g", "c", deliver,
                          lambda: 2, linger=linger)
    reader.start()
    try:
        assert first_delivered.wait(10)
        client.xadd(layout.control, {"m": to_wire(Cancel("r3"))})
        wait_for(lambda: len(batches) == 2)
        for run_id in ("r4", "r5"):
            client.xadd(layout.control, {"m": to_wire(Cancel(run_id))})
        wait_for(lambda: len(batches) == 3)
    finally:
        reader.stop()
    # NOTE: a full read (2 of room 2) reads again at once; after the partial one the reader waited, so the two
    # entries added one after the other during its wait came as one batch.
    assert batches == [["r1", "r2"], ["r3"], ["r4", "r5"]]
    assert asked == [2]


def test_a_reader_stops_during_its_linger(redis_url):
    layout = StreamLayout("p")
    client = redis.Redis.from_url(redis_url)
    got: list = []
    reader = StreamReader(RedisTransport.from_url(redis_url), layout, (layout.control,), "g", "c",
                          lambda entries, _: got.extend(entries), lambda: 10, linger=lambda: 600.0)
    reader.start()
    assert reader.ready.wait(10)
    client.xadd(layout.control, {"m": to_wire(Cancel("r1"))})
    wait_for(lambda: got)
    reader.stop(timeout=10)
    assert not reader.is_alive()


def test_reader_dead_letters_every_kind_of_poison_on_first_sight_and_keeps_reading(redis_url):
    layout = StreamLayout("p")
    client = redis.Redis.from_url(redis_url)
    got: list = []
    reader = StreamReader(RedisTransport.from_url(redis_url), layout, (layout.tasks,), "g", "c", lambda entries, _: got.extend(entries),
                          lambda: 10, max_bytes=300_000)
    reader.start()
    try:
        assert reader.ready.wait(10)
        client.xadd(layout.tasks, {"m": b"[" * 100_000 + b"]" * 100_000})
        client.xadd(layout.tasks, {"other": b"x"})
        client.xadd(layout.tasks, {"m": b""})
        client.xadd(layout.tasks, {"m": b" " * 300_001})
        client.xadd(layout.tasks, {"m": b'{"type": "cancel", "v": 7, "body": {"run_id": "r"}}'})
        client.xadd(layout.tasks, {"m": to_wire(Cancel("after"))})
        wait_for(lambda: got)
        dead = wait_for(lambda: len(client.xrange(layout.dlq)) == 5 and client.xrange(layout.dlq))
        client.xadd(layout.tasks, {"m": to_wire(Cancel("later"))})
        wait_for(lambda: len(got) == 2)
        assert reader.is_alive()
    finally:
        reader.stop()
    assert [e.message for e in got] == [Cancel("after"), Cancel("later")]
    reasons = [fields[b"reason"].decode() for _, fields in dead]
    assert "nested too deeply" in reasons[0]
    assert "missing or empty" in reasons[1] and "missing or empty" in reasons[2]
    assert "larger than the limit" in reasons[3]
    assert "newer than supported" in reasons[4]
    assert dead[0][1][b"m"] == b"[" * 100_000 + b"]" * 100_000
    assert client.xpending(layout.tasks, "g")["pending"] == 2


def test_reader_survives_a_refused_read_and_resumes_when_the_stream_is_back(redis_url):
    layout = StreamLayout("p")
    client = redis.Redis.from_url(redis_url)
    got: list = []
    reader = StreamReader(RedisTransport.from_url(redis_url), layout, (layout.control,), "g", "c", lambda entries, _: got.extend(entries),
                          lambda: 10, block_ms=100)
    reader.start()
    try:
        assert reader.ready.wait(10)
        client.delete(layout.control)
        client.set(layout.control, "not a stream")
        wait_for(lambda: not reader.ready.is_set())
        client.delete(layout.control)
        assert reader.ready.wait(30)
        client.xadd(layout.control, {"m": to_wire(Cancel("r1"))})
        wait_for(lambda: got)
        assert reader.is_alive()
    finally:
        reader.stop()
    assert [e.message for e in got] == [Cancel("r1")]


def test_acks_of_sends_flushed_together_all_take_effect(redis_url):
    transport = RedisTransport.from_url(redis_url)
    transport.ensure_group("acks", "g")
    ids = [transport.append("acks", f"{i}".encode()) for i in range(50)]
    transport.read_group("g", "c", {"acks": ">"}, 100, None)
    bridge = BridgeActor.start(transport)
    try:
        for entry_id in ids:
            bridge.tell(Send((("xack", "acks", "g", entry_id), ("set", f"acked:{entry_id}", "1", 60))))
        wait_for(lambda: transport.group_info("acks", "g").pending == 0, timeout=10)
        assert all(transport.get(f"acked:{entry_id}") == b"1" for entry_id in ids)
    finally:
        bridge.stop()
        transport.close()
