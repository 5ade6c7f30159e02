// A run's steps as a waterfall: model calls, tool calls and graph nodes, each a bar placed by when it
// started and sized by how long it took, computed from the run's events; a failed step is marked.

import { clear, duration, h } from "./dom.js";

const STARTS = { "llm.request": "llm", "tool.call": "tool", "node.entered": "node" };
const ENDS = { "llm.response": "llm", "llm.error": "llm", "tool.result": "tool", "node.exited": "node" };
const NAMES = { llm: "model call", tool: "tool", node: "node" };

const keyOf = (kind, event) => `${kind}:${kind === "tool" ? event.tool || "" : kind === "node" ? event.node || "" : ""}`;
const failedEnd = (event) => Boolean(event.error) || event.data?.status === "failed" || event.type === "llm.error";

function label(kind, start, end) {
  const e = end || start;
  if (kind === "tool") return `tool ${e.tool || "?"}`;
  if (kind === "node") return `node ${e.node || "?"}`;
  const iteration = (start || end).data?.iteration;
  return [`model call${iteration !== undefined ? ` ${iteration}` : ""}`, e.provider].filter(Boolean).join(" · ");
}

// Steps from events (in seq order): each {kind, label, start, end (ms since the epoch), status, seq, error}.
export function steps(events, { ended, now = Date.now() } = {}) {
  const open = new Map();
  const out = [];
  for (const event of events) {
    const ts = Date.parse(event.ts);
    const starting = STARTS[event.type];
    if (starting) {
      const key = keyOf(starting, event);
      if (!open.has(key)) open.set(key, []);
      const step = { kind: starting, label: label(starting, event, null), start: ts, end: null, status: "running",
        seq: event.seq, error: null, opened: event };
      open.get(key).push(step);
      out.push(step);
      continue;
    }
    const ending = ENDS[event.type];
    if (!ending) continue;
    const pending = open.get(keyOf(ending, event));
    const took = typeof event.duration_ms === "number" ? event.duration_ms : null;
    let step = pending?.shift();
    if (!step) {
      step = { kind: ending, start: took !== null ? ts - took : ts, opened: null };
      out.push(step);
    }
    step.label = label(ending, step.opened, event);
    step.end = took !== null ? Math.max(step.start + took, step.start) : ts;
    step.status = failedEnd(event) ? "failed" : "completed";
    step.error = event.error || (event.data?.status === "failed" ? event.data?.error || "failed" : null);
    step.seq = event.seq;
  }
  const last = events.length ? Date.parse(events[events.length - 1].ts) : now;
  for (const step of out) if (step.end === null) step.end = ended ? last : Math.max(now, step.start);
  return out.sort((a, b) => a.start - b.start || a.seq - b.seq);
}

// The waterfall panel's content for `events`; `onPick(seq)` opens that event in the timeline.
export function waterfall(panel, events, { ended, onPick }) {
  const found = steps(events, { ended });
  if (!found.length) return clear(panel);
  const t0 = Math.min(Date.parse(events[0].ts), ...found.map((s) => s.start));
  const span = Math.max(1, Math.max(...found.map((s) => s.end)) - t0);
  const failed = found.find((s) => s.status === "failed");
  const rows = found.map((s) => {
    const bar = h("span", { class: "bar" });
    bar.style.left = `${((s.start - t0) / span) * 100}%`;
    bar.style.width = `max(2px, ${((s.end - s.start) / span) * 100}%)`;
    return h("li", { class: `step k-${s.kind} st-${s.status}`, "data-kind": s.kind, "data-status": s.status,
      "data-seq": s.seq, title: s.error || "" },
      h("button", { type: "button", class: "link label", onclick: () => onPick(s.seq) }, s.label),
      h("span", { class: "track" }, bar),
      h("span", { class: "took" }, s.status === "running" ? "running" : duration(s.end - s.start)));
  });
  return clear(panel, h("div", { class: "heading" }, h("h2", {}, "Steps"),
    h("span", { class: "muted" }, `${found.length} step${found.length === 1 ? "" : "s"} over ${duration(span)}`)),
    failed ? h("p", { class: "error", id: "failed-step" }, `Failed at ${failed.label}${failed.error ? `: ${failed.error}` : ""}`) : null,
    h("ol", { class: "waterfall", id: "waterfall" }, rows));
}
