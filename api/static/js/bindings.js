// A workflow's tool bindings (admins): bind a tool or @bundle, and unbind what is bound.

import { call, can, get } from "./api.js";
import { actionButton, clear, failure, h } from "./dom.js";

const ROUTE = "/workflows/{name}/tools/{tool}";

export function bindingsPanel(workflow) {
  if (!can("PUT", ROUTE)) return null;
  const base = `/workflows/${encodeURIComponent(workflow)}/tools/`;
  const status = h("div", { class: "status-line", id: "binding-status" });
  const bound = h("ul", { class: "bound", id: "bound-tools" });
  const choices = h("datalist", { id: "tool-choices" });
  Promise.all([get("/tools/registry"), can("GET", "/tools/bundles") ? get("/tools/bundles") : []]).then(([tools, bundles]) => {
    for (const name of [...tools.map((t) => t.name), ...bundles.map((b) => `@${b.name}`)]) choices.append(h("option", { value: name }));
  }).catch(() => {});
  const show = (tools) => clear(bound, tools.length ? tools.map((tool) => h("li", { "data-tool": tool }, h("span", { class: "mono" }, tool), " ",
    can("DELETE", ROUTE) ? actionButton("Unbind", async () => {
      await call("DELETE", base + encodeURIComponent(tool));
      bound.querySelector(`[data-tool="${CSS.escape(tool)}"]`)?.remove();
      return `${tool} unbound.`;
    }, { status, danger: true }) : null)) : null);
  const input = h("input", { name: "tool", list: "tool-choices", required: true, placeholder: "tool or @bundle", "aria-label": "Tool or bundle" });
  const form = h("form", { class: "inline", id: "bind-tool" }, input, choices, h("button", { type: "submit" }, "Bind"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const binding = await call("PUT", base + encodeURIComponent(input.value.trim()));
      input.value = "";
      show(binding.tools);
      clear(status, h("span", { class: "ok", role: "status" }, `Bound: the workflow's agents get ${binding.tools.join(", ")} from their next run.`));
    } catch (err) {
      clear(status, failure(err));
    }
  });
  return h("section", { class: "panel", id: "bindings" }, h("h2", {}, "Tool bindings"),
    h("p", { class: "muted" }, "Tools bound to this workflow are given to its agent nodes at run time."), form, status, bound);
}
