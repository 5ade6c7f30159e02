// The page: sign in, the navigation the role may see, and a hash router that gives each screen an
// AbortSignal so leaving it stops its streams and timers.

import { can, forgetKey, has, keepKey, loadSession, post, session, storedKey } from "./api.js";
import { clear, failure, h } from "./dom.js";
import { auditView, keysView } from "./admin.js";
import { chatView } from "./chat.js";
import { graphView, graphsView } from "./graph.js";
import { evalView, evalsView } from "./evals.js";
import { dlqEntryView, dlqView, workersView } from "./ops.js";
import { overviewView } from "./overview.js";
import { runView } from "./run.js";
import { runsView } from "./runs.js";
import { scheduleView, schedulesView } from "./schedules.js";
import { sessionView, sessionsView, toolsView } from "./catalog.js";

const SCREENS = [
  { path: "runs", label: "Runs", needs: ["GET", "/runs"], view: runsView },
  { path: "overview", label: "Overview", needs: ["GET", "/metrics/timeseries"], view: overviewView },
  { path: "playground", label: "Playground", needs: ["POST", "/playground/stream"], view: chatView },
  { path: "graphs", label: "Graphs", needs: ["GET", "/workflows"], view: graphsView },
  { path: "workers", label: "Workers & queues", needs: ["GET", "/runtime/workers"], view: workersView },
  { path: "dlq", label: "DLQ", needs: ["GET", "/runtime/dlq"], offers: "dlq", view: dlqView },
  { path: "sessions", label: "Sessions", needs: ["GET", "/sessions"], view: sessionsView },
  { path: "evals", label: "Evaluations", needs: ["GET", "/evals"], view: evalsView },
  { path: "schedules", label: "Schedules", needs: ["GET", "/cron/jobs"], view: schedulesView },
  { path: "tools", label: "Tools", needs: ["GET", "/tools/registry"], view: toolsView },
  { path: "audit", label: "Audit log", needs: ["GET", "/audit"], view: auditView },
  { path: "keys", label: "API keys", needs: ["GET", "/auth/keys"], view: keysView },
];
const DETAILS = { runs: runView, graphs: graphView, sessions: sessionView, evals: evalView, dlq: dlqEntryView,
  schedules: scheduleView };

const $ = (id) => document.getElementById(id);
// A screen is offered when our role may call its route and the server's run control has what it shows.
const shown = (screen) => can(...screen.needs) && (!screen.offers || has(screen.offers));
let current = null;

function showSignIn(message = "") {
  current?.abort();
  $("nav").hidden = true;
  $("who").hidden = true;
  $("menu-toggle").hidden = true;
  clear($("view"));
  $("sign-in").hidden = false;
  $("sign-in-error").hidden = !message;
  $("sign-in-error").textContent = message;
  $("api-key").focus();
}

function buildNav() {
  const items = SCREENS.filter(shown);
  clear($("nav"), items.map((s) => h("a", { href: `#/${s.path}`, "data-screen": s.path }, s.label)));
  $("who-role").textContent = `${session.me.name || session.me.key_id} · ${session.me.role}`;
  $("nav").hidden = false;
  $("who").hidden = false;
  $("menu-toggle").hidden = false;
  $("sign-in").hidden = true;
}

function route() {
  if (!session.me) return;
  const [rawPath, rawQuery = ""] = location.hash.replace(/^#\/?/, "").split("?");
  const parts = rawPath.split("/").filter(Boolean).map(decodeURIComponent);
  const screen = SCREENS.find((s) => s.path === parts[0] && shown(s));
  if (!screen) {
    location.replace("#/runs");
    return;
  }
  current?.abort();
  current = new AbortController();
  for (const link of $("nav").querySelectorAll("a")) {
    link.toggleAttribute("aria-current", link.dataset.screen === screen.path);
  }
  $("nav").classList.remove("open");
  const view = parts.length > 1 ? DETAILS[screen.path] : screen.view;
  const container = clear($("view"));
  const params = { id: parts[1], query: new URLSearchParams(rawQuery) };
  Promise.resolve(view(container, params, current.signal)).catch((err) => {
    if (!current.signal.aborted) container.append(failure(err));
  });
}

async function signIn(key) {
  keepKey(key);
  try {
    await loadSession();
  } catch (err) {
    forgetKey();
    showSignIn(err.status === 401 ? "That key is not valid (unknown, expired or revoked)." : err.message);
    return;
  }
  buildNav();
  route();
}

async function start() {
  $("sign-in-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const key = $("api-key").value.trim();
    $("api-key").value = "";
    if (key) signIn(key);
  });
  $("sign-out").addEventListener("click", () => {
    forgetKey();
    showSignIn();
  });
  $("menu-toggle").addEventListener("click", () => {
    const open = $("nav").classList.toggle("open");
    $("menu-toggle").setAttribute("aria-expanded", String(open));
  });
  window.addEventListener("hashchange", async () => (await loginFromLink()) || route());
  window.addEventListener("signed-out", () => {
    forgetKey();
    showSignIn("Your key is no longer accepted; sign in again.");
  });
  if (await loginFromLink()) return;
  if (storedKey()) return signIn(storedKey());
  showSignIn();
}

// `agentstage ui` prints a link ending in #login=<one-time token>: exchange it for a key, then
// drop it from the address bar and history.
async function loginFromLink() {
  const login = location.hash.match(/^#login=([\w-]+)$/);
  if (!login) return false;
  history.replaceState(null, "", `${location.pathname}#/runs`);
  try {
    const created = await post("/auth/login", { token: login[1] });
    await signIn(created.secret);
  } catch (err) {
    showSignIn(`The login link did not work: ${err.message}`);
  }
  return true;
}

start();
