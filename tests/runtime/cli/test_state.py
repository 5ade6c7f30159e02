"""`agentstage state prune|stats`: reports, dry runs, clear one-line errors, Hybrid copies dropped."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agentstage.runtime.cli import main
from agentstage.runtime.state.hybrid_reader import HybridReader
from agentstage.runtime.state.reader import SQLiteReader
from agentstage.runtime.state.redis_layout import RedisLayout, connect
from agentstage.runtime.state.sqlite import SQLiteWriter
from tests.runtime.state.conftest import checkpoint, completed, started


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("AGENTSTAGE_STATE", "AGENTSTAGE_REDIS_URL", "AGENTSTAGE_STREAM_PREFIX"):
        monkeypatch.delenv(name, raising=False)
    path = tmp_path / "state.db"
    writer = SQLiteWriter(path)
    writer.write([started("done"), completed("done"), checkpoint("done", 1), checkpoint("done", 2),
                  started("busy"), checkpoint("busy", 1), checkpoint("busy", 2)])
    writer.close()
    return path


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_prune_reports_and_deletes(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "state", "prune", "--db", str(db), "--older-than-days", "0", "--dry-run", "--json")
    assert code == 0
    report = json.loads(out)
    assert (report["runs"], report["events"], report["checkpoints"], report["dry_run"]) == (1, 2, 2, True)
    code, out, _ = cli(capsys, "state", "prune", "--db", str(db), "--older-than-days", "0")
    assert (code, out.strip()) == (0, "deleted 2 events and 2 checkpoints of 1 finished runs")
    reader = SQLiteReader(db)
    assert (reader.count("events"), reader.count("checkpoints")) == (1, 2)
    reader.close()


def test_prune_needs_a_policy_and_refuses_negative_values(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = cli(capsys, "state", "prune", "--db", str(db))
    assert code == 2 and err.count("\n") == 1 and "--older-than-days" in err
    with pytest.raises(SystemExit) as exit_info:
        main(["state", "prune", "--db", str(db), "--keep-checkpoints", "-1"])
    assert exit_info.value.code == 2
    assert "must not be negative" in capsys.readouterr().err


def test_a_missing_state_file_exits_3(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for args in (["prune", "--keep-checkpoints", "1"], ["stats"]):
        code, _, err = cli(capsys, "state", *args, "--db", str(tmp_path / "none.db"))
        assert code == 3 and "no state file" in err
    assert not (tmp_path / "none.db").exists()


def test_redis_only_state_has_nothing_to_prune(db: Path, capsys: pytest.CaptureFixture[str],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENTSTAGE_STATE", "redis")
    code, _, err = cli(capsys, "state", "prune", "--db", str(db), "--keep-checkpoints", "0")
    assert code == 2 and "AGENTSTAGE_STATE_REDIS_TTL" in err


def test_stats_show_tables_and_checkpoint_bytes(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "state", "stats", "--db", str(db), "--json")
    result = json.loads(out)
    assert code == 0 and result["tables"]["checkpoints"]["rows"] == 4
    assert [r["run_id"] for r in result["checkpoint_bytes"]["top_runs"]] == ["busy", "done"]
    code, out, _ = cli(capsys, "state", "stats", "--db", str(db))
    assert code == 0 and "checkpoints" in out and "checkpoint state:" in out


def test_hybrid_prune_drops_the_redis_copies(db: Path, redis_url: str, capsys: pytest.CaptureFixture[str],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENTSTAGE_STATE", "hybrid")
    monkeypatch.setenv("AGENTSTAGE_REDIS_URL", redis_url)
    monkeypatch.setenv("AGENTSTAGE_STREAM_PREFIX", "prunetest")
    client = connect(redis_url)
    reader = HybridReader(SQLiteReader(db), client, "prunetest")
    assert len(reader.events("done")) == 2
    assert client.exists(RedisLayout(client, "prunetest").events("done"))
    code, _, _ = cli(capsys, "state", "prune", "--db", str(db), "--older-than-days", "0")
    assert code == 0
    assert not client.exists(RedisLayout(client, "prunetest").events("done"))
    assert reader.events("done") == [] and reader.get_run("done").status == "completed"
    assert reader.checkpoint("busy")["step"] == 2
    reader.close()
    client.close()
