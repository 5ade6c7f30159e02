"""The workers' effect journal on the suite's redis-server: per-call started markers, expiring entries."""

from __future__ import annotations

import json

import redis

from agentstage.runtime.distributed.journal import INTERRUPTED, SUPERSEDED, RedisJournal
from agentstage.runtime.state.records import ToolEffect
from agentstage.runtime.streams import StreamLayout
from agentstage.runtime.transport import MemoryTransport, RedisTransport


def _journal(redis_url: str, retention: int = 3600) -> tuple[RedisJournal, redis.Redis]:
    transport = RedisTransport.from_url(redis_url)
    return RedisJournal(transport, StreamLayout("j"), retention=retention), redis.Redis.from_url(redis_url)


def test_a_call_begun_by_another_attempt_on_the_same_worker_is_not_repeated(redis_url):
    journal, _ = _journal(redis_url)
    assert journal.lookup("r1:1:c1", 1) == (False, None)
    assert journal.lookup("r1:1:c1", 2) == (True, {"error": INTERRUPTED})


def test_a_recorded_outcome_is_replayed_and_expires_after_the_retention(redis_url):
    journal, client = _journal(redis_url, retention=600)
    assert journal.lookup("r1:1:c1", 1) == (False, None)
    journal.record(ToolEffect("r1:1:c1", "r1", "tally", {"tallied": "a"}, "2026-01-01T00:00:00.000Z"), 1)
    assert journal.lookup("r1:1:c1", 2) == (True, {"tallied": "a"})
    assert 0 < client.ttl("j:effect:r1:1:c1") <= 600
    assert json.loads(client.get("j:effect:r1:1:c1"))["attempt"] == 1
    assert not client.exists("j:effect-intent:r1:1:c1")


def test_a_started_marker_expires_after_the_retention_too(redis_url):
    journal, client = _journal(redis_url, retention=600)
    journal.lookup("r1:1:c2", 1)
    assert 0 < client.ttl("j:effect-intent:r1:1:c2") <= 600
    assert client.get("j:effect-intent:r1:1:c2").startswith(b"1:")


def test_entries_of_the_hashes_written_before_entries_expired_are_still_read(redis_url):
    journal, client = _journal(redis_url)
    client.hset("j:effects", "old:1:c1", json.dumps({"result": {"done": True}}))
    client.hset("j:effect-intents", "old:1:c2", "some-worker")
    assert journal.lookup("old:1:c1") == (True, {"done": True})
    assert journal.lookup("old:1:c2") == (True, {"error": INTERRUPTED})


def test_an_attempt_woken_after_its_run_was_retried_starts_no_new_side_effect(redis_url):
    """The paused worker's case: the coordinator fenced the run at attempt 2 before attempt 1's call began."""
    journal, client = _journal(redis_url)
    client.set("j:fence:r1", 2)
    assert journal.lookup("r1:1:c1", 1) == (True, {"error": SUPERSEDED})
    assert not client.exists("j:effect-intent:r1:1:c1")
    assert journal.lookup("r1:1:c1", 2) == (False, None)


def test_the_memory_transport_fences_like_redis():
    journal = RedisJournal(MemoryTransport(), StreamLayout("j"))
    journal.transport.apply([("set", "j:fence:r1", 3, None)])
    assert journal.lookup("r1:1:c1", 2) == (True, {"error": SUPERSEDED})
    assert journal.lookup("r1:1:c1", 3) == (False, None)
    assert journal.lookup("r1:1:c1", 4) == (True, {"error": INTERRUPTED})
