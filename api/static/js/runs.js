// Runs: the live list (filters, search by id or text, child runs under the run that started them, older pages) and,
// for operators, a form to start one.

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

// The filters the list understands, as they appear in the page's address (#/runs?…) and in the API query.
const FILTERS = ["status", "agent", "workflow", "id_prefix", "q", "since", "until"];

// A datetime-local value (the browser's time zone) as ISO-8601 UTC, and back.
const toIso = (local) => (local ? new Date(local).toISOString() : "");
function toLocal(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? "" : new Date(d.getTime() - d.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
}

function filtersForm(query, onChange) {
  const status = h("select", { name: "status", "aria-label": "Status" },
    STATUSES.map((s) => h("option", { value: s, selected: query.get("status") === s }, s || "any status")));
  const field = (name, placeholder, label) => h("input", { name, placeholder, value: query.get(name) || "", "aria-label": label });
  const agent = field("agent", "agent", "Agent");
  const workflow = field("workflow", "workflow", "Workflow");
  const id = field("id", "run id or its start", "Search by run id");
  id.value = query.get("id_prefix") || "";
  const text = field("q", "text in input or output", "Search in input and output");
  const since = h("input", { type: "datetime-local", name: "since", value: toLocal(query.get("since")), "aria-label": "Created from" });
  const until = h("input", { type: "datetime-local", name: "until", value: toLocal(query.get("until")), "aria-label": "Created before" });
  const form = h("form", { class: "inline filters", role: "search" }, status, agent, workflow, id, text,
    h("label", { class: "range" }, "created after", since), h("label", { class: "range" }, "before", until),
    h("button", { type: "submit" }, "Apply"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    onChange({ status: status.value, agent: agent.value.trim(), workflow: workflow.value.trim(), id_prefix: id.value.trim(),
      q: text.value.trim(), since: toIso(since.value), until: toIso(until.value) });
  });
  status.addEventListener("change", () => form.requestSubmit());
  return form;
}

const firstLine = (text, max = 80) => {
  const line = (text || "").split("\n", 1)[0];
  return line.length > max ? `${line.slice(0, max)}…` : line;
};

export async function runsView(container, { query }, signal) {
  const status = h("div", { class: "status-line" });
  const live = h("span", { class: "live", id: "runs-live" }, "connecting…");
  const list = h("div", { id: "runs-list" }, loading());
  const more = h("div", { class: "more" });
  const filters = filtersForm(query, async (chosen) => {
    if (chosen.id_prefix && !/^[A-Za-z0-9._:-]{1,128}$/.test(chosen.id_prefix)) {
      clear(status, failure(new Error(`No run has the id ${chosen.id_prefix}: ids are letters, digits, '.', '_', ':' or '-'.`)));
      return;
    }
    if (chosen.id_prefix) {
      // A whole id opens its run; a start of one lists the runs it matches.
      const found = await get(`/runs/${encodeURIComponent(chosen.id_prefix)}`).catch(() => null);
      if (found) {
        location.hash = `#/runs/${encodeURIComponent(found.run_id)}`;
        return;
      }
    }
    const next = new URLSearchParams();
    for (const name of FILTERS) if (chosen[name]) next.set(name, chosen[name]);
    location.hash = `#/runs${next.toString() ? `?${next}` : ""}`;
  });
  container.append(h("div", { class: "heading" }, h("h1", {}, "Runs"), live),
    ...(can("POST", "/runs") ? [startForm(status, signal)] : []), filters, status, list, more);

  const params = new URLSearchParams();
  for (const name of FILTERS) if (query.get(name)) params.set(name, query.get(name));
  // Child runs (graph nodes, delegations, handoffs) are nested under the run that started them, one level,
  // unless the search is for runs themselves.
  const nested = !["id_prefix", "q", "agent"].some((name) => params.has(name));
  if (nested) params.set("top_level", "true");
  const filtered = FILTERS.some((name) => params.has(name));

  async function page(cursor) {
    const q = new URLSearchParams(params);
    q.set("limit", "50");
    if (cursor) q.set("cursor", cursor);
    const found = await get(`/runs?${q}`);
    const children = new Map();
    if (nested && found.items.length) {
      const c = new URLSearchParams({ sort: "asc", limit: "500" });
      for (const r of found.items) c.append("parent_run_id", r.run_id);
      for (const child of (await get(`/runs?${c}`)).items) {
        if (!children.has(child.parent_run_id)) children.set(child.parent_run_id, []);
        children.get(child.parent_run_id).push(child);
      }
    }
    return { ...found, children };
  }

  function tokens(r, kids) {
    if (!kids?.length) return String(r.total_tokens);
    const fromKids = kids.reduce((sum, k) => sum + k.total_tokens, 0);
    return h("span", { title: "the run's tokens include those of its child runs" }, String(r.total_tokens),
      h("span", { class: "muted sub" }, ` (${fromKids} in ${kids.length} child run${kids.length === 1 ? "" : "s"})`));
  }

  function rows({ items, children }) {
    const ordered = items.flatMap((r) => [r, ...(children.get(r.run_id) || [])]);
    return table([
      ["Run", (r) => h("a", { href: `#/runs/${r.run_id}`, class: "mono" }, r.parent_run_id && nested ? "↳ " : "", short(r.run_id))],
      ["Status", (r) => badge(r.status)],
      ["Workflow / agent", (r) => r.workflow ? `workflow ${r.workflow}` : `agent ${r.agent || "—"}`],
      ["Input", (r) => h("span", { class: "input", title: r.input }, firstLine(r.input))],
      ["Error", (r) => r.error ? h("span", { class: "error", title: r.error }, firstLine(r.error, 60)) : ""],
      ["Duration", (r) => runDuration(r)],
      ["Tokens", (r) => tokens(r, children.get(r.run_id))],
      ["Created", (r) => time(r.created_at)],
    ], ordered, { rowAttrs: (r) => ({ "data-run": r.run_id, "data-status": r.status,
      "data-parent": nested ? r.parent_run_id : null, class: r.parent_run_id && nested ? "child-run" : null }) });
  }

  async function refresh() {
    try {
      const first = await page(null);
      if (signal.aborted) return;
      shown = first.items.length;
      clear(list, shown ? rows(first) : empty(filtered
        ? "No runs match these filters."
        : "No runs yet. They appear here as soon as they start."));
      showMore(first.next_cursor);
    } catch (err) {
      if (!signal.aborted) clear(list, failure(err));
    }
  }

  let shown = 0;
  function showMore(cursor) {
    clear(more, cursor ? h("button", { type: "button", onclick: async () => {
      const next = await page(cursor).catch((err) => ({ error: err }));
      if (next.error) return clear(more, failure(next.error));
      list.append(rows(next));
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
