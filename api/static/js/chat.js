// Playground: chat with an agent or a named flow; the answer streams in token by token
// (`/playground/stream`), the steps of the run show as they happen, and the conversation keeps its
// session so the agent sees the earlier turns. Stop ends the stream and cancels the run.

import { can, get, post, postStream } from "./api.js";
import { badge, clear, failure, h, short } from "./dom.js";

const STEP_NAMES = { "llm.request": "asking the model", "tool.call": "running a tool", "tool.result": "tool answered",
  "run.waiting": "waiting for input" };

function stepText(step) {
  return STEP_NAMES[step.name] || step.name;
}

function message(role, text) {
  return h("li", { class: `chat-${role}`, "data-role": role }, h("div", { class: "chat-text" }, text));
}

async function flowChoice() {
  const choice = h("select", { name: "flow", "aria-label": "Flow" }, h("option", { value: "" }, "the configured agent"));
  try {
    const { flows } = await get("/flows");
    for (const flow of flows) {
      choice.append(h("option", { value: flow.name, title: flow.description }, flow.name));
    }
  } catch (err) {
    choice.title = err.message;
  }
  return choice;
}

export async function chatView(container, _params, signal) {
  const flow = await flowChoice();
  const transcript = h("ol", { class: "chat", id: "chat-transcript", "aria-live": "polite" });
  const input = h("textarea", { name: "input", rows: 3, required: true, "aria-label": "Message",
    placeholder: "Ask something; Enter sends, Shift+Enter starts a new line" });
  const send = h("button", { type: "submit" }, "Send");
  const stop = h("button", { type: "button", class: "danger", hidden: true }, "Stop");
  const fresh = h("button", { type: "button" }, "New conversation");
  const status = h("div", { class: "status-line", id: "chat-status" });
  const session = h("span", { class: "mono muted", id: "chat-session" });
  const form = h("form", { class: "stack", id: "chat-form" }, input, h("div", { class: "inline" }, send, stop, fresh));
  let sessionId = null;
  let turn = null;

  const showSession = () => session.replaceChildren(sessionId ? `session ${short(sessionId)}` : "new conversation");
  showSession();
  fresh.addEventListener("click", () => {
    turn?.abort();
    sessionId = null;
    clear(transcript);
    clear(status);
    showSession();
  });
  flow.addEventListener("change", () => fresh.click());
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  signal.addEventListener("abort", () => turn?.abort());

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text || turn) return;
    input.value = "";
    clear(status);
    transcript.append(message("user", text));
    const answer = h("div", { class: "chat-text" });
    const steps = h("p", { class: "chat-steps muted" });
    const reply = h("li", { class: "chat-assistant", "data-role": "assistant", "data-state": "streaming" }, answer, steps);
    transcript.append(reply);
    const controller = (turn = new AbortController());
    let runId = null;
    send.disabled = true;
    stop.hidden = false;
    stop.onclick = async () => {
      controller.abort();
      reply.dataset.state = "stopped";
      steps.replaceChildren("stopped");
      if (runId && can("POST", "/runtime/runs/{run_id}/cancel")) {
        await post(`/runtime/runs/${encodeURIComponent(runId)}/cancel`, { reason: "stopped in the playground" })
          .catch((err) => clear(status, failure(err)));
      }
    };
    const body = { input: text, sessionId, flow: flow.value || null };
    try {
      await postStream("/playground/stream", body, {
        signal: controller.signal,
        onEvent: (name, data) => {
          if (name === "delta") answer.append(data.text);
          else if (name === "progress") {
            runId = data.runId || runId;
            steps.replaceChildren(stepText(data));
          } else if (name === "complete") {
            sessionId = data.sessionId;
            runId = data.runId;
            showSession();
            if (data.output && answer.textContent !== data.output) answer.replaceChildren(data.output);
            reply.dataset.state = data.status;
            reply.dataset.run = data.runId;
            steps.replaceChildren(badge(data.status), " ",
              h("a", { href: `#/runs/${encodeURIComponent(data.runId)}`, class: "mono" }, `run ${short(data.runId)}`));
            if (data.error) steps.append(" ", h("span", { class: "error" }, data.error));
            return true;
          }
          return false;
        },
      });
    } catch (err) {
      reply.dataset.state = "failed";
      clear(status, failure(err));
    } finally {
      turn = null;
      send.disabled = false;
      stop.hidden = true;
      input.focus();
    }
  });

  clear(container,
    h("h1", {}, "Playground"),
    h("div", { class: "inline" }, h("label", {}, "Talk to ", flow), session),
    status, transcript, form);
  input.focus();
}
