// Schedules: the list (operators add one, enable or disable it, trigger it now, remove it) and one
// schedule's history of firings with links to their runs.

import { call, can, del, get, post } from "./api.js";
import { actionButton, badge, clear, duration, empty, failure, h, loading, short, table, time } from "./dom.js";

const when = (job) => (job.cronExpr ? `${job.cronExpr} (${job.timezone})` : `every ${job.intervalSeconds} s`);
const target = (job) => (job.config.workflow ? `workflow ${job.config.workflow}` : `agent ${job.config.agent}`);
const jobPath = (name) => `/cron/jobs/${encodeURIComponent(name)}`;
const runLink = (runId) => (runId ? h("a", { href: `#/runs/${encodeURIComponent(runId)}`, class: "mono" }, short(runId)) : "—");

function field(label, input) {
  return h("label", {}, label, " ", input);
}

function addForm(status, done) {
  const name = h("input", { name: "name", required: true, "aria-label": "Name", placeholder: "nightly-report",
    pattern: "[A-Za-z0-9][A-Za-z0-9._\\-]{0,99}" });
  const kind = h("select", { name: "kind", "aria-label": "Timing" },
    h("option", { value: "cron" }, "cron"), h("option", { value: "interval" }, "every N seconds"));
  const cron = h("input", { name: "cronExpr", "aria-label": "Cron expression", placeholder: "0 9 * * MON-FRI",
    spellcheck: "false" });
  const zone = h("input", { name: "timezone", "aria-label": "Time zone", value: "UTC", placeholder: "Europe/Paris" });
  const seconds = h("input", { name: "intervalSeconds", type: "number", min: 1, step: "any", "aria-label": "Interval seconds",
    placeholder: "900", hidden: true });
  const agent = h("input", { name: "agent", "aria-label": "Agent", value: "default" });
  const workflow = h("input", { name: "workflow", "aria-label": "Workflow (instead of the agent)", placeholder: "optional" });
  const input = h("input", { name: "input", "aria-label": "Input", placeholder: "What should the run do?" });
  kind.addEventListener("change", () => {
    const interval = kind.value === "interval";
    seconds.hidden = !interval;
    cron.hidden = interval;
    zone.hidden = interval;
  });
  const form = h("form", { class: "stack", id: "add-schedule" },
    h("div", { class: "inline" }, field("Name", name), field("Timing", kind), cron, zone, seconds),
    h("div", { class: "inline" }, field("Agent", agent), field("Workflow", workflow), field("Input", input),
      h("button", { type: "submit" }, "Add schedule")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = { name: name.value.trim(), config: { input: input.value, agent: agent.value.trim() || "default",
      workflow: workflow.value.trim() || null } };
    if (kind.value === "interval") body.intervalSeconds = Number(seconds.value);
    else Object.assign(body, { cronExpr: cron.value.trim(), timezone: zone.value.trim() || "UTC" });
    try {
      const job = await post("/cron/jobs", body);
      name.value = "";
      clear(status, h("span", { class: "ok", role: "status" }, `Added ${job.name}; next run ${job.nextRun || "—"}`));
      await done();
    } catch (err) {
      clear(status, failure(err));
    }
  });
  return form;
}

function actions(job, status, refresh) {
  const cell = h("div", { class: "inline" });
  if (can("POST", "/cron/jobs/{name}/trigger")) {
    cell.append(actionButton("Trigger now", async () => {
      const fired = await post(`${jobPath(job.name)}/trigger`);
      await refresh();
      if (fired.status === "failed") throw new Error(`${job.name} could not start: ${fired.error}`);
      return `Triggered ${job.name}: run ${short(fired.runId)}`;
    }, { status }));
  }
  if (can("PATCH", "/cron/jobs/{name}")) {
    cell.append(actionButton(job.enabled ? "Disable" : "Enable", async () => {
      await call("PATCH", jobPath(job.name), { enabled: !job.enabled });
      await refresh();
      return `${job.name} ${job.enabled ? "disabled" : "enabled"}`;
    }, { status }));
  }
  if (can("DELETE", "/cron/jobs/{name}")) {
    cell.append(actionButton("Remove", async () => {
      await del(jobPath(job.name));
      await refresh();
      return `Removed ${job.name}`;
    }, { status, danger: true, confirmText: `Remove the schedule ${job.name} and its history?` }));
  }
  return cell;
}

export async function schedulesView(container, params, signal) {
  const status = h("div", { class: "status-line" });
  const list = h("div", { id: "schedules-list" }, loading());
  const mutates = can("POST", "/cron/jobs");
  container.append(...[h("div", { class: "heading" }, h("h1", {}, "Schedules")),
    mutates ? addForm(status, () => refresh()) : null, status, list].filter(Boolean));

  async function refresh() {
    let jobs;
    try {
      jobs = await get("/cron/jobs");
    } catch (err) {
      if (!signal.aborted) clear(list, failure(err));
      return;
    }
    if (signal.aborted) return;
    const columns = [
      ["Name", (j) => h("a", { href: `#/schedules/${encodeURIComponent(j.name)}` }, j.name)],
      ["When", when],
      ["Enabled", (j) => badge(j.enabled ? "enabled" : "disabled")],
      ["Runs", target],
      ["Next", (j) => time(j.nextRun)],
      ["Last", (j) => (j.lastStatus ? h("span", {}, badge(j.lastStatus), " ", time(j.lastRun)) : "—")],
      ["Fired", (j) => String(j.runCount)],
    ];
    if (mutates) columns.push(["", (j) => actions(j, status, refresh)]);
    clear(list, jobs.length ? table(columns, jobs, { rowAttrs: (j) => ({ "data-schedule": j.name,
      "data-enabled": String(j.enabled) }) })
      : empty("No schedules yet: agentstage schedules add NAME --cron '0 9 * * *' --input '…', or add one here."));
  }

  await refresh();
}

export async function scheduleView(container, params, signal) {
  const body = h("div", { id: "schedule-detail" }, loading());
  container.append(h("div", { class: "heading" }, h("h1", {}, "Schedule ", h("span", { class: "mono" }, params.id))), body);
  let job;
  let history;
  try {
    [job, history] = await Promise.all([get(jobPath(params.id)), get(`${jobPath(params.id)}/history?limit=100`)]);
  } catch (err) {
    if (!signal.aborted) clear(body, failure(err));
    return;
  }
  if (signal.aborted) return;
  clear(body,
    h("dl", { class: "facts" },
      h("dt", {}, "When"), h("dd", {}, when(job)),
      h("dt", {}, "Runs"), h("dd", {}, target(job)),
      h("dt", {}, "Input"), h("dd", {}, job.config.input || "—"),
      h("dt", {}, "Enabled"), h("dd", {}, badge(job.enabled ? "enabled" : "disabled")),
      h("dt", {}, "Next run"), h("dd", {}, time(job.nextRun)),
      h("dt", {}, "Missed-tick grace"), h("dd", {}, `${job.graceSeconds} s`)),
    h("h2", {}, "History"),
    history.runs.length ? table([
      ["Fired", (r) => time(r.at)],
      ["Trigger", (r) => r.trigger],
      ["Status", (r) => badge(r.status)],
      ["Run", (r) => runLink(r.runId)],
      ["Took", (r) => duration(r.durationMs)],
      ["Note", (r) => r.error || (r.missed ? `${r.missed} earlier missed ticks not run` : "")],
    ], history.runs, { rowAttrs: (r) => ({ "data-fire": r.tick, "data-trigger": r.trigger }) })
      : empty("Not fired yet."));
}
