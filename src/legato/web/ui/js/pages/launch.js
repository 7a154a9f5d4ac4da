// A small form that queues a run (operators and admins): POST /api/v1/runs, then open the run.
// When steps of the selection take config, a form made from its JSON Schema asks for it.
import { api } from "../api.js";
import { h, mount } from "../dom.js";
import { errorBox } from "../format.js";
import { configForm } from "./config_form.js";

export function launchForm(initialSelection = "", { me } = {}) {
  const canLaunch = me && (me.role === "operator" || me.role === "admin");
  const selection = h("input", { id: "launch-selection", size: 30, placeholder: "selection, e.g. raw_orders+ or *", value: initialSelection });
  const partition = h("input", { id: "launch-partition", size: 14, placeholder: "partition (optional)" });
  const message = h("div");
  const configBox = h("div");
  let config = configForm(null);
  let asked = null;
  async function loadConfig() {
    const text = selection.value.trim();
    if (!canLaunch || !text || text === asked) return;
    asked = text;
    try {
      const data = await api.get("/config-schema", { select: text });
      config = configForm(data.config_schema, data.defaults);
      mount(configBox, config.node);
    } catch {
      config = configForm(null);  // a selection that matches nothing: launching says why
      mount(configBox);
    }
  }
  selection.addEventListener("change", loadConfig);
  const button = h("button", { class: "primary", type: "submit", id: "launch-button", disabled: !canLaunch }, "Launch run");
  const form = h("form", { class: "toolbar", id: "launch-form", on: { submit: async (event) => {
    event.preventDefault();
    button.disabled = true;
    try {
      await loadConfig();
      const body = { selection: selection.value.trim() || null, partition: partition.value.trim(), config: config.read() };
      const data = await api.post("/runs", body);
      window.location.hash = `#/runs/${encodeURIComponent(data.run.run_id)}`;
    } catch (err) {
      mount(message, errorBox(err));
    } finally {
      button.disabled = !canLaunch;
    }
  } } }, selection, partition, button,
  canLaunch ? null : h("span", { class: "muted" }, "(operators can launch runs)"));
  loadConfig();
  return {
    form: h("div", {}, form, configBox, message),
    setSelection: (text) => { selection.value = text; loadConfig(); },
  };
}
