// Runs: the live list (filters, search by id, older pages) and, for operators, a form to start one.

import { can, get, post, watchAll } from "./api.js";
import { badge, clear, empty, failure, h, loading, runDuration, short, table, time } from "./dom.js";

const STATUSES = ["", "queued", "running", "waiting", "completed", "failed", "cancelled"];
const REFRESH_ON = /^(run\.|llm\.response|node\.entered)/;

function startForm(status, signal) {
  const input = h("input", { name: "input", required: true, placeholder: "What should it do?", "aria-label": "Input" });
  const target = h("select", { name: "target", "aria-label": "Agent or workflow" },
    h("option", { value: "agent:default" }, "agent: default"));
  get("/workflows").then((workflows) => {
    for (const w of workflows.filter((w) => w.valid)) target.append(h("option", { value: `workflow:${w.name}` }, `workflow: ${w.name}`));
  }).catch(() => {});
  const form = h("form", { class: "inline", id: "start-run" }, input, target, h("button", { type: "submit" }, "Start run"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const [kind, name] = target.value.split(":");
    try {
      const started = await post("/runs", { input: input.value, [kind]: name });
      input.value = "";
      clear(status, h("span", { class: "ok", role: "status" }, "Started "),
        h("a", { href: `#/runs/${started.run_id}` }, short(started.run_id)), ` (${started.status})`);
    } catch (err) {
      if (!signal.aborted) clear(status, failure(err));
    }
  });
  return form;
}

function filtersForm(query, onChange) {
  const status = h("select", { name: "status", "aria-label": "Status" },
    STATUSES.map((s) => h("option", { value: s, selected: query.get("status") === s }, s || "any status")));
  const workflow = h("input", { name: "workflow", placeholder: "workflow", value: query.get("workflow") || "",
    "aria-label": "Workflow" });
  const search = h("input", { name: "id", placeholder: "run id", "aria-label": "Search by run id" });
  const form = h("form", { class: "inline filters", role: "search" }, status, workflow, search,
    h("button", { type: "submit" }, "Apply"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    onChange({ status: status.value, workflow: workflow.value.trim(), id: search.value.trim() });
  });
  status.addEventListener("change", () => form.requestSubmit());
  return form;
}

export async function runsView(container, { query }, signal) {
  const status = h("div", { class: "status-line" });
  const live = h("span", { class: "live", id: "runs-live" }, "connecting…");
  const list = h("div", { id: "runs-list" }, loading());
  const more = h("div", { class: "more" });
  const filters = filtersForm(query, async ({ status: s, workflow, id }) => {
    if (id) {
      try {
        await get(`/runs/${encodeURIComponent(id)}`);
        location.hash = `#/runs/${encodeURIComponent(id)}`;
      } catch (err) {
        clear(status, failure(err.status === 404 ? new Error(`No run has the id ${id}.`) : err));
      }
      return;
    }
    const next = new URLSearchParams();
    if (s) next.set("status", s);
    if (workflow) next.set("workflow", workflow);
    location.hash = `#/runs${next.toString() ? `?${next}` : ""}`;
  });
  container.append(h("div", { class: "heading" }, h("h1", {}, "Runs"), live),
    ...(can("POST", "/runs") ? [startForm(status, signal)] : []), filters, status, list, more);

  const params = new URLSearchParams();
  for (const name of ["status", "workflow"]) if (query.get(name)) params.set(name, query.get(name));
  let shown = 0;

  async function page(cursor) {
    const q = new URLSearchParams(params);
    q.set("limit", "50");
    if (cursor) q.set("cursor", cursor);
    return get(`/runs?${q}`);
  }

  function rows(items) {
    return table([
      ["Run", (r) => h("a", { href: `#/runs/${r.run_id}`, class: "mono" }, short(r.run_id))],
      ["Status", (r) => badge(r.status)],
      ["Workflow / agent", (r) => r.workflow ? `workflow ${r.workflow}` : `agent ${r.agent || "—"}`],
      ["Duration", (r) => runDuration(r)],
      ["Tokens", (r) => String(r.total_tokens)],
      ["Created", (r) => time(r.created_at)],
    ], items, { rowAttrs: (r) => ({ "data-run": r.run_id, "data-status": r.status }) });
  }

  async function refresh() {
    try {
      const first = await page(null);
      if (signal.aborted) return;
      shown = first.items.length;
      clear(list, shown ? rows(first.items) : empty("No runs yet. They appear here as soon as they start."));
      showMore(first.next_cursor);
    } catch (err) {
      if (!signal.aborted) clear(list, failure(err));
    }
  }

  function showMore(cursor) {
    clear(more, cursor ? h("button", { type: "button", onclick: async () => {
      const next = await page(cursor).catch((err) => ({ error: err }));
      if (next.error) return clear(more, failure(next.error));
      list.append(rows(next.items));
      showMore(next.next_cursor);
    } }, "Older runs") : null);
  }

  await refresh();
  let pending = null;
  watchAll(signal, (type) => {
    if (REFRESH_ON.test(type) && !pending) pending = setTimeout(() => { pending = null; refresh(); }, 250);
  }, (state) => {
    live.textContent = state;
    live.dataset.state = state;
  });
  signal.addEventListener("abort", () => clearTimeout(pending));
}
