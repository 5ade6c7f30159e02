// A graph run's checkpoints: the state at each step, what changed since the step before, and a fork
// button when the server offers forking and the role allows it.

import { can, get, post } from "./api.js";
import { actionButton, clear, empty, failure, h, json, loading, table, time } from "./dom.js";

const isObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v);

// Paths that were added, removed or changed between two states (objects compared key by key).
export function diff(before, after, path = "") {
  if (isObject(before) && isObject(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    return keys.flatMap((key) => {
      const at = path ? `${path}.${key}` : key;
      if (!(key in before)) return [{ path: at, kind: "added", after: after[key] }];
      if (!(key in after)) return [{ path: at, kind: "removed", before: before[key] }];
      return diff(before[key], after[key], at);
    });
  }
  return JSON.stringify(before) === JSON.stringify(after) ? [] : [{ path: path || "(state)", kind: "changed", before, after }];
}

function diffView(changes) {
  if (!changes.length) return empty("No change from the previous step.");
  const show = (v) => (v === undefined ? "" : JSON.stringify(v));
  return h("ul", { class: "diff", id: "checkpoint-diff" }, changes.map((c) => h("li", { class: `d-${c.kind}` },
    h("span", { class: "mono" }, c.path), ` ${c.kind}`,
    c.kind !== "added" ? h("code", { class: "before" }, show(c.before)) : null,
    c.kind !== "removed" ? h("code", { class: "after" }, show(c.after)) : null)));
}

async function openStep(detail, run, steps, step) {
  const base = `/runs/${encodeURIComponent(run.run_id)}/checkpoints`;
  clear(detail, loading());
  try {
    const index = steps.findIndex((s) => s.step === step);
    const [checkpoint, previous] = await Promise.all([
      get(`${base}/${step}`), index > 0 ? get(`${base}/${steps[index - 1].step}`) : null]);
    const forkStatus = h("div", { class: "status-line" });
    const fork = can("POST", "/runs/{run_id}/fork") ? actionButton(`Fork from step ${step}`, async () => {
      const forked = await post(`/runs/${encodeURIComponent(run.run_id)}/fork`, { step });
      location.hash = `#/runs/${forked.run_id}`;
      return "Forked.";
    }, { status: forkStatus }) : null;
    clear(detail, h("h3", {}, `Step ${checkpoint.step}: ${checkpoint.node}`),
      h("p", { class: "muted" }, `next: ${checkpoint.next_node || "end"} · ${checkpoint.state_bytes} bytes · `, time(checkpoint.created_at)),
      fork, forkStatus,
      h("h4", {}, previous ? `Changes since step ${previous.step}` : "First checkpoint"),
      previous ? diffView(diff(previous.state, checkpoint.state)) : null,
      h("h4", {}, "State"), h("div", { id: "checkpoint-state" }, json(checkpoint.state)));
  } catch (err) {
    clear(detail, failure(err));
  }
}

export async function checkpointsPanel(panel, run) {
  const detail = h("div", { class: "checkpoint", id: "checkpoint-detail" });
  const title = h("h2", {}, "Checkpoints");
  if (!panel.childElementCount) clear(panel, title, loading());
  try {
    const steps = await get(`/runs/${encodeURIComponent(run.run_id)}/checkpoints`);
    const open = panel.querySelector("#checkpoint-detail");
    clear(panel, title, steps.length ? table([
      ["Step", (c) => h("button", { type: "button", class: "link", "data-step": c.step,
        onclick: () => openStep(detail, run, steps, c.step) }, `step ${c.step}`)],
      ["Node", (c) => c.node], ["Next", (c) => c.next_node || "end"], ["Bytes", (c) => String(c.state_bytes)],
      ["Saved", (c) => time(c.created_at)],
    ], steps) : empty("No checkpoint yet."), open && open.childElementCount ? open : detail);
  } catch (err) {
    clear(panel, title, failure(err));
  }
}
