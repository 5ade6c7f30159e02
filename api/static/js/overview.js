// Overview: charts of the recent window, aggregated by the server per time bucket (runs per status,
// p50/p95 duration, tokens, estimated cost with the price table, queue depth and worker throughput).

import { get } from "./api.js";
import { clear, duration, empty, failure, h, loading, table } from "./dom.js";
import { barChart, lineChart } from "./chart.js";

const WINDOWS = { "15m": [900, 30], "1h": [3600, 60], "6h": [21600, 300], "24h": [86400, 1200] };
const STATUS_SERIES = ["completed", "failed", "cancelled", "running", "waiting", "queued"]
  .map((status) => ({ label: status, cls: `c-${status}`, value: (b) => b.runs[status] || 0 }));

export const usd = (v) => (v === null || v === undefined ? "—" : v === 0 ? "$0" : v >= 1 ? `$${v.toFixed(2)}` : v > 0 && v < 0.0001 ? "<$0.0001" : `$${v.toFixed(4)}`);
const count = (v) => (v >= 1000 ? `${(v / 1000).toFixed(v >= 10000 ? 0 : 1)}k` : String(Math.round(v * 100) / 100));

function prices(doc) {
  const rows = doc.prices.map((p) => ({ ...p }));
  return h("section", { class: "panel", id: "price-table" }, h("h2", {}, "Price table"),
    rows.length ? table([
      ["Model", (p) => h("span", { class: "mono" }, p.model)],
      ["Input, per 1M tokens", (p) => usd(p.input_per_mtok)],
      ["Output, per 1M tokens", (p) => usd(p.output_per_mtok)],
    ], rows) : empty("No prices are configured, so costs read $0: set AGENTSTAGE_PRICES_FILE to a JSON file of {model: {input, output}} in USD per million tokens."),
    doc.unpriced_models.length ? h("p", { class: "muted", id: "unpriced" },
      `Models without a price (not in the cost): ${doc.unpriced_models.map((m) => m || "(unnamed)").join(", ")}.`) : null);
}

function totals(doc) {
  const runs = doc.buckets.reduce((n, b) => n + Object.values(b.runs).reduce((a, c) => a + c, 0), 0);
  const failed = doc.buckets.reduce((n, b) => n + (b.runs.failed || 0), 0);
  const tokens = doc.buckets.reduce((n, b) => n + b.input_tokens + b.output_tokens, 0);
  return h("dl", { class: "facts totals", id: "overview-totals" },
    h("dt", {}, "Runs"), h("dd", {}, `${runs}${failed ? ` (${failed} failed)` : ""}`),
    h("dt", {}, "Tokens"), h("dd", {}, tokens.toLocaleString()),
    h("dt", {}, "Estimated cost"), h("dd", { id: "overview-cost" }, usd(doc.cost_usd)));
}

function charts(doc) {
  const b = doc.buckets;
  const perMinute = 60 / doc.bucket_s;
  const list = [
    barChart("chart-runs", `Runs per minute by status (buckets of ${doc.bucket_s % 60 ? `${doc.bucket_s} s` : `${doc.bucket_s / 60} min`})`, b,
      STATUS_SERIES.map((x) => ({ ...x, value: (k) => x.value(k) * perMinute })), count),
    lineChart("chart-duration", "Run duration p50 / p95", b, [
      { label: "p50", cls: "c-p50", value: (k) => k.duration_ms_p50 },
      { label: "p95", cls: "c-p95", value: (k) => k.duration_ms_p95 }], (v) => duration(v)),
    barChart("chart-tokens", "Tokens", b, [
      { label: "input", cls: "c-input", value: (k) => k.input_tokens },
      { label: "output", cls: "c-output", value: (k) => k.output_tokens }], count),
    barChart("chart-cost", "Estimated cost", b, [{ label: "cost", cls: "c-cost", value: (k) => k.cost_usd }], usd),
  ];
  if (doc.queues) {
    list.push(
      lineChart("chart-queue", "Queue depth (tasks waiting)", b, [{ label: "waiting", cls: "c-depth", value: (k) => k.queue_depth }], count),
      barChart("chart-throughput", "Worker throughput (tasks finished per minute)", b,
        [{ label: "finished", cls: "c-acked", value: (k) => k.acked * perMinute }], count));
  }
  return h("div", { class: "charts" }, list);
}

export async function overviewView(container, { query }, signal) {
  const chosen = WINDOWS[query.get("window")] ? query.get("window") : "1h";
  const body = h("div", { id: "overview" }, loading());
  const picker = h("div", { class: "actions", role: "group", "aria-label": "Window" },
    Object.keys(WINDOWS).map((w) => h("a", { href: `#/overview?window=${w}`, class: `pill${w === chosen ? " on" : ""}`,
      "aria-current": w === chosen ? "true" : null }, `last ${w}`)));
  container.append(h("div", { class: "heading" }, h("h1", {}, "Overview"), picker), body);
  const [seconds, bucket] = WINDOWS[chosen];
  const load = async () => {
    const until = new Date();
    const since = new Date(until.getTime() - seconds * 1000);
    try {
      const doc = await get(`/metrics/timeseries?since=${encodeURIComponent(since.toISOString())}` +
        `&until=${encodeURIComponent(until.toISOString())}&bucket=${bucket}`);
      if (!signal.aborted) clear(body, totals(doc), charts(doc), prices(doc));
    } catch (err) {
      if (!signal.aborted) clear(body, failure(err));
    }
  };
  await load();
  const timer = setInterval(load, 10000);
  signal.addEventListener("abort", () => clearInterval(timer));
}
