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
  const rows = {};
  for (const name of all) (rows[depth[name]] ||= []).push(name);
  const width = Math.max(...Object.values(rows).map((r) => r.length)) * (BOX_W + GAP_X) + GAP_X;
  const pos = {};
  for (const [d, row] of Object.entries(rows)) {
    const offset = (width - row.length * (BOX_W + GAP_X) + GAP_X) / 2;
    row.forEach((name, i) => { pos[name] = { x: offset + i * (BOX_W + GAP_X), y: GAP_Y / 2 + d * (BOX_H + GAP_Y) }; });
  }
  return { pos, width, height: (Object.keys(rows).length) * (BOX_H + GAP_Y) };
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
    svg.append(s("path", { d, class: `edge${on ? " taken" : ""}${e.label === "default" ? " dashed" : ""}`, "marker-end": "url(#arrow)" }));
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
