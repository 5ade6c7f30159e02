// The HTTP API client: the tab's API key, JSON calls with errors in words, what the role may do,
// and Server-Sent Events read with fetch() so the key travels in a header, never in a URL.

const KEY = "agentstage.key";
const BASE = "/api/v1";
const RANKS = { viewer: 1, operator: 2, admin: 3 };

export const session = { me: null, spec: null };

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

export function storedKey() {
  return sessionStorage.getItem(KEY);
}

export function keepKey(key) {
  sessionStorage.setItem(KEY, key);
}

export function forgetKey() {
  sessionStorage.removeItem(KEY);
  session.me = null;
  feed.controller?.abort();
}

function headers(extra = {}) {
  const out = { Accept: "application/json", ...extra };
  const key = storedKey();
  if (key) out.Authorization = `Bearer ${key}`;
  return out;
}

// An API error body {title, description, errors: {field: [messages]}} as one sentence.
export function describe(status, body) {
  if (!body || typeof body !== "object") return `The server answered ${status}.`;
  const parts = [body.title || `Error ${status}`];
  if (body.description) parts.push(body.description);
  for (const [field, messages] of Object.entries(body.errors || {})) {
    const text = Array.isArray(messages) ? messages.join(", ") : JSON.stringify(messages);
    parts.push(field === "_schema" ? text : `${field}: ${text}`);
  }
  return parts.join(" — ");
}

export async function call(method, path, body) {
  const init = { method, headers: headers(body === undefined ? {} : { "Content-Type": "application/json" }) };
  if (body !== undefined) init.body = JSON.stringify(body);
  let response;
  try {
    response = await fetch(BASE + path, init);
  } catch (err) {
    throw new ApiError(0, "The server cannot be reached; check that it is running.");
  }
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch (err) {
    data = null;
  }
  if (!response.ok) {
    if (response.status === 401 && session.me) window.dispatchEvent(new CustomEvent("signed-out"));
    throw new ApiError(response.status, describe(response.status, data));
  }
  return data;
}

export const get = (path) => call("GET", path);
export const post = (path, body) => call("POST", path, body);
export const del = (path) => call("DELETE", path);

// Load who we are and the OpenAPI document (which routes exist, each with its x-min-role).
export async function loadSession() {
  const [me, spec] = await Promise.all([get("/auth/me"), session.spec || get("/openapi.json")]);
  session.me = me;
  session.spec = spec;
  return me;
}

export function rank(role) {
  return RANKS[role] || 0;
}

// Whether the server serves `method template` (e.g. "POST", "/runs/{run_id}/resume") and our role may call it.
export function can(method, template) {
  const op = session.spec?.paths?.[BASE + template]?.[method.toLowerCase()];
  if (!op || !session.me) return false;
  const needed = op["x-min-role"];
  return needed === "public" || rank(session.me.role) >= rank(needed);
}

// What the server's run control offers (`info.x-capabilities` of the OpenAPI document): e.g. "queues", "dlq".
export function has(capability) {
  return Boolean(session.spec?.info?.["x-capabilities"]?.[capability]);
}

function parseBlock(block) {
  const message = { id: null, event: "message", data: [], retry: null };
  for (const line of block.split("\n")) {
    if (!line || line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "id") message.id = value;
    else if (field === "event") message.event = value;
    else if (field === "data") message.data.push(value);
    else if (field === "retry" && /^\d+$/.test(value)) message.retry = Number(value);
  }
  return message;
}

// Read a response body of Server-Sent Events, handing each message to `onMessage` until it returns
// true (then true) or the body ends (then false).
async function readMessages(response, onMessage) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return false;
    buffer += decoder.decode(value, { stream: true }).replace(/\r\n?/g, "\n");
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const message = parseBlock(buffer.slice(0, cut));
      buffer = buffer.slice(cut + 2);
      if (onMessage(message)) {
        reader.cancel().catch(() => {});
        return true;
      }
    }
  }
}

// POST `body` to an endpoint that answers with an event stream (a run it starts), calling
// `onEvent(name, data)` for each event. Never reconnects: a second POST would start a second run.
export async function postStream(path, body, { signal, onEvent }) {
  let response;
  try {
    response = await fetch(BASE + path, { method: "POST", signal, cache: "no-store",
      headers: headers({ Accept: "text/event-stream", "Content-Type": "application/json" }), body: JSON.stringify(body) });
  } catch (err) {
    if (signal?.aborted) return;
    throw new ApiError(0, "The server cannot be reached; check that it is running.");
  }
  if (!response.ok) {
    const data = await response.json().catch(() => null);
    if (response.status === 401 && session.me) window.dispatchEvent(new CustomEvent("signed-out"));
    throw new ApiError(response.status, describe(response.status, data));
  }
  try {
    await readMessages(response, (message) => message.data.length > 0 &&
      onEvent(message.event, JSON.parse(message.data.join("\n"))));
  } catch (err) {
    if (!signal?.aborted) throw new ApiError(0, "The stream broke off before the run ended.");
  }
}

// Follow an SSE endpoint until `signal` aborts or `onEvent` returns true ("done"); reconnects with
// Last-Event-ID after a dropped connection. `onState` hears "live", "reconnecting" and "ended".
export async function follow(path, { signal, onEvent, onState = () => {}, lastId = null }) {
  let retry = 2000;
  while (!signal.aborted) {
    const extra = { Accept: "text/event-stream" };
    if (lastId !== null) extra["Last-Event-ID"] = String(lastId);
    try {
      const response = await fetch(BASE + path, { headers: headers(extra), signal, cache: "no-store" });
      if (!response.ok) {
        const body = await response.json().catch(() => null);
        throw new ApiError(response.status, describe(response.status, body));
      }
      onState("live");
      const finished = await readMessages(response, (message) => {
        if (message.retry !== null) retry = message.retry;
        if (message.id !== null) lastId = message.id;
        return message.data.length > 0 && onEvent(message.event, JSON.parse(message.data.join("\n")));
      });
      if (finished) {
        onState("ended");
        return;
      }
    } catch (err) {
      if (signal.aborted) return;
      if (err instanceof ApiError && err.status >= 400 && err.status < 500) {
        onState("ended", err.message);
        return;
      }
    }
    if (signal.aborted) return;
    onState("reconnecting");
    await new Promise((resolve) => setTimeout(resolve, retry));
  }
}

// One feed of every run's events per tab, shared by the screens that watch it: the server holds a
// thread per open stream until its next heartbeat, so screens do not open one each.
const feed = { controller: null, listeners: new Set(), state: "connecting…" };

export function watchAll(signal, onEvent, onState = () => {}) {
  const listener = { onEvent, onState };
  feed.listeners.add(listener);
  onState(feed.state);
  signal.addEventListener("abort", () => feed.listeners.delete(listener));
  if (feed.controller) return;
  const controller = (feed.controller = new AbortController());
  follow("/stream/events", {
    signal: controller.signal,
    onEvent: (type, event) => {
      for (const l of feed.listeners) l.onEvent(type, event);
      return false;
    },
    onState: (state, why) => {
      feed.state = state;
      for (const l of feed.listeners) l.onState(state, why);
    },
  }).finally(() => {
    if (feed.controller === controller) feed.controller = null;
    feed.state = "connecting…";
  });
}
