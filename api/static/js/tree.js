// The tree of runs a run belongs to (a graph run's node runs, map branches, delegations, handoffs):
// found from its root down, level by level, and reloaded while the page's event feed touches it.

import { ApiError, get, watchAll } from "./api.js";
import { badge, clear, failure, h, runDuration, short } from "./dom.js";

const MAX_UP = 8;
const MAX_DEPTH = 6;
const MAX_RUNS = 500;
const PARENTS_PER_QUERY = 100; // the most parent_run_id values GET /runs takes at once
const RELOAD_EVERY_MS = 1000;

// GET `path`, unless the screen was left: a tree being loaded then stops at its next request.
function reader(signal) {
  return (path) => {
    if (signal.aborted) throw new DOMException("the screen was left", "AbortError");
    return get(path);
  };
}

async function runOrNull(read, id) {
  try {
    return await read(`/runs/${encodeURIComponent(id)}`);
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return null;
    throw err;
  }
}

// The run and its ancestors, nearest first, at most MAX_UP levels up (a missing parent ends the walk).
async function lineage(read, runId) {
  const path = [await read(`/runs/${encodeURIComponent(runId)}`)];
  while (path.length <= MAX_UP && path[path.length - 1].parent_run_id) {
    const parent = await runOrNull(read, path[path.length - 1].parent_run_id);
    if (!parent) break;
    path.push(parent);
  }
  return path;
}

// The children of `parents`, oldest first, at most `room` of them; `more` says some were left out.
async function childrenOf(read, parents, room) {
  const found = [];
  for (let i = 0; i < parents.length && found.length <= room; i += PARENTS_PER_QUERY) {
    let cursor = null;
    do {
      // NOTE: one more than there is room for, to know whether the limit cut anything.
      const q = new URLSearchParams({ sort: "asc", limit: String(Math.min(500, room + 1 - found.length)) });
      for (const id of parents.slice(i, i + PARENTS_PER_QUERY)) q.append("parent_run_id", id);
      if (cursor) q.set("cursor", cursor);
      const page = await read(`/runs?${q}`);
      found.push(...page.items);
      cursor = page.next_cursor;
    } while (cursor && found.length <= room);
  }
  return { found: found.slice(0, room), more: found.length > room };
}

// Every run of the tree by id (the run's own ancestors always among them, within the MAX_RUNS), and what
// limit cut it, if any.
async function loadTree(read, runId) {
  const path = await lineage(read, runId);
  const root = path[path.length - 1];
  const runs = new Map([[root.run_id, root]]);
  const room = () => MAX_RUNS - runs.size - path.filter((r) => !runs.has(r.run_id)).length;
  let level = [root.run_id];
  let cut = null;
  for (let depth = 1; level.length && !cut; depth += 1) {
    const deep = depth > MAX_DEPTH;
    const { found, more } = await childrenOf(read, level, deep ? 0 : room());
    if (more) cut = deep ? `runs more than ${MAX_DEPTH} levels down are not shown` : `only ${MAX_RUNS} runs are shown`;
    for (const r of found) runs.set(r.run_id, r);
    level = found.map((r) => r.run_id);
  }
  for (const r of path) if (!runs.has(r.run_id)) runs.set(r.run_id, r);
  return { root, runs, cut };
}

// Oldest first; runs of one instant by id, with step numbers in numeric order (G.2 before G.10).
const byAge = (a, b) => a.created_at.localeCompare(b.created_at)
  || a.run_id.localeCompare(b.run_id, undefined, { numeric: true });

function nodeItem(run, kids, currentId) {
  const here = run.run_id === currentId;
  const node = run.metadata?.graph_node;
  const children = (kids.get(run.run_id) || []).sort(byAge);
  return h("li", { "data-run": run.run_id, "data-status": run.status },
    h("div", { class: `tree-node${here ? " current" : ""}` },
      h("a", { href: `#/runs/${run.run_id}`, class: "mono", title: run.run_id, "aria-current": here ? "page" : null },
        short(run.run_id)),
      badge(run.status),
      h("span", { class: "what" }, run.workflow ? `workflow ${run.workflow}` : `agent ${run.agent || "—"}`),
      node ? h("span", { class: "graph-node" }, `node ${node}`) : null,
      h("span", { class: "muted took" }, runDuration(run)),
      h("span", { class: "muted" }, `${run.total_tokens} tokens`)),
    children.length ? h("ul", {}, children.map((child) => nodeItem(child, kids, currentId))) : null);
}

function draw(panel, { root, runs, cut }, currentId, live) {
  if (runs.size < 2) return clear(panel);
  const kids = new Map();
  for (const r of runs.values()) {
    if (r === root || !runs.has(r.parent_run_id)) continue;
    if (!kids.has(r.parent_run_id)) kids.set(r.parent_run_id, []);
    kids.get(r.parent_run_id).push(r);
  }
  return clear(panel,
    h("div", { class: "heading" }, h("h2", {}, "Runs ", h("span", { class: "muted sub" }, `(${runs.size})`)), live),
    cut ? h("p", { class: "muted", id: "run-tree-cut" }, `Cut short: ${cut}.`) : null,
    h("ul", { class: "run-tree" }, nodeItem(root, kids, currentId)));
}

// The parent a stored event names for its run (run.queued and run.started carry it, usage events too).
const parentOf = (event) => event.data?.parent_run_id || event.data?.metadata?.parent_run_id || null;

// Fill `panel` with the tree of `runId` and keep it current until `signal` aborts.
export async function runTree(panel, runId, signal) {
  const read = reader(signal);
  const live = h("span", { class: "live", id: "run-tree-live" }, "connecting…");
  let tree = null;
  let timer = null;
  let busy = false;
  let again = false;
  let last = 0;

  async function load() {
    timer = null;
    busy = true;
    last = Date.now();
    try {
      const loaded = await loadTree(read, runId);
      if (signal.aborted) return;
      tree = loaded;
      draw(panel, tree, runId, live);
    } catch (err) {
      if (!signal.aborted) clear(panel, h("h2", {}, "Runs"), failure(err));
    } finally {
      busy = false;
      if (again && !signal.aborted) {
        again = false;
        soon();
      }
    }
  }

  // At most one reload a second; an event during a reload asks for one more after it.
  function soon() {
    if (busy) {
      again = true;
      return;
    }
    if (timer === null) timer = setTimeout(load, Math.max(0, last + RELOAD_EVERY_MS - Date.now()));
  }

  signal.addEventListener("abort", () => clearTimeout(timer));
  await load();
  if (signal.aborted) return;
  watchAll(signal, (type, event) => {
    if (tree && (tree.runs.has(event.run_id) || tree.runs.has(parentOf(event)))) soon();
  }, (state) => {
    live.textContent = state;
    live.dataset.state = state;
  });
}
