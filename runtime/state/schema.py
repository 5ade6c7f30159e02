"""Forward-only schema migrations, applied in order and tracked with `PRAGMA user_version`."""

from __future__ import annotations

import apsw

__all__ = ["MIGRATIONS", "migrate"]

MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE sessions (
        session_id TEXT PRIMARY KEY,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        metadata TEXT NOT NULL DEFAULT '{}'
    );
    CREATE INDEX sessions_updated ON sessions(updated_at DESC);

    CREATE TABLE runs (
        run_id TEXT PRIMARY KEY,
        session_id TEXT NOT NULL,
        kind TEXT NOT NULL DEFAULT 'agent',
        agent TEXT,
        workflow TEXT,
        provider TEXT,
        model TEXT,
        status TEXT NOT NULL,
        input TEXT NOT NULL DEFAULT '',
        output TEXT,
        error TEXT,
        input_tokens INTEGER NOT NULL DEFAULT 0,
        output_tokens INTEGER NOT NULL DEFAULT 0,
        attempt INTEGER NOT NULL DEFAULT 1,
        worker_id TEXT,
        parent_run_id TEXT,
        metadata TEXT NOT NULL DEFAULT '{}',
        last_seq INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL,
        started_at TEXT,
        updated_at TEXT NOT NULL,
        ended_at TEXT
    );
    CREATE INDEX runs_created ON runs(created_at DESC, run_id DESC);
    CREATE INDEX runs_status ON runs(status, created_at DESC, run_id DESC);
    CREATE INDEX runs_session ON runs(session_id, created_at, run_id);
    CREATE INDEX runs_workflow ON runs(workflow, created_at DESC, run_id DESC);
    CREATE INDEX runs_worker ON runs(worker_id, created_at DESC, run_id DESC);

    CREATE TABLE events (
        run_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        type TEXT NOT NULL,
        ts TEXT NOT NULL,
        session_id TEXT NOT NULL DEFAULT '',
        node TEXT,
        tool TEXT,
        provider TEXT,
        duration_ms REAL,
        error TEXT,
        data TEXT NOT NULL DEFAULT '{}',
        PRIMARY KEY (run_id, seq)
    ) WITHOUT ROWID;
    CREATE INDEX events_ts ON events(ts);
    CREATE INDEX events_type ON events(type, ts);

    CREATE TABLE checkpoints (
        run_id TEXT NOT NULL,
        step INTEGER NOT NULL,
        node TEXT NOT NULL,
        next_node TEXT,
        state TEXT NOT NULL,
        state_bytes INTEGER NOT NULL,
        version INTEGER NOT NULL DEFAULT 1,
        created_at TEXT NOT NULL,
        PRIMARY KEY (run_id, step)
    ) WITHOUT ROWID;

    CREATE TABLE run_attempts (
        run_id TEXT NOT NULL,
        attempt INTEGER NOT NULL,
        task_id TEXT NOT NULL DEFAULT '',
        worker_id TEXT NOT NULL DEFAULT '',
        status TEXT NOT NULL,
        started_at TEXT NOT NULL,
        ended_at TEXT,
        error TEXT,
        PRIMARY KEY (run_id, attempt)
    ) WITHOUT ROWID;

    CREATE TABLE worker_heartbeats (
        worker_id TEXT PRIMARY KEY,
        host TEXT NOT NULL,
        pid INTEGER NOT NULL,
        started_at TEXT NOT NULL,
        last_seen TEXT NOT NULL,
        in_flight INTEGER NOT NULL DEFAULT 0,
        concurrency INTEGER NOT NULL DEFAULT 0,
        status TEXT NOT NULL
    );

    CREATE TABLE queue_events (
        task_id TEXT NOT NULL,
        attempt INTEGER NOT NULL,
        kind TEXT NOT NULL,
        ts TEXT NOT NULL,
        run_id TEXT NOT NULL DEFAULT '',
        detail TEXT NOT NULL DEFAULT '{}',
        PRIMARY KEY (task_id, attempt, kind)
    ) WITHOUT ROWID;
    CREATE INDEX queue_events_ts ON queue_events(ts);
    CREATE INDEX queue_events_run ON queue_events(run_id);

    CREATE TABLE tool_effects (
        key TEXT PRIMARY KEY,
        run_id TEXT NOT NULL,
        tool TEXT NOT NULL,
        result TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE INDEX tool_effects_run ON tool_effects(run_id);

    CREATE TABLE api_keys (
        id TEXT PRIMARY KEY,
        prefix TEXT NOT NULL,
        key_hash TEXT NOT NULL UNIQUE,
        role TEXT NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
        name TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL,
        expires_at TEXT,
        revoked_at TEXT,
        last_used_at TEXT
    );

    CREATE TABLE audit_log (
        id TEXT PRIMARY KEY,
        ts TEXT NOT NULL,
        key_id TEXT,
        role TEXT,
        action TEXT NOT NULL,
        target TEXT NOT NULL DEFAULT '',
        request_id TEXT NOT NULL DEFAULT '',
        client TEXT NOT NULL DEFAULT '',
        outcome TEXT NOT NULL,
        detail TEXT NOT NULL DEFAULT '{}'
    );
    CREATE INDEX audit_ts ON audit_log(ts DESC, id DESC);
    CREATE INDEX audit_key ON audit_log(key_id, ts DESC);
    """,
    """
    CREATE TABLE session_items (
        session_id TEXT NOT NULL,
        namespace TEXT NOT NULL,
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        expires_at TEXT,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (session_id, namespace, key)
    ) WITHOUT ROWID;

    CREATE TABLE catalog_entries (
        kind TEXT NOT NULL,
        name TEXT NOT NULL,
        body TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (kind, name)
    ) WITHOUT ROWID;
    """,
    """
    CREATE TABLE effect_intents (
        key TEXT PRIMARY KEY,
        run_id TEXT NOT NULL,
        owner TEXT NOT NULL,
        started_at TEXT NOT NULL
    );
    CREATE INDEX effect_intents_run ON effect_intents(run_id);
    """,
    """
    CREATE TABLE eval_runs (
        eval_id TEXT PRIMARY KEY,
        dataset TEXT NOT NULL DEFAULT '',
        agent TEXT NOT NULL,
        status TEXT NOT NULL,
        started_at TEXT NOT NULL,
        ended_at TEXT,
        cases INTEGER NOT NULL DEFAULT 0,
        passed INTEGER NOT NULL DEFAULT 0,
        pass_rate REAL,
        fail_under REAL NOT NULL,
        options TEXT NOT NULL DEFAULT '{}',
        summary TEXT NOT NULL DEFAULT '{}',
        error TEXT
    );
    CREATE INDEX eval_runs_started ON eval_runs(started_at DESC, eval_id DESC);

    CREATE TABLE eval_cases (
        eval_id TEXT NOT NULL,
        case_id TEXT NOT NULL,
        position INTEGER NOT NULL,
        status TEXT NOT NULL,
        run_id TEXT NOT NULL DEFAULT '',
        result TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (eval_id, case_id)
    ) WITHOUT ROWID;
    CREATE INDEX eval_cases_run ON eval_cases(run_id);
    """,
    """
    CREATE TABLE schedules (
        name TEXT PRIMARY KEY,
        cron TEXT,
        timezone TEXT NOT NULL DEFAULT 'UTC',
        every_s REAL,
        agent TEXT NOT NULL,
        workflow TEXT,
        input TEXT NOT NULL DEFAULT '',
        enabled INTEGER NOT NULL,
        grace_s REAL NOT NULL,
        config TEXT NOT NULL DEFAULT '{}',
        since TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );

    CREATE TABLE schedule_fires (
        name TEXT NOT NULL,
        tick TEXT NOT NULL,
        trigger TEXT NOT NULL,
        owner TEXT NOT NULL,
        status TEXT NOT NULL,
        run_id TEXT NOT NULL DEFAULT '',
        error TEXT,
        detail TEXT NOT NULL DEFAULT '{}',
        claimed_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (name, tick)
    ) WITHOUT ROWID;
    CREATE INDEX schedule_fires_recent ON schedule_fires(name, claimed_at DESC);
    """,
    # NOTE: a task's claim and ack live on its attempt's row, read back as queue events (the task's other
    # transitions name its run, which leads to the attempts); rows written before stay in queue_events.
    # Nothing reads queue events by run, so that index only cost writes.
    """
    ALTER TABLE run_attempts ADD COLUMN claimed_at TEXT;
    ALTER TABLE run_attempts ADD COLUMN acked_at TEXT;
    CREATE INDEX run_attempts_claimed ON run_attempts(claimed_at) WHERE claimed_at IS NOT NULL;
    CREATE INDEX run_attempts_acked ON run_attempts(acked_at) WHERE acked_at IS NOT NULL;
    DROP INDEX queue_events_run;
    """,
)


def migrate(connection: apsw.Connection) -> int:
    """Apply every migration newer than the file's `user_version`, all in one exclusive transaction.

    Returns the schema version after migrating. A file from a newer agentstage is refused.
    """
    if _checked(connection.pragma("user_version")) == len(MIGRATIONS):
        return len(MIGRATIONS)
    # NOTE: processes started together (honcho) race to migrate a fresh file; the exclusive lock lets
    # one migrate and the others then find the new version when they read it inside the lock.
    connection.execute("BEGIN EXCLUSIVE")
    try:
        current = _checked(connection.pragma("user_version"))
        for version, sql in enumerate(MIGRATIONS[current:], start=current + 1):
            connection.execute(sql)
            connection.pragma("user_version", version)
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")
    return len(MIGRATIONS)


def _checked(version: int) -> int:
    if version > len(MIGRATIONS):
        raise RuntimeError(f"schema version {version} is newer than this agentstage ({len(MIGRATIONS)})")
    return version
