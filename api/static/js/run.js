// Run detail: the run, its buttons by role, the tree of runs it belongs to, a waterfall of its steps, the live
// event timeline, checkpoints, attempts, and the DLQ entry of a dead-lettered run.

import { can, follow, get, has, post } from "./api.js";
import { actionButton, badge, clear, duration, empty, failure, h, json, loading, runDuration, short, table, time } from "./dom.js";
import { checkpointsPanel } from "./checkpoints.js";
import { runTree } from "./tree.js";
import { waterfall } from "./waterfall.js";

const TERMINAL = new Set(["run.completed", "run.failed", "run.cancelled"]);
const ENDED = new Set(["completed", "failed", "cancelled"]);

function summary(run, truncated) {
  const fields = [
    ["Status", [badge(run.status), truncated ? [" ", h("span", { class: "badge s-truncated", id: "run-truncated",
      title: "the output token limit cut the final answer" }, "truncated")] : null]],
    ["Kind", run.workflow ? h("span", {}, "workflow ", h("a", { href: `#/graphs/${encodeURIComponent(run.workflow)}?run=${run.run_id}` }, run.workflow)) : `agent ${run.agent || "—"}`],
    ["Model", [run.provider, run.model].filter(Boolean).join(" / ") || "—"],
    ["Tokens", `${run.total_tokens} (in ${run.input_tokens}, out ${run.output_tokens})`],
    ["Duration", runDuration(run)],
    ["Attempt", String(run.attempt)],
    ["Worker", run.worker_id || "—"],
    ["Session", h("a", { href: `#/sessions/${run.session_id}`, class: "mono" }, short(run.session_id))],
    ["Parent run", run.parent_run_id ? h("a", { href: `#/runs/${run.parent_run_id}`, class: "mono" }, short(run.parent_run_id)) : "—"],
    ["Created", time(run.created_at)],
  ];
  return h("div", {},
    h("dl", { class: "facts" }, fields.map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)])),
    h("h3", {}, "Input"), h("pre", { class: "text" }, run.input),
    run.output !== null ? [h("h3", {}, "Output"), h("pre", { class: "text", id: "run-output" }, run.output)] : null,
    run.error ? [h("h3", {}, "Error"), h("pre", { class: "text error" }, run.error)] : null);
}

function actions(run, status, reload, prompt) {
  const id = encodeURIComponent(run.run_id);
  const buttons = [];
  if (!ENDED.has(run.status) && can("POST", "/runtime/runs/{run_id}/cancel")) {
    buttons.push(actionButton("Cancel", async () => {
      const answer = await post(`/runtime/runs/${id}/cancel`, { reason: "cancelled from the DevUI" });
      reload();
      return answer.status === "cancelled" ? "Cancelled." : "Cancelling: the run stops at its next step.";
    }, { status, danger: true, confirmText: "Cancel this run?" }));
  }
  if ((run.status === "failed" || run.status === "cancelled") && can("POST", "/runtime/runs/{run_id}/requeue")) {
    buttons.push(actionButton("Requeue", async () => {
      await post(`/runtime/runs/${id}/requeue`);
      return "Requeued as a new attempt.";
    }, { status }));
  }
  if (run.kind === "graph" && (run.status === "waiting" || run.status === "failed") && can("POST", "/runs/{run_id}/resume")) {
    const answer = run.status === "waiting" ? h("input", { placeholder: prompt || "Your answer", "aria-label": "Answer" }) : null;
    if (prompt && answer) buttons.push(h("span", { class: "prompt" }, `Waiting for input: ${prompt}`));
    buttons.push(answer, actionButton(run.status === "waiting" ? "Answer and resume" : "Resume", async () => {
      const body = answer ? { input: answer.value } : undefined;
      await post(`/runs/${id}/resume`, body);
      reload();
      return "Resumed.";
    }, { status }));
  }
  return buttons.length ? h("div", { class: "actions", id: "run-actions" }, buttons) : null;
}

function detailOf(event) {
  const d = event.data || {};
  switch (event.type) {
    case "llm.request": return `iteration ${d.iteration}, ${d.messages} messages, tools: ${(d.tools || []).join(", ") || "none"}`;
    case "llm.response": return d.tool_calls?.length ? `calls ${d.tool_calls.map((c) => c.name).join(", ")}` : (d.content || d.finish_reason || "");
    case "tool.call": return JSON.stringify(d.arguments ?? {});
    case "tool.result": return d.status === "completed" || !d.status ? JSON.stringify(d.result ?? "") : `${d.status}: ${event.error || ""}`;
    case "node.entered": return `step ${d.step} (${d.kind})`;
    case "node.exited": return d.next_node ? `then ${d.next_node}` : "last node";
    case "branch.completed": return `${d.branch} done, ${d.remaining} left`;
    case "checkpoint.saved": return `step ${d.step}, ${d.state_bytes} bytes`;
    case "run.completed": return d.output ?? "";
    case "guardrail.blocked": case "guardrail.warned": case "guardrail.redacted":
      return `${d.guardrail} (${d.direction}${d.message !== undefined ? `, ${d.role} message ${d.message}` : ""}): ${d.reason}`;
    default: return event.error || "";
  }
}

function eventItem(event) {
  const where = [event.node && `node ${event.node}`, event.tool && `tool ${event.tool}`].filter(Boolean).join(" · ");
  const kind = event.type.split(".")[0];
  const flagged = event.error || event.type === "guardrail.blocked";
  return h("li", { class: `event k-${kind}${flagged ? " has-error" : ""}`, "data-type": event.type, "data-seq": event.seq },
    h("details", {},
      h("summary", {},
        h("span", { class: "seq" }, `#${event.seq}`), " ",
        h("span", { class: "type" }, event.type), " ",
        where ? h("span", { class: "where" }, where) : null, " ",
        event.duration_ms !== null && event.duration_ms !== undefined ? h("span", { class: "muted" }, duration(event.duration_ms)) : null,
        h("span", { class: "detail" }, detailOf(event)),
        event.data?.child_run_id ? h("a", { href: `#/runs/${event.data.child_run_id}`, class: "child" }, "child run") : null),
      h("div", { class: "event-body" }, time(event.ts), event.error ? h("pre", { class: "text error" }, event.error) : null,
        json(event.data))));
}

async function attemptsPanel(panel, runId) {
  if (!can("GET", "/runtime/runs/{run_id}/attempts")) return;
  clear(panel, h("h2", {}, "Attempts"), loading());
  try {
    const attempts = await get(`/runtime/runs/${encodeURIComponent(runId)}/attempts`);
    clear(panel, h("h2", {}, "Attempts"), attempts.length ? table([
      ["Attempt", (a) => String(a.attempt)], ["Status", (a) => badge(a.status)], ["Worker", (a) => a.worker_id],
      ["Started", (a) => time(a.started_at)], ["Ended", (a) => time(a.ended_at)], ["Error", (a) => a.error || "—"],
    ], attempts) : empty("No attempts on distributed workers: this run ran in the embedded runtime."));
  } catch (err) {
    clear(panel, h("h2", {}, "Attempts"), failure(err));
  }
}

// A failed run's dead-letter entry, when the server has a DLQ and our role may read it.
async function dlqNotice(panel, run) {
  if (run.status !== "failed" || !has("dlq") || !can("GET", "/runtime/dlq")) return;
  const [entry] = await get(`/runtime/dlq?limit=1&run_id=${encodeURIComponent(run.run_id)}`).catch(() => []);
  if (!entry) return clear(panel);
  clear(panel, h("p", { class: "banner degraded", id: "run-dlq" }, "Dead-lettered after ", String(entry.attempts),
    ` attempt${entry.attempts === 1 ? "" : "s"} (${entry.reason}): `,
    h("a", { href: `#/dlq?entry=${encodeURIComponent(entry.id)}` }, `DLQ entry ${entry.id}`)));
}

function pick(timeline, seq) {
  const item = timeline.querySelector(`li[data-seq="${seq}"]`);
  if (!item) return;
  item.querySelector("details").open = true;
  item.scrollIntoView({ block: "center" });
  item.classList.add("picked");
  setTimeout(() => item.classList.remove("picked"), 1500);
}

export async function runView(container, { id }, signal) {
  const head = h("div", { id: "run-summary" }, loading());
  const status = h("div", { class: "status-line" });
  const live = h("span", { class: "live", id: "timeline-live" }, "connecting…");
  const timeline = h("ol", { class: "timeline", id: "timeline" });
  const checkpoints = h("section", { class: "panel", id: "checkpoints" });
  const attempts = h("section", { class: "panel", id: "attempts" });
  const dlq = h("div", { id: "run-dlq-notice" });
  const stepsPanel = h("section", { class: "panel", id: "steps" });
  const tree = h("section", { class: "panel", id: "run-tree" });
  container.append(
    h("div", { class: "heading" }, h("h1", {}, "Run ", h("span", { class: "mono" }, id))),
    status, dlq, head, tree, stepsPanel,
    h("section", { class: "panel" }, h("div", { class: "heading" }, h("h2", {}, "Timeline"), live), timeline),
    checkpoints, attempts);
  const events = [];
  let ended = false;
  let redraw = null;
  const drawSteps = () => {
    clearTimeout(redraw);
    redraw = setTimeout(() => waterfall(stepsPanel, events, { ended, onPick: (seq) => pick(timeline, seq) }), 100);
  };

  let run;
  let prompt = "";
  let truncated = false;
  async function reload() {
    try {
      run = await get(`/runs/${encodeURIComponent(id)}`);
      if (signal.aborted) return;
      clear(head, actions(run, status, reload, prompt), summary(run, truncated));
      if (run.kind === "graph") checkpointsPanel(checkpoints, run);
      dlqNotice(dlq, run);
    } catch (err) {
      if (!signal.aborted) clear(head, failure(err));
    }
  }
  await reload();
  if (!run) return;
  runTree(tree, id, signal);
  attemptsPanel(attempts, id);
  let refresh = null;
  follow(`/runs/${encodeURIComponent(id)}/events/stream`, {
    signal,
    onState: (state, why) => {
      live.textContent = why || (state === "ended" ? "run ended" : state);
      live.dataset.state = state;
    },
    onEvent: (type, event) => {
      if (timeline.querySelector(`[data-seq="${event.seq}"]`)) return false;
      timeline.append(eventItem(event));
      events.push(event);
      ended = ended || TERMINAL.has(type);
      drawSteps();
      if (type === "run.waiting") prompt = event.data?.prompt || "";
      if (type === "llm.truncated" || (type === "run.completed" && event.data?.truncated)) truncated = true;
      if (type.startsWith("run.") || type === "checkpoint.saved") {
        clearTimeout(refresh);
        refresh = setTimeout(reload, TERMINAL.has(type) ? 0 : 300);
      }
      return TERMINAL.has(type);
    },
  });
  signal.addEventListener("abort", () => {
    clearTimeout(refresh);
    clearTimeout(redraw);
  });
}
