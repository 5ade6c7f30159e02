"""One explicit `Config`, built from defaults < `.env` < environment < CLI flags, and passed down.

Each field declares its `AGENTSTAGE_*` variable and help text, so the CLI's `--help` and
`.env.example` are derived from this single table. Nothing here reads the environment at import.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentstage.runtime.errors import ConfigError
from agentstage.runtime.retry import RetryPolicy

__all__ = ["Config", "setting_fields"]


def _setting(default: Any, env: str, help: str) -> Any:
    return field(default=default, metadata={"env": env, "help": help})


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


@dataclass(frozen=True)
class Config:
    """Settings of one agentstage process or embedded System."""

    home: str = _setting(".agentstage", "AGENTSTAGE_HOME", "directory for the state file and local data")
    db_path: str = _setting("", "AGENTSTAGE_DB", "SQLite state file (default: $AGENTSTAGE_HOME/agentstage.db)")
    provider: str = _setting("auto", "AGENTSTAGE_PROVIDER", "LLM provider: auto, openai, azure, anthropic, gemini, ollama or scripted")
    model: str = _setting("", "AGENTSTAGE_MODEL", "model name passed to the provider (provider default when empty)")
    system_prompt: str = _setting("", "AGENTSTAGE_SYSTEM_PROMPT", "system prompt of the default agent")
    tools: str = _setting("calculator,current_time,json_query,text_stats", "AGENTSTAGE_TOOLS",
                          "tools of the default agent: names, @bundle (e.g. @default,@security) or '*' for all")
    tool_sandbox: str = _setting("", "AGENTSTAGE_TOOL_SANDBOX",
                                 "directory file/code/shell tools are confined to (default: $AGENTSTAGE_HOME/sandbox)")
    tool_allow_hosts: str = _setting("", "AGENTSTAGE_TOOL_ALLOW_HOSTS",
                                     "hosts network tools may reach (HTTP, DNS, TCP): names or addresses with an "
                                     "optional :port, *.domain, '*' (public addresses only); loopback/private "
                                     "addresses only when named")
    tool_shell: bool = _setting(False, "AGENTSTAGE_TOOL_SHELL", "enable the shell_command tool")
    tool_shell_programs: str = _setting("", "AGENTSTAGE_TOOL_SHELL_PROGRAMS",
                                        "comma-separated programs shell_command may run (empty: a small read-only "
                                        "set: cat, grep, head, ls, wc, ...)")
    credential_file_root: str = _setting("", "AGENTSTAGE_CREDENTIAL_FILE_ROOT",
                                         "directory file: credential references must lie under "
                                         "(default: $AGENTSTAGE_HOME/credentials)")
    credential_env: str = _setting("", "AGENTSTAGE_CREDENTIAL_ENV",
                                   "comma-separated variable names env: credential references may read; NAME* "
                                   "allows a prefix (empty: env: references are refused)")
    tool_dir: str = _setting("", "AGENTSTAGE_TOOL_DIR",
                             "custom HTTP tool specs (*.json) loaded at start (default: $AGENTSTAGE_HOME/tools)")
    scripted_rules: str = _setting("", "AGENTSTAGE_SCRIPTED_RULES", "JSON rule table for the scripted provider")
    max_iterations: int = _setting(6, "AGENTSTAGE_MAX_ITERATIONS", "LLM turns per run before MaxIterationsExceeded")
    agent_pool_size: int = _setting(2, "AGENTSTAGE_AGENT_POOL",
                                    "agent actors per agent spec (for CPU parallelism; each holds many runs)")
    max_runs: int = _setting(1000, "AGENTSTAGE_MAX_RUNS",
                             "runs of one agent in flight at once in this process; more wait as queued")
    tool_threads: int = _setting(16, "AGENTSTAGE_TOOL_THREADS", "threads per agent actor for synchronous tool calls")
    blocking_threads: int = _setting(32, "AGENTSTAGE_BLOCKING_THREADS",
                                     "threads for blocking provider calls (synchronous application providers)")
    gc_threshold: int = _setting(50_000, "AGENTSTAGE_GC_THRESHOLD",
                                 "allocations between young-generation garbage collections, raised to at least this "
                                 "at start (0: leave the interpreter's setting)")
    parallel_tools: bool = _setting(False, "AGENTSTAGE_PARALLEL_TOOLS", "run a turn's tool calls in parallel")
    max_parallel_tools: int = _setting(8, "AGENTSTAGE_MAX_PARALLEL_TOOLS", "threads for parallel tool calls")
    tool_timeout: float = _setting(30.0, "AGENTSTAGE_TOOL_TIMEOUT", "seconds a tool call may take (0 = no limit)")
    # NOTE: retry and timeout defaults follow the official OpenAI/Anthropic SDKs: 2 retries, 0.5 s doubling
    # to 8 s with jitter factor U(0.75, 1) (jitter 0.25), connect timeout 5 s, read timeout 600 s.
    retry_max_attempts: int = _setting(3, "AGENTSTAGE_RETRY_MAX_ATTEMPTS", "attempts per LLM call (1 = no retry)")
    retry_initial_backoff: float = _setting(0.5, "AGENTSTAGE_RETRY_INITIAL_BACKOFF", "first retry delay, seconds")
    retry_multiplier: float = _setting(2.0, "AGENTSTAGE_RETRY_MULTIPLIER", "backoff growth per retry")
    retry_max_backoff: float = _setting(8.0, "AGENTSTAGE_RETRY_MAX_BACKOFF", "longest retry delay, seconds")
    retry_jitter: float = _setting(0.25, "AGENTSTAGE_RETRY_JITTER", "random fraction taken off each delay (0..1)")
    llm_timeout: float = _setting(600.0, "AGENTSTAGE_LLM_TIMEOUT", "seconds an LLM HTTP call may wait for data")
    llm_connect_timeout: float = _setting(5.0, "AGENTSTAGE_LLM_CONNECT_TIMEOUT", "seconds to connect to an LLM API")
    llm_max_connections: int = _setting(1000, "AGENTSTAGE_LLM_MAX_CONNECTIONS",
                                        "connections a provider opens to its API at most, per process; further "
                                        "calls wait for one (at least 1; 1000 is the official SDKs' limit)")
    tool_choice: str = _setting("auto", "AGENTSTAGE_TOOL_CHOICE",
                                "tool choice of the default agent: auto, required, none or a tool name (a forced "
                                "choice holds until the first tool call, then auto)")
    max_output_tokens: int = _setting(0, "AGENTSTAGE_MAX_OUTPUT_TOKENS",
                                      "output tokens per LLM call of the default agent (0 = provider default)")
    guardrails: str = _setting("", "AGENTSTAGE_GUARDRAILS",
                               "guardrails of the default agent, in the order they run: name[:action][=value], "
                               "comma-separated, e.g. secret_guard,prompt_injection,max_length=8000 "
                               "(`agentstage tools guardrails` lists them)")
    docs_db: str = _setting("", "AGENTSTAGE_DOCS_DB",
                            "document collections file for retrieval (default: $AGENTSTAGE_HOME/docs.db)")
    embedder: str = _setting("hash", "AGENTSTAGE_EMBEDDER",
                             "embedder of document collections: hash (offline, deterministic), openai, ollama or "
                             "gemini (vendor URL and key as for the LLM providers)")
    embed_model: str = _setting("", "AGENTSTAGE_EMBED_MODEL", "embedding model of a vendor embedder")
    embed_dimensions: int = _setting(0, "AGENTSTAGE_EMBED_DIMENSIONS",
                                     "vector size of the embedder (0: 256 for hash; required for vendors)")
    stream: bool = _setting(False, "AGENTSTAGE_STREAM", "stream LLM answers: text deltas become live llm.delta events")
    busy_timeout_ms: int = _setting(5000, "AGENTSTAGE_BUSY_TIMEOUT_MS", "SQLite busy timeout, milliseconds")
    run_timeout: float = _setting(600.0, "AGENTSTAGE_RUN_TIMEOUT", "seconds a blocking run call waits")
    ui_addr: str = _setting("127.0.0.1:7070", "AGENTSTAGE_UI_ADDR", "host:port the HTTP API (ui, ui-api) listens on")
    api_threads: int = _setting(16, "AGENTSTAGE_API_THREADS",
                                "threads of the API server for blocking store reads and writes (no thread per "
                                "connection or event stream)")
    api_header_timeout: float = _setting(10.0, "AGENTSTAGE_API_HEADER_TIMEOUT",
                                         "seconds a client may take to send a whole request (line, headers, body)")
    api_keepalive_timeout: int = _setting(5, "AGENTSTAGE_API_KEEPALIVE_TIMEOUT",
                                          "seconds an idle keep-alive connection stays open")
    api_max_connections: int = _setting(4096, "AGENTSTAGE_API_MAX_CONNECTIONS",
                                        "open connections past which the API answers 503")
    api_streams_per_key: int = _setting(32, "AGENTSTAGE_API_STREAMS_PER_KEY",
                                        "live event streams one API key may hold open (429 past it)")
    api_streams_total: int = _setting(1024, "AGENTSTAGE_API_STREAMS_TOTAL",
                                      "live event streams the API process holds open in total (429 past it)")
    api_max_body: int = _setting(1_048_576, "AGENTSTAGE_API_MAX_BODY", "largest accepted API request body, bytes")
    api_cors_origins: str = _setting("", "AGENTSTAGE_API_CORS_ORIGINS",
                                     "comma-separated origins allowed to call the API from a browser (empty: CORS off)")
    prices_file: str = _setting("", "AGENTSTAGE_PRICES_FILE",
                                "JSON price table for cost estimates: {model: {input, output}} in USD per million "
                                "tokens, model* for a prefix (default: $AGENTSTAGE_HOME/prices.json; none: no costs)")
    sse_heartbeat: float = _setting(15.0, "AGENTSTAGE_SSE_HEARTBEAT", "seconds between keep-alive comments on event streams")
    workflow_dir: str = _setting("", "AGENTSTAGE_WORKFLOW_DIR",
                                 "workflow JSON files loaded at start (default: $AGENTSTAGE_HOME/workflows)")
    flow_dir: str = _setting("", "AGENTSTAGE_FLOW_DIR",
                             "named flow files, name.json (default: $AGENTSTAGE_HOME/flows)")
    skill_dirs: str = _setting("", "AGENTSTAGE_SKILL_DIRS",
                               "folders of SKILL.md skills, path-separated (default: ./skills, ./.github/skills, "
                               "./.agents/skills, $AGENTSTAGE_HOME/skills)")
    prompt_dir: str = _setting("", "AGENTSTAGE_PROMPT_DIR",
                               "versioned prompt files, name@version.json (default: $AGENTSTAGE_HOME/prompts)")
    otel: str = _setting("", "AGENTSTAGE_OTEL",
                         "trace export: otlp (OTLP/HTTP; needs the otel extra) or empty for none")
    otel_endpoint: str = _setting("", "AGENTSTAGE_OTEL_ENDPOINT",
                                  "OTLP/HTTP traces URL (default: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, else "
                                  "OTEL_EXPORTER_OTLP_ENDPOINT + /v1/traces, else http://localhost:4318/v1/traces)")
    graph_node_pool: int = _setting(4, "AGENTSTAGE_GRAPH_NODE_POOL", "tool-node actors shared by all graph runs")
    log_level: str = _setting("INFO", "AGENTSTAGE_LOG_LEVEL", "log level of CLI and service processes")
    log_format: str = _setting("auto", "AGENTSTAGE_LOG_FORMAT",
                               "log lines on stderr: text, json, or auto (text on a terminal, else JSON)")
    redis_url: str = _setting("redis://127.0.0.1:6379/0", "AGENTSTAGE_REDIS_URL",
                              "Redis of the distributed runtime (coordinator, workers, operations commands)")
    stream_prefix: str = _setting("agentstage", "AGENTSTAGE_STREAM_PREFIX", "prefix of every Redis key and stream")
    max_entry_bytes: int = _setting(16_777_216, "AGENTSTAGE_MAX_ENTRY_BYTES",
                                    "largest stream entry a reader decodes, bytes; larger ones are dead-lettered")
    task_lease: float = _setting(30.0, "AGENTSTAGE_TASK_LEASE",
                                 "seconds a claimed task may go without a worker heartbeat before it is reclaimed")
    heartbeat_interval: float = _setting(5.0, "AGENTSTAGE_HEARTBEAT_INTERVAL",
                                         "seconds between worker heartbeats (which also extend task leases)")
    reconcile_interval: float = _setting(30.0, "AGENTSTAGE_RECONCILE_INTERVAL",
                                         "seconds between the coordinator's checks of Redis against SQLite")
    task_max_attempts: int = _setting(5, "AGENTSTAGE_TASK_MAX_ATTEMPTS", "attempts per task before the DLQ")
    effect_retention: int = _setting(2_592_000, "AGENTSTAGE_EFFECT_RETENTION",
                                     "seconds the workers' effect journal in Redis keeps a side-effecting call's "
                                     "outcome or started marker; keep it longer than any run lives, retries and "
                                     "requeues included (0 = forever)")
    task_backoff: float = _setting(1.0, "AGENTSTAGE_TASK_BACKOFF", "first task retry delay, seconds (doubles per attempt)")
    task_max_backoff: float = _setting(60.0, "AGENTSTAGE_TASK_MAX_BACKOFF", "longest task retry delay, seconds")
    task_jitter: float = _setting(0.25, "AGENTSTAGE_TASK_JITTER", "random fraction taken off each task retry delay (0..1)")
    worker_concurrency: int = _setting(256, "AGENTSTAGE_WORKER_CONCURRENCY",
                                         "tasks one worker runs at the same time (its admission limit)")
    startup_timeout: float = _setting(30.0, "AGENTSTAGE_STARTUP_TIMEOUT",
                                      "seconds a coordinator or worker waits for Redis at start before it exits "
                                      "with code 3")
    max_queued: int = _setting(10000, "AGENTSTAGE_MAX_QUEUED",
                               "runs the coordinator keeps admitted but unfinished; further enqueues wait")
    read_linger_ms: float = _setting(4.0, "AGENTSTAGE_READ_LINGER_MS",
                                     "milliseconds the coordinator's stream readers wait after a partial read "
                                     "while several runs are unfinished, to handle the entries that arrive "
                                     "meanwhile as one batch (0 = read again at once)")
    scheduler: bool = _setting(True, "AGENTSTAGE_SCHEDULER",
                               "fire stored schedules from the API (ui, ui-api) and coordinator (runtime-start) "
                               "processes; every such process may, a lease per tick lets one fire it")
    scheduler_poll: float = _setting(1.0, "AGENTSTAGE_SCHEDULER_POLL", "seconds between a scheduler's checks")
    state: str = _setting("sqlite", "AGENTSTAGE_STATE",
                          "state backend: sqlite, redis (Redis only) or hybrid (SQLite + Redis copy for hot reads)")
    state_redis_ttl: int = _setting(259200, "AGENTSTAGE_STATE_REDIS_TTL",
                                    "seconds Redis keeps a run's state after its last write (0 = forever)")
    env: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False,
                                   metadata={"help": "merged .env + environment, for vendor credentials"})

    @classmethod
    def from_env(
        cls,
        environ: Mapping[str, str] | None = None,
        *,
        dotenv: str | os.PathLike[str] | None = ".env",
        **overrides: Any,
    ) -> Config:
        """Build a Config: defaults, then `.env` (if present), then `environ`, then `overrides`.

        Raises ConfigError naming the variable when a value has the wrong type.
        """
        merged: dict[str, str] = {}
        if dotenv is not None and Path(dotenv).is_file():
            from dotenv import dotenv_values

            merged.update({k: v for k, v in dotenv_values(dotenv).items() if v is not None})
        merged.update(os.environ if environ is None else environ)
        values: dict[str, Any] = {}
        for f in setting_fields():
            if f.name in overrides and overrides[f.name] is not None:
                values[f.name] = _parse(f, overrides[f.name])
            elif f.metadata["env"] in merged:
                values[f.name] = _parse(f, merged[f.metadata["env"]])
        unknown = set(overrides) - {f.name for f in setting_fields()}
        if unknown:
            raise ConfigError(sorted(unknown)[0], overrides[sorted(unknown)[0]], "unknown setting")
        return cls(**values, env=merged)

    def replace(self, **changes: Any) -> Config:
        """A copy with some settings changed (values parsed like environment strings when str)."""
        fields = {f.name: f for f in setting_fields()}
        return dataclasses.replace(self, **{k: _parse(fields[k], v) for k, v in changes.items()})

    @property
    def state_path(self) -> Path:
        return Path(self.db_path) if self.db_path else Path(self.home) / "agentstage.db"

    @property
    def prices_path(self) -> Path:
        """The price table file (`prices_file`, else prices.json in the home directory)."""
        return Path(self.prices_file) if self.prices_file else Path(self.home) / "prices.json"

    @property
    def retry_policy(self) -> RetryPolicy:
        try:
            return RetryPolicy(self.retry_max_attempts, self.retry_initial_backoff, self.retry_multiplier,
                               self.retry_max_backoff, self.retry_jitter)
        except ValueError as exc:
            raise ConfigError("AGENTSTAGE_RETRY_*", "", str(exc)) from None

    @property
    def tool_spec_dir(self) -> str:
        return self.tool_dir or str(Path(self.home) / "tools")

    @property
    def tool_names(self) -> list[str]:
        return [name.strip() for name in self.tools.split(",") if name.strip()]

    @property
    def guardrail_settings(self) -> list[str]:
        return [item.strip() for item in self.guardrails.split(",") if item.strip()]


def setting_fields() -> list[dataclasses.Field]:
    """The fields of Config that are settings (have an environment variable)."""
    return [f for f in dataclasses.fields(Config) if "env" in f.metadata]


def _parse(f: dataclasses.Field, value: Any) -> Any:
    kind = f.type if isinstance(f.type, type) else {"str": str, "int": int, "float": float, "bool": bool}[f.type]
    if not isinstance(value, str):
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind):
            raise ConfigError(f.metadata["env"], value, f"expected {kind.__name__}")
        return _not_negative(f, value, value)
    text = value.strip()
    if kind is str:
        return value
    if kind is bool:
        if text.lower() in _TRUE:
            return True
        if text.lower() in _FALSE:
            return False
        raise ConfigError(f.metadata["env"], value, "expected true or false")
    try:
        parsed = kind(text)
    except ValueError:
        raise ConfigError(f.metadata["env"], value, f"expected {'an integer' if kind is int else 'a number'}") from None
    return _not_negative(f, parsed, value)


def _not_negative(f: dataclasses.Field, parsed: Any, given: Any) -> Any:
    """`parsed`, unless it is a negative number (every numeric setting is a count, a size or a duration).

    A value given as a number (a command-line flag, a keyword to `Config.from_env`) is checked like text.
    """
    if isinstance(parsed, (int, float)) and not isinstance(parsed, bool) and parsed < 0:
        raise ConfigError(f.metadata["env"], given, "must not be negative")
    return parsed
