// What runs now, what failed lately, and whether the daemon is healthy.
import { api } from "../api.js";
import { h, mount } from "../dom.js";
import { badge, duration, runLink, when } from "../format.js";

function runTable(runs, empty) {
  if (runs.length === 0) return h("p", { class: "muted" }, empty);
  return h("table", {},
    h("thead", {}, h("tr", {}, h("th", {}, "Run"), h("th", {}, "Status"), h("th", {}, "Selection"), h("th", {}, "Created"), h("th", {}, "Duration"))),
    h("tbody", {}, runs.map((r) => h("tr", {},
      h("td", {}, runLink(r.run_id)), h("td", {}, badge(r.status)), h("td", { class: "mono" }, r.pipeline || r.selection),
      h("td", {}, when(r.created_at)), h("td", {}, duration(r.duration))))));
}

export async function render(view) {
  let timer = null;
  async function draw() {
    const data = await api.get("/overview");
    const daemon = data.daemon || {};
    mount(view,
      h("h1", {}, "Overview"),
      data.definition_errors ? h("div", { class: "error-box" }, `${data.definition_errors} definition error(s): `, h("a", { href: "#/errors" }, "see them")) : null,
      h("div", { class: "grid" },
        h("section", { class: "panel", id: "running" }, h("h2", {}, "Running now"), runTable(data.running, "Nothing is running.")),
        h("section", { class: "panel", id: "queued" }, h("h2", {}, "Queued"), runTable(data.queued, "The queue is empty.")),
        h("section", { class: "panel", id: "failures" }, h("h2", {}, "Failures in the last 24 hours"), runTable(data.recent_failures, "No failures.")),
        h("section", { class: "panel", id: "daemon" }, h("h2", {}, "Daemon"),
          h("dl", { class: "kv" }, Object.entries(daemon).map(([k, v]) => [h("dt", {}, k), h("dd", {}, typeof v === "string" ? v : JSON.stringify(v))])))));
  }
  await draw();
  timer = setInterval(() => draw().catch(() => null), 3000);
  return () => clearInterval(timer);
}
