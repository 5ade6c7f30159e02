// Evaluations: the list (pick two to compare; operators start one from JSONL cases), one eval with
// its cases and their runs (refreshed while it runs), and two evals compared case by case.

import { can, get, post } from "./api.js";
import { badge, clear, empty, failure, h, loading, short, table, time } from "./dom.js";

const REFRESH_MS = 1000;
const GROUPS = [
  ["regressed", "Regressed (passed before, not now)"],
  ["improved", "Improved (passes now)"],
  ["still_failing", "Still failing"],
  ["added", "Only in the newer eval"],
  ["removed", "Only in the older eval"],
  ["still_passing", "Still passing"],
];

const rate = (e) => (e.pass_rate === null || e.pass_rate === undefined ? "—" : `${Math.round(e.pass_rate * 100)}%`);
const verdict = (e) => (e.status === "completed" ? badge(e.ok ? "passed" : "below") : badge(e.status));
const runLink = (runId) => (runId ? h("a", { href: `#/runs/${encodeURIComponent(runId)}`, class: "mono" }, short(runId)) : "—");

// JSONL text (one case a line) as case objects; a bad line throws an error naming it.
function parseCases(text) {
  const cases = [];
  text.split("\n").forEach((line, index) => {
    if (!line.trim()) return;
    try {
      cases.push(JSON.parse(line));
    } catch (err) {
      throw new Error(`Line ${index + 1} is not JSON: ${err.message}`);
    }
  });
  if (!cases.length) throw new Error("Give at least one case, one JSON object a line.");
  return cases;
}

function startForm(status, signal) {
  const cases = h("textarea", { name: "cases", rows: 4, required: true, "aria-label": "Cases (JSONL)", spellcheck: "false",
    placeholder: '{"input": "What is 6 * 7?", "expected_output": "42", "required_tools": ["calculator"]}' });
  const failUnder = h("input", { name: "fail_under", type: "number", min: 0, max: 1, step: "0.05", value: "1",
    "aria-label": "Fail under (0-1)" });
  const form = h("form", { class: "stack", id: "start-eval" }, cases,
    h("div", { class: "inline" }, h("label", {}, "Fail under ", failUnder), h("button", { type: "submit" }, "Start eval")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const started = await post("/evals", { cases: parseCases(cases.value), fail_under: Number(failUnder.value),
        dataset: "devui" });
      cases.value = "";
      clear(status, h("span", { class: "ok", role: "status" }, "Started "),
        h("a", { href: `#/evals/${started.eval_id}` }, short(started.eval_id)), ` (${started.cases} cases)`);
    } catch (err) {
      if (!signal.aborted) clear(status, failure(err));
    }
  });
  return form;
}

export async function evalsView(container, params, signal) {
  const status = h("div", { class: "status-line" });
  const list = h("div", { id: "evals-list" }, loading());
  const picked = [];
  let order = [];
  const compare = h("button", { type: "button", id: "compare-evals", disabled: true, onclick: () => {
    // The list is newest first: the newer of the two picked is the head of the comparison.
    const [head, base] = [...picked].sort((a, b) => order.indexOf(a) - order.indexOf(b));
    location.hash = `#/evals/compare?base=${encodeURIComponent(base)}&head=${encodeURIComponent(head)}`;
  } }, "Compare the two picked");
  container.append(...[h("div", { class: "heading" }, h("h1", {}, "Evaluations")),
    can("POST", "/evals") ? startForm(status, signal) : null, status, h("div", { class: "inline" }, compare), list]
    .filter(Boolean));

  function pick(evalId, on) {
    const at = picked.indexOf(evalId);
    if (on && at < 0) picked.push(evalId);
    if (!on && at >= 0) picked.splice(at, 1);
    compare.disabled = picked.length !== 2;
  }

  async function refresh() {
    let evals;
    try {
      evals = await get("/evals?limit=100");
    } catch (err) {
      if (!signal.aborted) clear(list, failure(err));
      return;
    }
    if (signal.aborted) return;
    order = evals.map((e) => e.eval_id);
    clear(list, evals.length ? table([
      ["Pick", (e) => h("input", { type: "checkbox", "aria-label": `Pick ${e.eval_id} to compare`,
        checked: picked.includes(e.eval_id), onchange: (event) => pick(e.eval_id, event.target.checked) })],
      ["Eval", (e) => h("a", { href: `#/evals/${e.eval_id}`, class: "mono" }, short(e.eval_id))],
      ["Result", verdict],
      ["Passed", (e) => `${e.passed}/${e.cases} (${rate(e)})`],
      ["Dataset", (e) => e.dataset],
      ["Agent", (e) => e.agent],
      ["Started", (e) => time(e.started_at)],
    ], evals, { rowAttrs: (e) => ({ "data-eval": e.eval_id, "data-status": e.status }) })
      : empty("No evaluations yet: run agentstage eval DATASET.jsonl, or start one here."));
    if (evals.some((e) => e.status === "running")) later(refresh);
  }

  let timer = null;
  const later = (fn) => { timer = setTimeout(fn, REFRESH_MS); };
  signal.addEventListener("abort", () => clearTimeout(timer));
  await refresh();
}

function checksCell(result) {
  if (result.error) return h("span", { class: "error" }, result.error);
  const failed = result.checks.filter((c) => !c.passed);
  if (!failed.length) return `${result.checks.length} checks passed`;
  return h("ul", { class: "checks" }, failed.map((c) => h("li", {}, `${c.name}: ${c.detail}`)));
}

export async function evalView(container, params, signal) {
  if (params.id === "compare") return compareView(container, params, signal);
  const body = h("div", { id: "eval-detail" }, loading());
  container.append(h("div", { class: "heading" }, h("h1", {}, "Evaluation ", h("span", { class: "mono" }, short(params.id)))), body);
  let timer = null;
  signal.addEventListener("abort", () => clearTimeout(timer));

  async function refresh() {
    let found;
    try {
      found = await get(`/evals/${encodeURIComponent(params.id)}`);
    } catch (err) {
      if (!signal.aborted) clear(body, failure(err.status === 404 ? new Error(`No evaluation has the id ${params.id}.`) : err));
      return;
    }
    if (signal.aborted) return;
    const facts = [
      ["Result", verdict(found)], ["Passed", `${found.passed}/${found.cases} (${rate(found)}; needs ${Math.round(found.fail_under * 100)}%)`],
      ["Dataset", found.dataset], ["Agent", found.agent], ["Started", time(found.started_at)], ["Ended", time(found.ended_at)],
    ];
    const accuracy = found.summary.tool_accuracy;
    if (accuracy !== null && accuracy !== undefined) facts.push(["Tool constraints", `held in ${Math.round(accuracy * 100)}% of the cases that set them`]);
    const tags = Object.entries(found.summary.tags || {});
    clear(body, h("dl", { class: "facts", id: "eval-facts", "data-status": found.status },
      facts.map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)])),
    found.error ? h("pre", { class: "text error" }, found.error) : null,
    tags.length ? h("div", { id: "eval-tags" }, table([
      ["Tag", ([tag]) => tag],
      ["Cases", ([, t]) => String(t.cases)],
      ["Passed", ([, t]) => `${t.passed} (${Math.round(t.pass_rate * 100)}%)`],
    ], tags, { rowAttrs: ([tag]) => ({ "data-tag": tag }) })) : null,
    found.results.length ? table([
      ["Case", (r) => r.case_id],
      ["Result", (r) => badge(r.status)],
      ["Run", (r) => [runLink(r.run_id), r.attempts > 1 ? ` (${r.attempts} attempts)` : ""]],
      ["Tools", (r) => r.tools.join(", ") || "—"],
      ["Checks", checksCell],
      ["Seconds", (r) => String(r.seconds)],
    ], found.results, { rowAttrs: (r) => ({ "data-case": r.case_id, "data-status": r.status }) }) : empty("No case has ended yet."));
    if (found.status === "running") timer = setTimeout(refresh, REFRESH_MS);
  }

  await refresh();
}

async function compareView(container, { query }, signal) {
  const base = query.get("base");
  const head = query.get("head");
  const body = h("div", { id: "eval-compare" }, loading());
  container.append(h("div", { class: "heading" }, h("h1", {}, "Compare evaluations")), body);
  let diff;
  try {
    diff = await get(`/evals/compare?${new URLSearchParams({ base: base || "", head: head || "" })}`);
  } catch (err) {
    if (!signal.aborted) clear(body, failure(err));
    return;
  }
  if (signal.aborted) return;
  const side = (e, label) => h("p", {}, `${label}: `, h("a", { href: `#/evals/${e.eval_id}`, class: "mono" }, short(e.eval_id)),
    ` ${e.passed}/${e.cases} passed (${rate(e)}), started `, time(e.started_at));
  const delta = Math.round(diff.pass_rate_delta * 100);
  clear(body, side(diff.base, "Older"), side(diff.head, "Newer"),
    h("p", { id: "pass-rate-delta" }, `Pass rate ${delta >= 0 ? "+" : ""}${delta} points`),
    GROUPS.filter(([key]) => diff[key].length).map(([key, label]) => h("section", { "data-group": key },
      h("h2", {}, `${label}: ${diff[key].length}`),
      table([
        ["Case", (c) => c.case_id],
        ["Before", (c) => (c.base ? [badge(c.base.status), " ", runLink(c.base.run_id)] : "—")],
        ["Now", (c) => (c.head ? [badge(c.head.status), " ", runLink(c.head.run_id)] : "—")],
        ["Why", (c) => c.head?.reason || (c.base?.reason ? `before: ${c.base.reason}` : "")],
      ], diff[key], { rowAttrs: (c) => ({ "data-case": c.case_id }) }))));
}
