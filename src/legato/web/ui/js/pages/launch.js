// A small form that queues a run (operators and admins): POST /api/v1/runs, then open the run.
import { api } from "../api.js";
import { h, mount } from "../dom.js";
import { errorBox } from "../format.js";

export function launchForm(initialSelection = "", { me } = {}) {
  const canLaunch = me && (me.role === "operator" || me.role === "admin");
  const selection = h("input", { id: "launch-selection", size: 30, placeholder: "selection, e.g. raw_orders+ or *", value: initialSelection });
  const partition = h("input", { id: "launch-partition", size: 14, placeholder: "partition (optional)" });
  const message = h("div");
  const button = h("button", { class: "primary", type: "submit", id: "launch-button", disabled: !canLaunch }, "Launch run");
  const form = h("form", { class: "toolbar", id: "launch-form", on: { submit: async (event) => {
    event.preventDefault();
    button.disabled = true;
    try {
      const body = { selection: selection.value.trim() || null, partition: partition.value.trim() };
      const data = await api.post("/runs", body);
      window.location.hash = `#/runs/${encodeURIComponent(data.run.run_id)}`;
    } catch (err) {
      mount(message, errorBox(err));
    } finally {
      button.disabled = !canLaunch;
    }
  } } }, selection, partition, button,
  canLaunch ? null : h("span", { class: "muted" }, "(operators can launch runs)"));
  return { form: h("div", {}, form, message), setSelection: (text) => { selection.value = text; } };
}
