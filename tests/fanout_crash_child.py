"""Child process of the fan-out kill test: start a map run that pauses inside one branch, or resume it.

    python tests/fanout_crash_child.py --home D --db F --calls F (--start RUN --pause-at ITEM | --resume RUN)

Each call of the branch tool appends its item to the calls file (fsync'd) before it returns. With
`--pause-at`, the call for that item prints `PAUSED` and sleeps until the parent kills the process
with SIGKILL. `--resume` prints `RESUMED <json>` with the resumed run's result.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from agentstage.runtime import Config, System
from agentstage.runtime.graph import Graph, MapNode, ToolNode
from agentstage.runtime.tools.registry import Tool

WORDS = ["a", "b", "slow", "d"]


def open_system(home: Path, db: Path, calls: Path, pause_at: str | None) -> System:
    def work(text: str) -> str:
        fd = os.open(calls, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, f"{text}\n".encode())
            os.fsync(fd)
        finally:
            os.close(fd)
        if text == pause_at:
            print("PAUSED", flush=True)
            while True:
                time.sleep(60)
        return text.upper()

    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTSTAGE_")}
    config = Config.from_env(env, dotenv=None, home=str(home), db_path=str(db), provider="scripted")
    system = System(config)
    system.tools.register(Tool("work", "upper-case the text", {"type": "object", "properties": {
        "text": {"type": "string"}}, "required": ["text"]}, work))
    system.start()
    node = MapNode("each", items="words", node=ToolNode("each", "work", args_from={"text": "item"}),
                   max_concurrency=1, output_key="done")
    system.register_workflow("each", Graph("each").add(node).entry("each"))
    return system


def main() -> int:
    parser = argparse.ArgumentParser()
    for flag in ("--home", "--db", "--calls", "--start", "--pause-at", "--resume"):
        parser.add_argument(flag)
    args = parser.parse_args()
    system = open_system(Path(args.home), Path(args.db), Path(args.calls), args.pause_at)
    try:
        if args.resume:
            result = system.graph_resume(args.resume, timeout=60)
            print("RESUMED " + json.dumps(result.to_dict()), flush=True)
        else:
            system.graph_run("each", "go", run_id=args.start, state={"words": WORDS}, timeout=60)
            print("DONE", flush=True)
    finally:
        system.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
