// Runs with filters, paged on the server with a cursor (never by offset).
import { api } from "../api.js";
import { h, mount } from "../dom.js";
import { badge, duration, errorBox, runLink, when } from "../format.js";
import { launchForm } from "./launch.js";

const STATUSES = ["", "queued", "running", "succeeded", "failed", "canceling", "cancelled"];

export async function render(view, _params, { query, me }) {
  const filters = {
    status: query.get("status") || "", pipeline: query.get("pipeline") || "",
    asset: query.get("asset") || "", partition: query.get("partition") || "",
  };
  const status = h("select", { id: "f-status" }, STATUSES.map((s) => h("option", { value: s, selected: s === filters.status }, s || "any status")));
  const pipeline = h("input", { id: "f-pipeline", placeholder: "pipeline", value: filters.pipeline, size: 12 });
  const assetInput = h("input", { id: "f-asset", placeholder: "asset", value: filters.asset, size: 14 });
  const partition = h("input", { id: "f-partition", placeholder: "partition", value: filters.partition, size: 12 });
  const table = h("div");
  const pager = h("div", { class: "pager toolbar" });
  const cursors = [null];

  async function load() {
    const params = { status: status.value, pipeline: pipeline.value.trim(), asset: assetInput.value.trim(), partition: partition.value.trim(), cursor: cursors[cursors.length - 1], limit: 50 };
    let data;
    try {
      data = await api.get("/runs", params);
    } catch (err) {
      mount(table, errorBox(err));
      return;
    }
    mount(table, data.runs.length === 0 ? h("p", { class: "muted" }, "No runs match.") : h("table", { id: "runs-table" },
      h("thead", {}, h("tr", {}, ["Run", "Status", "Pipeline / selection", "Partition", "Trigger", "Created", "Duration"].map((t) => h("th", {}, t)))),
      h("tbody", {}, data.runs.map((r) => h("tr", { dataset: { runId: r.run_id } },
        h("td", {}, runLink(r.run_id)), h("td", {}, badge(r.status)),
        h("td", { class: "mono" }, r.pipeline ? `${r.pipeline} (${r.selection})` : r.selection),
        h("td", { class: "mono" }, r.partition), h("td", {}, r.trigger),
        h("td", {}, when(r.created_at)), h("td", {}, duration(r.duration)))))));
    mount(pager,
      h("button", { type: "button", disabled: cursors.length === 1, on: { click: () => { cursors.pop(); load(); } } }, "Newer"),
      h("button", { type: "button", disabled: !data.next_cursor, on: { click: () => { cursors.push(data.next_cursor); load(); } } }, "Older"));
  }

  const apply = (event) => {
    event?.preventDefault();
    cursors.splice(1);
    load();
  };
  const launch = launchForm("", { me });
  mount(view,
    h("h1", {}, "Runs"),
    h("div", { class: "panel" }, launch.form),
    h("form", { class: "toolbar", on: { submit: apply } }, status, pipeline, assetInput, partition, h("button", { type: "submit" }, "Filter")),
    table, pager);
  status.addEventListener("change", apply);
  await load();
}
