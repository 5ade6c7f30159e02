// Sessions and their runs; tools and integrations (every catalog list the server offers this role).

import { can, get, session } from "./api.js";
import { badge, clear, empty, failure, h, loading, runDuration, short, table, time } from "./dom.js";

export async function sessionsView(container) {
  const list = h("div", { id: "sessions-list" }, loading());
  const more = h("div", { class: "more" });
  container.append(h("h1", {}, "Sessions"), list, more);
  const show = async (cursor, replace) => {
    const page = await get(`/sessions?limit=50${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
    const rows = table([
      ["Session", (s) => h("a", { href: `#/sessions/${s.session_id}`, class: "mono" }, short(s.session_id))],
      ["Runs", (s) => String(s.runs)], ["First run", (s) => time(s.created_at)], ["Latest run", (s) => time(s.updated_at)],
    ], page.items);
    if (replace) clear(list, page.items.length ? rows : empty("No sessions yet: every run belongs to one."));
    else list.append(rows);
    clear(more, page.next_cursor ? h("button", { type: "button", onclick: () => show(page.next_cursor, false).catch((e) => clear(more, failure(e))) }, "Older sessions") : null);
  };
  await show(null, true);
}

// The session as a conversation: each run's input as the user's turn, its output (or error) as the answer.
function conversation(runs) {
  return h("ol", { class: "conversation", id: "conversation" }, runs.flatMap((r) => [
    h("li", { class: "turn user", "data-run": r.run_id }, h("span", { class: "who-said" }, "user"), h("p", {}, r.input)),
    h("li", { class: `turn assistant${r.error ? " failed" : ""}`, "data-run": r.run_id },
      h("span", { class: "who-said" }, r.agent || r.workflow || "assistant", " · ",
        h("a", { href: `#/runs/${r.run_id}`, class: "mono" }, short(r.run_id)), " ", badge(r.status)),
      h("p", {}, r.output ?? r.error ?? (r.status === "completed" ? "" : `(${r.status})`))),
  ]));
}

export async function sessionView(container, { id }) {
  const talk = h("section", { class: "panel" }, h("h2", {}, "Conversation"), loading());
  const list = h("div", {}, loading());
  container.append(h("h1", {}, "Session ", h("span", { class: "mono" }, id)), talk, h("h2", {}, "Runs"), list);
  const page = await get(`/sessions/${encodeURIComponent(id)}/runs?limit=200`);
  const top = page.items.filter((r) => !r.parent_run_id);
  clear(talk, h("h2", {}, "Conversation"), top.length ? conversation(top) : empty("This session has no runs."));
  clear(list, page.items.length ? table([
    ["Run", (r) => h("a", { href: `#/runs/${r.run_id}`, class: "mono" }, short(r.run_id))],
    ["Status", (r) => badge(r.status)], ["Input", (r) => r.input.length > 80 ? `${r.input.slice(0, 80)}…` : r.input],
    ["Duration", (r) => runDuration(r)], ["Tokens", (r) => String(r.total_tokens)], ["Created", (r) => time(r.created_at)],
  ], page.items) : empty("This session has no runs."));
}

const scalar = (v) => (v === null || v === undefined ? "—" : typeof v === "object" ? JSON.stringify(v) : String(v));

// A list of objects of a shape this page does not know in advance: one column per key.
function anyTable(rows) {
  if (!Array.isArray(rows)) rows = rows?.items || [rows];
  if (!rows.length) return empty("Nothing here yet.");
  const keys = [...new Set(rows.flatMap((r) => Object.keys(r || {})))].slice(0, 8);
  return table(keys.map((k) => [k, (r) => scalar(r?.[k])]), rows);
}

function catalogRoutes() {
  return Object.keys(session.spec?.paths || {})
    .map((p) => p.replace(/^\/api\/v1/, ""))
    .filter((p) => /^\/(integrations|tools)\b/.test(p) && !p.includes("{") && p !== "/tools/registry" && can("GET", p))
    .sort();
}

export async function toolsView(container) {
  const tools = h("section", { class: "panel", id: "tools" }, h("h2", {}, "Tools"), loading());
  container.append(h("h1", {}, "Tools & integrations"), tools);
  const sections = catalogRoutes().map((path) => {
    const panel = h("section", { class: "panel", "data-route": path }, h("h2", {}, path.slice(1).replaceAll("/", " · ")), loading());
    container.append(panel);
    return get(path).then((rows) => clear(panel, panel.firstChild, anyTable(rows)), (err) => clear(panel, panel.firstChild, failure(err)));
  });
  const registry = await get("/tools/registry");
  clear(tools, h("h2", {}, `Tools (${registry.length})`), registry.length ? table([
    ["Tool", (t) => h("span", { class: "mono" }, t.name)],
    ["Description", (t) => t.description],
    ["Arguments", (t) => Object.keys(t.parameters?.properties || {}).join(", ") || "none"],
    ["Side effects", (t) => (t.side_effects ? "yes" : "no")],
    ["Kind", (t) => t.kind || "—"],
    ["Available", (t) => (t.available === false ? h("span", { class: "error" }, "no") : "yes")],
  ], registry) : empty("No tools are registered."));
  await Promise.all(sections);
}
