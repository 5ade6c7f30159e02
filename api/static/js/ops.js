// Workers & queues (refreshing every few seconds) and the dead-letter queue with requeue and purge.

import { actionButton, badge, clear, duration, empty, failure, h, json, loading, short, table, time } from "./dom.js";
import { can, del, get, has, post } from "./api.js";

const EVERY_MS = 3000;

function every(signal, fn) {
  let timer = null;
  const tick = async () => {
    await fn();
    if (!signal.aborted) timer = setTimeout(tick, EVERY_MS);
  };
  signal.addEventListener("abort", () => clearTimeout(timer));
  return tick();
}

const age = (seconds) => (seconds === null || seconds === undefined ? "—" : duration(seconds * 1000));

function healthBanner(details) {
  return h("div", { class: `banner ${details.status}`, id: "runtime-health" },
    h("strong", {}, details.status === "healthy" ? "Healthy" : "Degraded"),
    details.reasons.length ? `: ${details.reasons.join("; ")}` : ` · ${details.alive_workers} of ${details.worker_count} workers alive`);
}

function metricsBlock(metrics) {
  const statuses = Object.entries(metrics.by_status).map(([k, v]) => `${k} ${v}`).join(", ") || "none";
  return h("dl", { class: "facts", id: "throughput" },
    h("dt", {}, "Runs, last 5 min"), h("dd", {}, `${metrics.runs} (${statuses})`),
    h("dt", {}, "Throughput"), h("dd", {}, `${(metrics.runs / 5).toFixed(1)} runs/min`),
    h("dt", {}, "Duration p50 / p95"), h("dd", {}, `${duration(metrics.duration_ms_p50)} / ${duration(metrics.duration_ms_p95)}`),
    h("dt", {}, "Tokens"), h("dd", {}, metrics.tokens.filter((t) => t.total_tokens).map((t) => `${t.provider || "no provider"}: ${t.total_tokens}`).join(", ") || "0"));
}

export async function workersView(container, params, signal) {
  const health = h("div", {});
  const metrics = h("section", { class: "panel" }, h("h2", {}, "Throughput"), loading());
  const workers = h("section", { class: "panel" }, h("h2", {}, "Workers"), loading());
  const queues = h("section", { class: "panel" }, h("h2", {}, "Queues"));
  const queued = has("queues") && can("GET", "/runtime/queues");
  container.append(h("div", { class: "heading" }, h("h1", {}, "Workers & queues"), h("span", { class: "muted" }, "refreshes every 3 s")),
    health, metrics, workers, queued ? queues : null);
  await every(signal, async () => {
    const since = new Date(Date.now() - 5 * 60000).toISOString();
    const jobs = [
      get(`/metrics/summary?since=${encodeURIComponent(since)}`).then((m) => clear(metrics, h("h2", {}, "Throughput"), metricsBlock(m))),
      get("/runtime/workers").then((rows) => clear(workers, h("h2", {}, "Workers"), rows.length ? table([
        ["Worker", (w) => h("span", { class: "mono" }, w.worker_id)],
        ["Status", (w) => badge(w.status)],
        ["Host", (w) => `${w.host} (pid ${w.pid})`],
        ["In flight", (w) => `${w.in_flight} / ${w.concurrency}`],
        ["Last heartbeat", (w) => (w.age_s !== undefined ? `${age(w.age_s)} ago` : time(w.last_seen))],
        ["Started", (w) => time(w.started_at)],
      ], rows, { rowAttrs: (w) => ({ "data-worker": w.worker_id }) }) : empty("No worker has reported a heartbeat."))),
    ];
    if (queued && can("GET", "/runtime/details")) jobs.push(get("/runtime/details").then((d) => clear(health, healthBanner(d))));
    if (queued) {
      jobs.push(get("/runtime/queues").then((rows) => clear(queues, h("h2", {}, "Queues"), table([
        ["Stream", (q) => h("span", { class: "mono" }, q.stream)], ["Kind", (q) => q.kind],
        ["Length", (q) => String(q.length)], ["In flight", (q) => String(q.pending)], ["Lag", (q) => String(q.lag)],
        ["Oldest", (q) => age(q.oldest_age_s)],
      ], rows, { rowAttrs: (q) => ({ "data-kind": q.kind }) }))));
    }
    const results = await Promise.allSettled(jobs);
    const problem = results.find((r) => r.status === "rejected");
    if (problem && !signal.aborted) clear(health, failure(problem.reason));
  });
}

export async function dlqView(container, params, signal) {
  const status = h("div", { class: "status-line", id: "dlq-status" });
  const list = h("div", { id: "dlq-list" }, loading());
  const tools = h("div", { class: "actions" });
  container.append(h("div", { class: "heading" }, h("h1", {}, "Dead-letter queue"), tools),
    h("p", { class: "muted" }, "Refreshes every 3 s; a requeued entry leaves once the coordinator has taken it."), status, list);
  const requeue = can("POST", "/runtime/dlq/{dlq_id}/requeue");
  const picked = params.query?.get("entry") || null;
  const load = async () => {
    try {
      const entries = await get("/runtime/dlq?limit=200");
      if (signal.aborted) return;
      clear(tools, entries.length && can("DELETE", "/runtime/dlq") ? actionButton("Purge all", async () => {
        await del("/runtime/dlq");
        await load();
        return "The DLQ was purged.";
      }, { status, danger: true, confirmText: `Delete all ${entries.length} dead-lettered entries?` }) : null);
      clear(list, entries.length ? table([
        ["Entry", (e) => h("a", { href: `#/dlq/${encodeURIComponent(e.id)}`, class: "mono" }, e.id)],
        ["Run", (e) => e.run_id ? h("a", { href: `#/runs/${e.run_id}`, class: "mono" }, short(e.run_id)) : "—"],
        ["Reason", (e) => e.reason],
        ["Attempts", (e) => String(e.attempts)],
        ["Worker", (e) => e.worker || "—"],
        ["Last error", (e) => h("span", { class: "error" }, e.last_error || "—")],
        ["When", (e) => time(new Date(e.ts * 1000).toISOString())],
        ["", (e) => requeue && e.run_id ? actionButton("Requeue", async () => {
          const result = await post(`/runtime/dlq/${encodeURIComponent(e.id)}/requeue`);
          return `Run ${short(result.run_id)} requeued; the entry goes once the coordinator has taken it.`;
        }, { status }) : null],
      ], entries, { rowAttrs: (e) => ({ "data-entry": e.id, class: e.id === picked ? "picked" : null,
        "aria-current": e.id === picked ? "true" : null }) }) : empty("The DLQ is empty."));
    } catch (err) {
      if (!signal.aborted) clear(list, failure(err));
    }
  };
  await every(signal, load);
}

// One DLQ entry: its facts and the task message as it was queued (pretty when it is JSON).
export async function dlqEntryView(container, { id }) {
  const body = h("div", { id: "dlq-entry" }, loading());
  container.append(h("div", { class: "heading" }, h("h1", {}, "DLQ entry ", h("span", { class: "mono" }, id)),
    h("a", { href: `#/dlq?entry=${encodeURIComponent(id)}` }, "back to the DLQ")), body);
  const e = await get(`/runtime/dlq/${encodeURIComponent(id)}`);
  let payload;
  try {
    payload = json(JSON.parse(e.payload));
  } catch (err) {
    payload = h("pre", { class: "text" }, e.payload || "(empty)");
  }
  clear(body, h("dl", { class: "facts" },
    h("dt", {}, "Run"), h("dd", {}, e.run_id ? h("a", { href: `#/runs/${e.run_id}`, class: "mono" }, e.run_id) : "—"),
    h("dt", {}, "Task"), h("dd", { class: "mono" }, e.task_id || "—"),
    h("dt", {}, "Reason"), h("dd", {}, e.reason),
    h("dt", {}, "Attempts"), h("dd", {}, String(e.attempts)),
    h("dt", {}, "Worker"), h("dd", {}, e.worker || "—"),
    h("dt", {}, "Last error"), h("dd", { class: "error" }, e.last_error || "—"),
    h("dt", {}, "When"), h("dd", {}, time(new Date(e.ts * 1000).toISOString())),
    h("dt", {}, "From"), h("dd", { class: "mono" }, `${e.stream} ${e.entry_id}`)),
  h("h3", {}, "Payload (the queued message)"), h("div", { id: "dlq-payload" }, payload));
}
