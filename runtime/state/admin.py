"""Read queries of the admin surfaces (HTTP API, `ui-admin`): keys, audit, metrics, run listings.

`AdminReader` extends `SQLiteReader` with them; like it, one instance per thread.
"""

from __future__ import annotations

from typing import Any

from agentstage.runtime.errors import NotFound
from agentstage.runtime.state.reader import EVENT_COLUMNS, Page, SQLiteReader, encode_cursor
from agentstage.runtime.state.records import ApiKey, AuditEntry, Event

__all__ = ["AdminReader"]

_KEY_COLUMNS = "id, prefix, key_hash, role, name, created_at, expires_at, revoked_at, last_used_at"
_AUDIT_COLUMNS = "id, ts, action, outcome, key_id, role, target, request_id, client, detail"


# NOTE: above every character a stored id can have, so `prefix <= id < prefix + _TOP` is "starts with".
_TOP = "\U0010ffff"


def _like(text: str) -> str:
    """A LIKE pattern matching `text` anywhere (its own `%`, `_` and backslashes taken literally)."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _run_conditions(id_prefix: str | None, text: str | None, top_level: bool,
                    parents: list[str] | None) -> list[tuple[str, tuple]]:
    """SQL conditions on `runs` for `runs_page`'s prefix, text, top-level and children filters."""
    conditions: list[tuple[str, tuple]] = []
    if id_prefix:
        conditions.append(("run_id >= ? AND run_id < ?", (id_prefix, id_prefix + _TOP)))
    if text:
        pattern = _like(text)
        conditions.append(("input LIKE ? ESCAPE '\\' OR output LIKE ? ESCAPE '\\'", (pattern, pattern)))
    if top_level:
        conditions.append(("parent_run_id IS NULL OR parent_run_id = ''", ()))
    if parents:
        # NOTE: a child's id starts with its parent's and a dot (graph nodes, delegation): the ranges use
        # the primary key, the parent column keeps an unrelated id that happens to share the prefix out.
        ranges = " OR ".join("(run_id > ? AND run_id < ? AND parent_run_id = ?)" for _ in parents)
        conditions.append((ranges, tuple(v for p in parents for v in (p + ".", p + "." + _TOP, p))))
    return conditions


class AdminReader(SQLiteReader):
    """`SQLiteReader` plus the queries behind the admin API."""

    def runs_page(
        self,
        *,
        filters: dict[str, str | None],
        since: str | None = None,
        until: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
        order: str = "desc",
        id_prefix: str | None = None,
        text: str | None = None,
        top_level: bool = False,
        parents: list[str] | None = None,
    ) -> Page:
        """Runs by creation time (`order` desc or asc), filtered by equal columns, a time range, an id
        prefix, a text in the input or output (any case), top-level runs only, or the children of `parents`.

        Raises ValueError for a malformed cursor or order.
        """
        if order not in ("asc", "desc"):
            raise ValueError(f"bad order {order!r}")
        unknown = set(filters) - {"status", "session_id", "workflow", "worker_id", "agent", "kind"}
        if unknown:
            raise ValueError(f"cannot filter on {sorted(unknown)[0]!r}")
        return self._runs(filters.items(), since, until, limit, cursor, order,
                          _run_conditions(id_prefix, text, top_level, parents))

    def session(self, session_id: str) -> dict[str, Any]:
        """One session with its run count; raises NotFound."""
        rows = self._rows(
            "SELECT session_id, created_at, updated_at, (SELECT count(*) FROM runs r WHERE r.session_id = s.session_id)"
            " FROM sessions s WHERE session_id = ?", (session_id,))
        if not rows:
            raise NotFound("session", session_id)
        return dict(zip(("session_id", "created_at", "updated_at", "runs"), rows[0]))

    def last_seq(self, run_id: str) -> int:
        """The highest event `seq` of a run (0 when it has none)."""
        return self._rows("SELECT coalesce(max(seq), 0) FROM events WHERE run_id = ?", (run_id,))[0][0]

    def event(self, run_id: str, seq: int) -> Event | None:
        """One event by its key, or None."""
        found = self.events(run_id, after_seq=seq - 1, limit=1)
        return found[0] if found and found[0].seq == seq else None

    def events_since(self, ts: str, *, run_id: str | None = None, types: list[str] | None = None,
                     limit: int = 500) -> list[Event]:
        """Events stamped at or after `ts` (of one run, of some types), in time order."""
        return self._event_query(["ts >= ?"], [ts], run_id, types, "ORDER BY ts, run_id, seq", limit)

    def recent_events(self, *, run_id: str | None = None, types: list[str] | None = None,
                      limit: int = 50) -> list[Event]:
        """The newest `limit` events (of one run, of some types), oldest first."""
        rows = self._event_query([], [], run_id, types, "ORDER BY ts DESC, run_id DESC, seq DESC", limit)
        return list(reversed(rows))

    def _event_query(self, where: list[str], params: list[Any], run_id: str | None, types: list[str] | None,
                     order: str, limit: int) -> list[Event]:
        if run_id is not None:
            where.append("run_id = ?")
            params.append(run_id)
        if types:
            where.append(f"type IN ({','.join('?' * len(types))})")
            params.extend(types)
        sql = (f"SELECT {EVENT_COLUMNS} FROM events"
               + (" WHERE " + " AND ".join(where) if where else "") + f" {order} LIMIT ?")
        return [self._event(r) for r in self._rows(sql, (*params, limit))]

    def metrics_summary(self, since: str | None = None) -> dict[str, Any]:
        """Runs per status, p50/p95 run durations (ms) and tokens per provider, over runs created since `since`."""
        where, params = ("WHERE created_at >= ?", (since,)) if since else ("", ())
        by_status = dict(self._rows(f"SELECT status, count(*) FROM runs {where} GROUP BY status", params))
        ended = f"{where + ' AND' if where else 'WHERE'} ended_at IS NOT NULL AND started_at IS NOT NULL"
        duration = "(julianday(ended_at) - julianday(started_at)) * 86400000.0"
        total = self._rows(f"SELECT count(*) FROM runs {ended}", params)[0][0]

        def percentile(p: float) -> float | None:
            if not total:
                return None
            rows = self._rows(f"SELECT {duration} AS d FROM runs {ended} ORDER BY d LIMIT 1 OFFSET ?",
                              (*params, min(total - 1, int(p * total))))
            return round(rows[0][0], 3)

        tokens = [
            {"provider": provider or "", "input_tokens": i, "output_tokens": o, "total_tokens": i + o, "runs": n}
            for provider, i, o, n in self._rows(
                f"SELECT provider, sum(input_tokens), sum(output_tokens), count(*) FROM runs {where}"
                " GROUP BY provider ORDER BY provider", params)
        ]
        return {"runs": sum(by_status.values()), "by_status": by_status, "duration_ms_p50": percentile(0.5),
                "duration_ms_p95": percentile(0.95), "tokens": tokens}

    def api_keys(self) -> list[ApiKey]:
        """Every API key, newest first (hashes included: callers must not show them)."""
        rows = self._rows(f"SELECT {_KEY_COLUMNS} FROM api_keys ORDER BY created_at DESC, id DESC")
        return [ApiKey(*r) for r in rows]

    def api_key(self, key_id: str) -> ApiKey:
        """One API key by id; raises NotFound."""
        rows = self._rows(f"SELECT {_KEY_COLUMNS} FROM api_keys WHERE id = ?", (key_id,))
        if not rows:
            raise NotFound("api key", key_id)
        return ApiKey(*rows[0])

    def api_keys_with_prefix(self, prefix: str) -> list[ApiKey]:
        """The keys whose visible prefix is `prefix` (normally one)."""
        return [ApiKey(*r) for r in self._rows(f"SELECT {_KEY_COLUMNS} FROM api_keys WHERE prefix = ?", (prefix,))]

    def audit(
        self,
        *,
        key_id: str | None = None,
        action: str | None = None,
        outcome: str | None = None,
        since: str | None = None,
        until: str | None = None,
        limit: int = 100,
        cursor: str | None = None,
    ) -> Page:
        """Audit entries newest first, filtered; raises ValueError for a malformed cursor."""
        rows, more = self.keyset_rows(f"SELECT {_AUDIT_COLUMNS} FROM audit_log",
                                      (("key_id", key_id), ("action", action), ("outcome", outcome)), "ts", since,
                                      until, ("ts", "id"), cursor, "desc", limit)
        entries = [AuditEntry(*r[:9], detail=self._json(r[9], f"audit_log row {r[0]}")) for r in rows]
        return Page(entries, encode_cursor(entries[-1].ts, entries[-1].id) if more else None)
