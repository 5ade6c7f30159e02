"""Redis Streams transport helpers against the suite's redis-server."""

from __future__ import annotations

import redis

from agentstage.runtime.streams import (
    StreamLayout,
    apply_ops,
    autoclaim,
    coalesce,
    dlq_fields,
    ensure_group,
    read_group,
    retry_delay,
    trim_consumed,
)


def test_ensure_group_creates_the_stream_and_tolerates_busygroup(redis_url):
    client = redis.Redis.from_url(redis_url)
    ensure_group(client, "s", "g")
    ensure_group(client, "s", "g")
    assert client.exists("s") and client.xinfo_groups("s")[0]["name"] == b"g"


def test_read_group_recreates_a_lost_group(redis_url):
    client = redis.Redis.from_url(redis_url)
    ensure_group(client, "s", "g")
    client.delete("s")
    assert read_group(client, "g", "c", {"s": ">"}, 10, None) == []
    client.xadd("s", {"m": b"x"})
    [(stream, _, payload)] = read_group(client, "g", "c", {"s": ">"}, 10, None)
    assert (stream, payload) == ("s", b"x")


def test_dead_letter_and_ack_are_atomic(redis_url):
    client = redis.Redis.from_url(redis_url)
    layout = StreamLayout("p")
    ensure_group(client, layout.tasks, "g")
    entry_id = client.xadd(layout.tasks, {"m": b"junk"}).decode()
    read_group(client, "g", "c", {layout.tasks: ">"}, 10, None)
    apply_ops(client, [("dlq", layout.dlq, dlq_fields(stream=layout.tasks, entry_id=entry_id, raw=b"junk",
                                                      reason="bad")), ("xack", layout.tasks, "g", entry_id)])
    assert client.xpending(layout.tasks, "g")["pending"] == 0
    [(_, fields)] = client.xrange(layout.dlq)
    assert (fields[b"reason"], fields[b"m"], fields[b"entry_id"].decode()) == (b"bad", b"junk", entry_id)


def test_trim_keeps_entries_still_pending_or_undelivered(redis_url):
    client = redis.Redis.from_url(redis_url)
    ensure_group(client, "s", "g")
    ids = [client.xadd("s", {"m": str(i)}).decode() for i in range(300)]
    delivered = read_group(client, "g", "c", {"s": ">"}, 200, None)
    client.xack("s", "g", *[entry_id for _, entry_id, _ in delivered if entry_id != ids[150]])
    trim_consumed(client, "s", "g")
    remaining = [e[0].decode() for e in client.xrange("s")]
    assert ids[150] in remaining and set(ids[200:]) <= set(remaining)


def test_retry_delay_doubles_up_to_the_cap_with_jitter_taken_off():
    assert retry_delay(1, 1.0, 60.0, 0.0) == 1.0
    assert retry_delay(3, 1.0, 60.0, 0.0) == 4.0
    assert retry_delay(30, 1.0, 60.0, 0.0) == 60.0
    assert all(3.0 <= retry_delay(3, 1.0, 60.0, 0.25) <= 4.0 for _ in range(100))


def test_autoclaim_creates_a_missing_group_instead_of_raising(redis_url):
    client = redis.Redis.from_url(redis_url)
    assert autoclaim(client, "s", "g", "reaper", 0, "0-0", 10) == ("0-0", [])
    assert client.xinfo_groups("s")[0]["name"] == b"g"
    client.xadd("s", {"m": b"x"})
    client.xadd("s", {"other": b"y"})
    read_group(client, "g", "ghost", {"s": ">"}, 10, None)
    following, claimed = autoclaim(client, "s", "g", "reaper", 0, "0-0", 10)
    assert following == "0-0" and [payload for _, payload in claimed] == [b"x", b""]


def test_trim_of_a_stream_that_does_not_exist_yet_is_a_no_op(redis_url):
    client = redis.Redis.from_url(redis_url)
    trim_consumed(client, "missing", "g")
    assert not client.exists("missing")


def test_read_group_tells_a_deleted_pending_entry_from_one_without_payload(redis_url):
    client = redis.Redis.from_url(redis_url)
    ensure_group(client, "s", "g")
    gone = client.xadd("s", {"m": b"x"})
    client.xadd("s", {"other": b"y"})
    read_group(client, "g", "c", {"s": ">"}, 10, None)
    client.xdel("s", gone)
    assert [payload for _, _, payload in read_group(client, "g", "c", {"s": "0"}, 10, None)] == [None, b""]


def test_coalesced_acks_and_appends_fold_into_one_per_stream_at_the_first_place():
    ops = [("xack", "results", "coordinator", "1-0"), ("xadd", "tasks", b"t1", None),
           ("xack", "admit", "coordinator", "2-0"), ("xack", "results", "coordinator", "3-0"),
           ("publish", "ended", "r1"), ("xadd", "tasks", b"t2", None), ("xadd", "results", b"r", None),
           ("xack", "results", "workers", "4-0"), ("xadd", "tasks", b"t3", None), ("xack", "admit", "coordinator", "5-0")]
    assert coalesce(ops) == [("xack", "results", "coordinator", "1-0", "3-0"),
                             ("xadd_many", "tasks", (b"t1", b"t2", b"t3"), None),
                             ("xack", "admit", "coordinator", "2-0", "5-0"), ("publish", "ended", "r1"),
                             ("xadd", "results", b"r", None), ("xack", "results", "workers", "4-0")]
    assert coalesce([("set", "k", "v", None)]) == [("set", "k", "v", None)]
    assert coalesce([("xadd", "s", b"a", 10), ("xadd", "s", b"b", None)]) == [("xadd", "s", b"a", 10),
                                                                               ("xadd", "s", b"b", None)]
