// Step logs: live tail over Server-Sent Events while the run is going, and literal search.
import { api } from "../api.js";
import { h, mount } from "../dom.js";
import { errorBox, when } from "../format.js";

const MAX_LINES = 5000; // keep the DOM bounded however long the tail runs

function lineNode(line) {
  return h("div", { class: `line l-${/^[A-Z]+$/.test(line.level) ? line.level : "INFO"} s-${line.stream === "stderr" ? "stderr" : "stdout"}`, dataset: { id: String(line.id) } },
    h("span", { class: "ts" }, when(line.ts)),
    h("span", { class: "step" }, line.step_key),
    line.message);
}

export function logView(runId, steps) {
  const box = h("div", { class: "logs", id: "logs", tabindex: "0" });
  const step = h("select", { id: "log-step" }, h("option", { value: "" }, "all steps"), steps.map((s) => h("option", { value: s }, s)));
  const search = h("input", { id: "log-search", placeholder: "search logs", size: 24, maxlength: 200 });
  const status = h("span", { class: "muted", id: "log-status" });
  const message = h("div");
  let source = null;

  function add(lines) {
    const stick = box.scrollTop + box.clientHeight >= box.scrollHeight - 20;
    for (const line of lines) box.append(lineNode(line));
    while (box.childElementCount > MAX_LINES) box.firstElementChild.remove();
    if (stick) box.scrollTop = box.scrollHeight;
  }

  function tail() {
    stop();
    box.replaceChildren();
    const params = { step: step.value || null };
    source = new EventSource(api.url(`/runs/${encodeURIComponent(runId)}/logs/stream`, params));
    status.textContent = "live";
    source.addEventListener("log", (event) => add([JSON.parse(event.data)]));
    source.addEventListener("end", () => { status.textContent = "run finished"; stop(); });
    source.onerror = () => { status.textContent = "reconnecting…"; };
  }

  async function find() {
    const q = search.value;
    if (!q) { tail(); return; }
    stop();
    try {
      const data = await api.get(`/runs/${encodeURIComponent(runId)}/logs`, { q, step: step.value || null, limit: 2000 });
      box.replaceChildren();
      add(data.lines);
      status.textContent = `${data.lines.length} matching line(s)`;
      mount(message);
    } catch (err) {
      mount(message, errorBox(err));
    }
  }

  function stop() {
    if (source) { source.close(); source = null; }
  }

  step.addEventListener("change", () => (search.value ? find() : tail()));
  const form = h("form", { class: "toolbar", on: { submit: (e) => { e.preventDefault(); find(); } } },
    step, search, h("button", { type: "submit" }, "Search"), h("button", { type: "button", on: { click: () => { search.value = ""; tail(); } } }, "Live tail"), status);
  tail();
  return { node: h("section", {}, h("h2", {}, "Logs"), form, message, box), stop };
}
