// Graphs: the workflows, and one drawn from its definition as SVG with a run's path and current node.

import { follow, get } from "./api.js";
import { bindingsPanel } from "./bindings.js";
import { badge, clear, empty, h, loading, short, table } from "./dom.js";

const SVG = "http://www.w3.org/2000/svg";
const BOX_W = 150, BOX_H = 40, GAP_X = 30, GAP_Y = 50;

function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  for (const c of children) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

// Nodes and every transition (router routes and defaults with their labels), as the API lists them.
export function shape(workflow) {
  const edges = [];
  for (const t of workflow.transitions) {
    const same = edges.find((e) => e.from === t.from && e.to === t.to);
    if (same) same.label = [same.label, t.label].filter(Boolean).join(", ");
    else edges.push({ from: t.from, to: t.to, label: t.label });
  }
  const kinds = Object.fromEntries(workflow.nodes.map((n) => [n.name, n.kind]));
  const all = ["start", ...workflow.nodes.map((n) => n.name), ...(edges.some((e) => e.to === "end") ? ["end"] : [])];
  return { all, kinds, edges };
}

const STEP_X = BOX_W + GAP_X, STEP_Y = BOX_H + GAP_Y;

// Where each node's box starts across, given each layer's order: every layer centred on the widest.
function across(rows) {
  const widest = Math.max(...rows.map((row) => row.length));
  const x = {};
  for (const row of rows) row.forEach((name, i) => { x[name] = GAP_X + ((widest - row.length) / 2 + i) * STEP_X; });
  return x;
}

// How many pairs of downward edges with no node in common cross, drawn as straight lines between box centres.
function crossings(rows, edges, depth) {
  const x = across(rows);
  const lines = edges.filter((e) => depth[e.to] > depth[e.from]).map((e) => ({
    ends: [e.from, e.to],
    a: { x: x[e.from] + BOX_W / 2, y: depth[e.from] * STEP_Y + BOX_H }, b: { x: x[e.to] + BOX_W / 2, y: depth[e.to] * STEP_Y },
  }));
  const side = (p, q, r) => Math.sign((q.x - p.x) * (r.y - p.y) - (q.y - p.y) * (r.x - p.x));
  let count = 0;
  lines.forEach((l, i) => lines.slice(i + 1).forEach((m) => {
    if (l.ends.some((n) => m.ends.includes(n))) return;
    if (side(l.a, l.b, m.a) * side(l.a, l.b, m.b) < 0 && side(m.a, m.b, l.a) * side(m.a, m.b, l.b) < 0) count += 1;
  }));
  return count;
}

// Crossing reduction: sweeps down and up that sort each layer by the mean position of its neighbours in the
// layers already placed (barycenter ordering); keeps the order with the fewest crossings, the given one on a tie.
function ordered(rows, edges, depth) {
  let best = rows, fewest = crossings(rows, edges, depth);
  const current = rows.map((row) => [...row]);
  for (let sweep = 0; sweep < 8 && fewest > 0; sweep++) {
    const down = sweep % 2 === 0;
    const layers = [...current.keys()];
    if (!down) layers.reverse();
    for (const d of layers) {
      const x = across(current);
      const weight = {};
      for (const name of current[d]) {
        const near = edges.flatMap((e) => (e.from === name ? [e.to] : e.to === name ? [e.from] : []))
          .filter((n) => (down ? depth[n] < d : depth[n] > d));
        weight[name] = near.length ? near.reduce((sum, n) => sum + x[n], 0) / near.length : x[name];
      }
      current[d].sort((p, q) => weight[p] - weight[q]);
    }
    const count = crossings(current, edges, depth);
    if (count < fewest) { best = current.map((row) => [...row]); fewest = count; }
  }
  return best;
}

function layout({ all, edges }) {
  const depth = { start: 0 };
  const queue = ["start"];
  while (queue.length) {
    const at = queue.shift();
    for (const e of edges.filter((e) => e.from === at && depth[e.to] === undefined)) {
      depth[e.to] = depth[at] + 1;
      queue.push(e.to);
    }
  }
  const deepest = Math.max(0, ...Object.values(depth));
  for (const name of all) if (depth[name] === undefined) depth[name] = name === "end" ? deepest + 1 : deepest;
  if (all.includes("end")) depth.end = Math.max(...all.filter((n) => n !== "end").map((n) => depth[n])) + 1;
  const rows = Array.from({ length: Math.max(...all.map((n) => depth[n])) + 1 }, () => []);
  for (const name of all) rows[depth[name]].push(name);
  const x = across(ordered(rows, edges, depth));
  const pos = Object.fromEntries(all.map((name) => [name, { x: x[name], y: GAP_Y / 2 + depth[name] * STEP_Y }]));
  const width = Math.max(...rows.map((row) => row.length)) * STEP_X + GAP_X;
  return { pos, width, height: rows.length * STEP_Y };
}

export function draw(graph, { path = [], current = null, failed = null } = {}) {
  const { pos, width: inner, height } = layout(graph);
  // Loops are drawn as curves on the right: leave room for them and their labels.
  const width = inner + (graph.edges.some((e) => pos[e.to].y <= pos[e.from].y) ? 160 : 0);
  const visited = new Set(path);
  const taken = new Set(path.slice(1).map((to, i) => `${path[i]}>${to}`));
  const svg = s("svg", { viewBox: `0 0 ${width} ${height}`, width, height, class: "graph", role: "img", "aria-label": "workflow graph" });
  svg.append(s("defs", {}, s("marker", { id: "arrow", viewBox: "0 0 10 10", refX: "10", refY: "5", markerWidth: "10", markerHeight: "10", markerUnits: "userSpaceOnUse", orient: "auto-start-reverse" },
    s("path", { d: "M0,0 L10,5 L0,10 z" }))));
  for (const e of graph.edges) {
    const a = pos[e.from], b = pos[e.to];
    const x1 = a.x + BOX_W / 2, y1 = a.y + BOX_H, x2 = b.x + BOX_W / 2, y2 = b.y;
    const back = b.y <= a.y;
    const d = back ? `M${a.x + BOX_W},${a.y + BOX_H / 2} C${a.x + BOX_W + 60},${a.y} ${b.x + BOX_W + 60},${b.y + BOX_H} ${b.x + BOX_W},${b.y + BOX_H / 2}`
      : `M${x1},${y1} L${x2},${y2}`;
    const on = taken.has(`${e.from}>${e.to}`) || (e.from === "start" && path[0] === e.to);
    const text = e.label.length > 24 ? `${e.label.slice(0, 23)}…` : e.label;
    svg.append(s("path", { d, "data-from": e.from, "data-to": e.to, class: `edge${on ? " taken" : ""}${e.label === "default" ? " dashed" : ""}`, "marker-end": "url(#arrow)" }));
    if (e.label) {
      // Beside the middle of the edge, on its outer side, so labels of sibling edges do not overlap.
      const left = !back && x2 < x1;
      const at = back ? { x: Math.max(a.x, b.x) + BOX_W + 50, y: (a.y + b.y + BOX_H) / 2 } : { x: x1 + (x2 - x1) * 0.55 + (left ? -6 : 6), y: y1 + (y2 - y1) * 0.55 };
      svg.append(s("text", { x: at.x, y: at.y, "text-anchor": left ? "end" : "start", class: "edge-label" }, text, s("title", {}, e.label)));
    }
  }
  for (const name of graph.all) {
    const { x, y } = pos[name];
    const kind = graph.kinds[name] || "terminal";
    const cls = ["node", `n-${kind}`, visited.has(name) ? "visited" : "", name === current ? "current" : "",
      name === failed ? "failed" : ""].join(" ");
    svg.append(s("g", { class: cls, "data-node": name },
      s("rect", { x, y, width: BOX_W, height: BOX_H, rx: kind === "terminal" || kind === "human" ? 20 : 4 }),
      s("text", { x: x + BOX_W / 2, y: y + BOX_H / 2 + 5, "text-anchor": "middle" }, name.length > 18 ? `${name.slice(0, 17)}…` : name),
      s("title", {}, `${name} (${kind})`)));
  }
  return svg;
}

export async function graphsView(container) {
  container.append(h("h1", {}, "Graphs"));
  const list = h("div", {}, loading());
  container.append(list);
  const workflows = await get("/workflows");
  clear(list, workflows.length ? table([
    ["Workflow", (w) => w.valid ? h("a", { href: `#/graphs/${encodeURIComponent(w.name)}` }, w.name) : w.name],
    ["Description", (w) => w.description || "—"],
    ["Source", (w) => w.source_file || "built in"],
    ["State", (w) => w.valid ? "valid" : h("span", { class: "error" }, w.problems.join("; "))],
  ], workflows) : empty("No workflows are registered."));
}

function progress(events) {
  const path = [];
  let current = null;
  let failed = null;
  for (const e of events) {
    if (e.type === "node.entered") { path.push(e.node); current = e.node; failed = null; }
    if (e.type === "node.exited") {
      if (e.error || e.data?.status === "failed") failed = e.node;
      current = e.data?.next_node || null;
    }
    // A run that fails inside a node (an agent node's child run, a crash) fails at the node it was in.
    if (e.type === "run.failed" && !failed && current) failed = current;
    if (e.type.startsWith("run.") && e.type !== "run.started" && e.type !== "run.waiting") current = null;
  }
  return { path, current, failed };
}

export async function graphView(container, { id, query }, signal) {
  const runId = query.get("run");
  const title = h("h1", {}, "Graph ", h("span", { class: "mono" }, id));
  const note = h("p", { class: "muted", id: "graph-run" });
  const canvas = h("div", { class: "canvas", id: "graph-canvas" }, loading());
  container.append(title, note, canvas);
  const workflow = await get(`/workflows/${encodeURIComponent(id)}`);
  const graph = shape(workflow);
  if (workflow.description) container.insertBefore(h("p", {}, workflow.description), note);
  const bindings = bindingsPanel(workflow.name);
  if (bindings) container.append(bindings);
  if (!runId) {
    clear(note, "Open a run of this workflow to see its path.");
    clear(canvas, draw(graph));
    return;
  }
  const [run, stored] = await Promise.all([get(`/runs/${encodeURIComponent(runId)}`), get(`/runs/${encodeURIComponent(runId)}/events?limit=1000`)]);
  const events = [...stored];
  const render = (status) => {
    const { path, current, failed } = progress(events);
    clear(note, "Run ", h("a", { href: `#/runs/${run.run_id}`, class: "mono" }, short(run.run_id)), " ", badge(status),
      current ? ` · at ${current}` : "", failed ? h("span", { class: "error", id: "failed-node" }, ` · failed at ${failed}`) : "",
      path.length ? ` · path: ${path.join(" → ")}` : "");
    clear(canvas, draw(graph, { path, current, failed }));
  };
  render(run.status);
  if (["completed", "failed", "cancelled"].includes(run.status)) return;
  let status = run.status;
  follow(`/runs/${encodeURIComponent(runId)}/events/stream`, {
    signal, lastId: events.length ? events[events.length - 1].seq : null,
    onEvent: (type, event) => {
      events.push(event);
      if (type.startsWith("run.")) status = type.slice(4);
      render(status);
      return ["run.completed", "run.failed", "run.cancelled"].includes(type);
    },
  });
}
