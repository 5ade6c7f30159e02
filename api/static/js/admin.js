// Administration: the audit log and API keys (create, shown once; revoke).

import { can, del, get, post, session } from "./api.js";
import { actionButton, clear, empty, failure, h, loading, table, time } from "./dom.js";

export async function auditView(container, { query }) {
  const action = h("input", { name: "action", placeholder: "action, e.g. run.start", value: query.get("action") || "", "aria-label": "Action" });
  const outcome = h("select", { name: "outcome", "aria-label": "Outcome" },
    ["", "ok", "denied", "rejected"].map((o) => h("option", { value: o, selected: query.get("outcome") === o }, o || "any outcome")));
  const form = h("form", { class: "inline filters" }, action, outcome, h("button", { type: "submit" }, "Apply"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const q = new URLSearchParams();
    if (action.value.trim()) q.set("action", action.value.trim());
    if (outcome.value) q.set("outcome", outcome.value);
    location.hash = `#/audit${q.toString() ? `?${q}` : ""}`;
  });
  const list = h("div", { id: "audit-list" }, loading());
  const more = h("div", { class: "more" });
  container.append(h("h1", {}, "Audit log"), form, list, more);
  const show = async (cursor, replace) => {
    const q = new URLSearchParams({ limit: "100" });
    for (const name of ["action", "outcome"]) if (query.get(name)) q.set(name, query.get(name));
    if (cursor) q.set("cursor", cursor);
    const page = await get(`/audit?${q}`);
    const rows = table([
      ["When", (a) => time(a.ts)], ["Action", (a) => a.action],
      ["Outcome", (a) => h("span", { class: `badge o-${a.outcome}` }, a.outcome)],
      ["Key", (a) => a.key_id ? `…${a.key_id.slice(-8)} (${a.role || "?"})` : a.role || "—"],
      ["Target", (a) => h("span", { class: "mono" }, a.target)], ["Client", (a) => a.client || "—"],
      ["Detail", (a) => Object.keys(a.detail).length ? JSON.stringify(a.detail) : "—"],
    ], page.items);
    if (replace) clear(list, page.items.length ? rows : empty("No audit rows match."));
    else list.append(rows);
    clear(more, page.next_cursor ? h("button", { type: "button", onclick: () => show(page.next_cursor, false).catch((e) => clear(more, failure(e))) }, "Older entries") : null);
  };
  await show(null, true);
}

function keyState(key) {
  if (key.revoked_at) return "revoked";
  if (key.expires_at && Date.parse(key.expires_at) <= Date.now()) return "expired";
  return "active";
}

function createForm(status, reload) {
  const name = h("input", { name: "name", placeholder: "name, e.g. ci", "aria-label": "Key name" });
  const role = h("select", { name: "role", "aria-label": "Role" }, ["viewer", "operator", "admin"].map((r) => h("option", { value: r }, r)));
  const expires = h("select", { name: "expires", "aria-label": "Expires" },
    [["", "never expires"], ["3600", "1 hour"], ["86400", "1 day"], ["2592000", "30 days"], ["31536000", "1 year"]]
      .map(([v, label]) => h("option", { value: v }, label)));
  const form = h("form", { class: "inline", id: "create-key" }, name, role, expires, h("button", { type: "submit" }, "Create key"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const body = { role: role.value, name: name.value.trim() };
      if (expires.value) body.expires_in = Number(expires.value);
      const created = await post("/auth/keys", body);
      name.value = "";
      clear(status, h("div", { class: "banner healthy", id: "new-secret" },
        h("strong", {}, `Key ${created.prefix}… (${created.role}) created. Copy it now; it is not shown again: `),
        h("code", { class: "secret" }, created.secret)));
      await reload();
    } catch (err) {
      clear(status, failure(err));
    }
  });
  return form;
}

export async function keysView(container) {
  const status = h("div", { class: "status-line" });
  const list = h("div", { id: "keys-list" }, loading());
  const reload = async () => {
    const keys = await get("/auth/keys");
    clear(list, keys.length ? table([
      ["Name", (k) => k.name || "—"], ["Prefix", (k) => h("span", { class: "mono" }, `${k.prefix}…`)], ["Role", (k) => k.role],
      ["State", (k) => h("span", { class: `badge k-${keyState(k)}` }, keyState(k))],
      ["Created", (k) => time(k.created_at)], ["Expires", (k) => time(k.expires_at)], ["Last used", (k) => time(k.last_used_at)],
      ["", (k) => !k.revoked_at && can("DELETE", "/auth/keys/{key_id}") ? actionButton("Revoke", async () => {
        await del(`/auth/keys/${encodeURIComponent(k.id)}`);
        if (k.id === session.me.key_id) window.dispatchEvent(new CustomEvent("signed-out"));
        else await reload();
        return `Key ${k.prefix}… revoked.`;
      }, { status, danger: true, confirmText: `Revoke the key ${k.name || k.prefix}? Clients using it are refused at once.` }) : null],
    ], keys, { rowAttrs: (k) => ({ "data-key": k.id, "data-name": k.name }) }) : empty("No API keys."));
  };
  container.append(h("h1", {}, "API keys"), ...(can("POST", "/auth/keys") ? [createForm(status, reload)] : []), status, list);
  await reload();
}
