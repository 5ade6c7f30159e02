// Building the page: elements from data (text only, never HTML strings), tables, states, formats.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "class") el.className = value;
    else if (name === "dataset") Object.assign(el.dataset, value);
    else if (name.startsWith("on")) el.addEventListener(name.slice(2), value);
    else el.setAttribute(name, value === true ? "" : value);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function clear(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

export const loading = (what = "Loading…") => h("p", { class: "state loading", role: "status" }, what);
export const empty = (what) => h("p", { class: "state empty" }, what);
export const failure = (err) => h("p", { class: "state error", role: "alert" }, err.message || String(err));

// A table with a header; `columns` are [label, row => cell content] pairs. Wide tables scroll inside
// their own box so the page never scrolls sideways on a phone.
export function table(columns, rows, { rowAttrs = () => ({}), caption = null } = {}) {
  const head = h("tr", {}, columns.map(([label]) => h("th", { scope: "col" }, label)));
  const body = rows.map((row) => h("tr", rowAttrs(row), columns.map(([label, cell]) =>
    h("td", { "data-label": label }, cell(row)))));
  return h("div", { class: "scroll" }, h("table", {}, caption ? h("caption", {}, caption) : null,
    h("thead", {}, head), h("tbody", {}, body)));
}

export function badge(status) {
  return h("span", { class: `badge s-${status}` }, status);
}

export function time(ts) {
  if (!ts) return "—";
  const date = new Date(ts);
  return h("time", { datetime: ts, title: ts }, date.toLocaleString());
}

export function duration(ms) {
  if (ms === null || ms === undefined || Number.isNaN(ms)) return "—";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60000)} min ${Math.round((ms % 60000) / 1000)} s`;
}

export function runDuration(run) {
  if (!run.started_at) return "—";
  const end = run.ended_at ? Date.parse(run.ended_at) : Date.now();
  return duration(end - Date.parse(run.started_at));
}

export function json(value) {
  return h("pre", { class: "json" }, JSON.stringify(value, null, 2));
}

// A long id cut to its last characters (its first ones are a time, the same for runs made together),
// keeping a child run's ".step" suffix.
export function short(id) {
  if (!id) return "—";
  const [head, ...rest] = id.split(".");
  const tail = rest.length ? `.${rest.join(".")}` : "";
  return head.length > 12 ? `…${head.slice(-10)}${tail}` : id;
}

// A button that runs `action`, shows it is busy, and reports the outcome in `status`.
export function actionButton(label, action, { status, danger = false, confirmText = null } = {}) {
  const button = h("button", { type: "button", class: danger ? "danger" : "" }, label);
  button.addEventListener("click", async () => {
    if (confirmText && !window.confirm(confirmText)) return;
    button.disabled = true;
    try {
      const message = await action();
      if (status && message) clear(status, h("span", { class: "ok", role: "status" }, message));
    } catch (err) {
      if (status) clear(status, failure(err));
    } finally {
      button.disabled = false;
    }
  });
  return button;
}
