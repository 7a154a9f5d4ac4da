// A small form that queues a run (operators and admins): POST /api/v1/runs, then open the run.
// When steps of the selection take config, a form made from its JSON Schema asks for it.
import { api } from "../api.js";
import { h, mount } from "../dom.js";
import { errorBox } from "../format.js";
import { configForm } from "./config_form.js";

// The defaults of a new selection's form with what was typed in the form it replaces over them
// (one level deep in each step): changing the selection, or launching right after changing it,
// keeps the values given for the steps both selections run.
function keepTyped(defaults, previous) {
  let typed = {};
  try {
    typed = previous.read();
  } catch {
    return defaults;  // a JSON field that does not parse: the new form starts from the defaults
  }
  const out = { ...defaults };
  for (const [step, value] of Object.entries(typed)) {
    const base = out[step];
    const merge = [base, value].every((v) => v && typeof v === "object" && !Array.isArray(v));
    out[step] = merge ? { ...base, ...value } : value;
  }
  return out;
}

export function launchForm(initialSelection = "", { me } = {}) {
  const canLaunch = me && (me.role === "operator" || me.role === "admin");
  const selection = h("input", { id: "launch-selection", size: 30, placeholder: "selection, e.g. raw_orders+ or *", value: initialSelection });
  const partition = h("input", { id: "launch-partition", size: 14, placeholder: "partition (optional)" });
  const message = h("div");
  const configBox = h("div");
  let config = configForm(null);
  let asked = null;
  let shown = null;  // the schema and defaults the form on the page was made from
  async function loadConfig() {
    const text = selection.value.trim();
    if (!canLaunch || !text || text === asked) return;
    asked = text;
    try {
      const data = await api.get("/config-schema", { select: text });
      const shape = JSON.stringify([data.config_schema, data.defaults]);
      if (shape === shown) return;  // the same form: the one on the page, focus and all, stays
      shown = shape;
      config = configForm(data.config_schema, keepTyped(data.defaults || {}, config));
      mount(configBox, config.node);
    } catch {
      shown = null;
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
