"""One contract over every StreamTransport: the in-memory one and Redis on the suite's redis-server."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from agentstage.runtime.streams import dlq_fields
from agentstage.runtime.transport import MemoryTransport, RedisTransport, StreamTransport


@pytest.fixture(params=["memory", "redis"])
def transport(request: pytest.FixtureRequest) -> Iterator[StreamTransport]:
    if request.param == "memory":
        yield MemoryTransport()
        return
    found = RedisTransport.from_url(request.getfixturevalue("redis_url"))
    yield found
    found.close()


def test_group_reads_deliver_each_entry_once_and_keep_it_pending_until_acked(transport):
    transport.ensure_group("s", "g")
    first = transport.append("s", b"one")
    transport.append("s", b"two")
    assert [(s, p) for s, _, p in transport.read_group("g", "c", {"s": ">"}, 10, None)] == [("s", b"one"),
                                                                                           ("s", b"two")]
    assert transport.read_group("g", "c", {"s": ">"}, 10, None) == []
    transport.apply([("xack", "s", "g", first)])
    assert [p for _, _, p in transport.read_group("g", "c", {"s": "0"}, 10, None)] == [b"two"]
    assert transport.group_info("s", "g").pending == 1


def test_reading_a_missing_group_creates_it_from_the_start(transport):
    transport.append("s", b"x")
    assert transport.read_group("g", "c", {"s": ">"}, 10, None) == []
    assert [p for _, _, p in transport.read_group("g", "c", {"s": ">"}, 10, None)] == [b"x"]


def test_pending_entry_deleted_reads_as_none_and_entry_without_payload_as_empty(transport):
    transport.ensure_group("s", "g")
    gone = transport.append("s", b"x")
    transport.apply([("dlq", "s", {"other": "y"})])
    transport.read_group("g", "c", {"s": ">"}, 10, None)
    transport.apply([("xdel", "s", gone)])
    assert [p for _, _, p in transport.read_group("g", "c", {"s": "0"}, 10, None)] == [None, b""]


def test_blocking_read_returns_as_soon_as_an_entry_arrives(transport):
    transport.ensure_group("s", "g")
    late = threading.Timer(0.1, lambda: transport.append("s", b"late"))
    late.start()
    [(_, _, payload)] = transport.read_group("g", "c", {"s": ">"}, 10, 2000)
    late.join()
    assert payload == b"late"


def test_autoclaim_takes_only_idle_entries_and_creates_a_missing_group(transport):
    assert transport.autoclaim("s", "g", "reaper", 0, "0-0", 10) == ("0-0", [])
    transport.append("s", b"x")
    transport.read_group("g", "ghost", {"s": ">"}, 10, None)
    assert transport.autoclaim("s", "g", "reaper", 60_000, "0-0", 10) == ("0-0", [])
    time.sleep(0.02)
    following, claimed = transport.autoclaim("s", "g", "reaper", 10, "0-0", 10)
    assert following == "0-0" and [p for _, p in claimed] == [b"x"]


def test_extend_leases_keeps_pending_ids_and_reports_lost_ones(transport):
    transport.ensure_group("s", "g")
    kept = transport.append("s", b"x")
    lost = transport.append("s", b"y")
    transport.read_group("g", "w", {"s": ">"}, 10, None)
    transport.apply([("xack", "s", "g", lost)])
    assert transport.extend_leases("s", "g", "w", [kept, lost]) == {kept}
    time.sleep(0.02)
    assert transport.autoclaim("s", "g", "reaper", 1000, "0-0", 10) == ("0-0", [])


def test_group_info_and_trim_keep_what_the_group_still_needs(transport):
    assert transport.group_info("s", "g") is None
    transport.ensure_group("s", "g")
    ids = [transport.append("s", str(i).encode()) for i in range(10)]
    transport.read_group("g", "c", {"s": ">"}, 6, None)
    transport.apply([("xack", "s", "g", i) for i in ids[:6] if i != ids[3]])
    info = transport.group_info("s", "g")
    assert (info.last_delivered, info.pending, info.lag) == (ids[5], 1, 4)
    assert transport.pending_ids("s", "g", 10) == {ids[3]}
    transport.trim_consumed("s", "g")
    remaining = [i for i, _ in transport.entries("s")]
    assert ids[3] in remaining and set(ids[6:]) <= set(remaining)


def test_entries_range_both_ways_with_exclusive_starts(transport):
    ids = [transport.append("s", str(i).encode()) for i in range(4)]
    assert [i for i, _ in transport.entries("s", "(" + ids[1], "+")] == ids[2:]
    assert [i for i, _ in transport.entries("s", count=2, reverse=True)] == [ids[3], ids[2]]
    assert [f[b"m"] for _, f in transport.entries("s", ids[2], ids[2])] == [b"2"]
    assert transport.last_id("s") == ids[3] and transport.last_id("missing") == "0-0"
    assert transport.length("s") == 4 and transport.length("missing") == 0


def test_follower_reads_entries_after_an_id(transport):
    first = transport.append("c", b"a")
    transport.append("c", b"b")
    assert [p for _, _, p in transport.read({"c": first}, 10, None)] == [b"b"]


def test_batch_ops_answer_in_order(transport):
    replies = transport.apply([("setnx", "k", "w1", 60), ("setnx", "k", "w2", 60), ("exists", "k"), ("get", "k"),
                               ("hset", "h", "f", "v"), ("hsetnx", "h", "f", "other"), ("hget", "h", "f"),
                               ("zadd", "z", b"m", 5.0), ("xadd", "s", b"p", None), ("xlen", "s")], atomic=False)
    assert [bool(replies[0]), bool(replies[1]), replies[2], replies[3]] == [True, False, 1, b"w1"]
    assert (replies[5], replies[6], replies[9]) == (0, b"v", 1)
    transport.apply([("hdel", "h", "f"), ("zrem", "z", b"m"), ("del", "k")])
    assert transport.get("k") is None and transport.hash_values("h") == [] and transport.cardinality("z") == 0


def test_sorted_sets_give_due_members_lowest_score_first(transport):
    transport.apply([("zadd", "z", b"late", 30.0), ("zadd", "z", b"early", 10.0), ("zadd", "z", b"mid", 20.0)])
    assert transport.due("z", 25.0, 10) == [b"early", b"mid"]
    assert transport.members("z", 2) == [b"early", b"mid"] and transport.members("z") == [b"early", b"mid", b"late"]


def test_values_expire_and_delete_counts_what_existed(transport):
    transport.apply([("set", "short", "x", 1), ("set", "long", "y", 60)])
    assert transport.exists("short") and transport.get("long") == b"y"
    assert transport.delete("long", "never") == 1 and not transport.exists("long")


def test_dlq_fields_keep_the_payload_byte_for_byte(transport):
    transport.apply([("dlq", "d", dlq_fields(stream="s", entry_id="1-0", raw=b"\xff junk", reason="bad"))])
    [(_, fields)] = transport.entries("d")
    assert (fields[b"m"], fields[b"reason"], fields[b"stream"]) == (b"\xff junk", b"bad", b"s")


def test_memory_transport_unavailable_raises_like_an_unreachable_server():
    from agentstage.runtime.transport import UNAVAILABLE

    transport = MemoryTransport()
    transport.available = False
    with pytest.raises(UNAVAILABLE):
        transport.append("s", b"x")
    transport.available = True
    transport.ping()


def test_server_id_is_stable_while_the_server_runs(transport):
    first = transport.server_id()
    assert first and transport.server_id() == first


def test_a_restarted_memory_server_has_another_id_and_keeps_or_loses_its_data():
    transport = MemoryTransport()
    transport.append("s", b"kept")
    before = transport.server_id()
    transport.restart()
    assert transport.server_id() != before and len(transport.entries("s")) == 1
    transport.restart(keep=False)
    assert transport.entries("s") == []


def test_one_ack_takes_many_entries_and_answers_how_many_were_pending(transport):
    transport.ensure_group("s", "g")
    ids = [transport.append("s", f"{i}".encode()) for i in range(4)]
    transport.read_group("g", "c", {"s": ">"}, 10, None)
    assert transport.apply([("xack", "s", "g", *ids[:3], ids[0])]) == [3]
    assert [p for _, _, p in transport.read_group("g", "c", {"s": "0"}, 10, None)] == [b"3"]


def test_many_appends_in_one_op_arrive_in_order_and_keep_the_length_cap(transport):
    transport.ensure_group("s", "g")
    assert transport.apply([("xadd_many", "s", (b"a", b"b", b"c"), None)]) == [3]
    assert [p for _, _, p in transport.read_group("g", "c", {"s": ">"}, 10, None)] == [b"a", b"b", b"c"]
    transport.apply([("xadd_many", "capped", tuple(f"{i}".encode() for i in range(300)), 10)])
    assert transport.apply([("xlen", "capped")])[0] < 300


def test_set_publish_sets_every_key(transport):
    assert transport.apply([("set_publish", 60, "ended", (("done:a", b"A", "a"), ("done:b", b"B", "b")))]) == [2]
    assert (transport.get("done:a"), transport.get("done:b")) == (b"A", b"B")


def test_claim_takes_each_key_once_and_reports_cancel_keys(transport):
    transport.apply([("set", "cancel:2", "1", None), ("set", "claim:3", "other", None)])
    pairs = (("claim:1", "cancel:1"), ("claim:2", "cancel:2"), ("claim:3", "cancel:3"))
    assert transport.apply([("claim", "w1", 60, pairs)], atomic=False) == [[1, 0, 1, 1, 0, 0]]
    assert transport.apply([("claim", "w2", 60, pairs[:1])], atomic=False) == [[0, 0]]
    assert (transport.get("claim:1"), transport.get("claim:3")) == (b"w1", b"other")
