// The partitions section of an asset page: counts by status and a coloured matrix (time x the
// other dimension, or the keys in rows); a click on a cell shows the key, its latest run and, for
// operators, a button that queues a run of that one partition.
import { api } from "../api.js";
import { h, mount } from "../dom.js";
import { badge, canOperate, errorBox, runLink, when } from "../format.js";

const STATES = ["materialized", "failed", "in_progress", "missing"];

function countChips(counts) {
  return h("div", { class: "legend", id: "partition-counts" },
    h("span", { class: "muted" }, `${counts.total.toLocaleString()} keys:`),
    STATES.map((s) => h("span", { class: `chip c-${s}`, dataset: { state: s } }, `${s.replace("_", " ")} ${counts[s].toLocaleString()}`)));
}

function cellButton(cell, onPick) {
  if (!cell) return h("td", { class: "cell-none" });
  return h("td", {}, h("button", {
    type: "button", class: `cell c-${STATES.includes(cell.status) ? cell.status : "missing"}`,
    title: `${cell.key}: ${cell.status}`, "aria-label": `${cell.key}: ${cell.status}`,
    dataset: { key: cell.key, status: cell.status }, on: { click: () => onPick(cell) },
  }));
}

function shortLabel(text) {
  return text.length > 10 ? `…${text.slice(-5)}` : text;
}

export function partitionsSection(assetKey, { me }) {
  const root = h("section", { class: "panel", id: "partitions" }, h("h2", {}, "Partitions"), h("p", { class: "muted" }, "Loading…"));
  const state = { dimension: null, end: null, rowAfter: [] };
  const detail = h("div", { id: "partition-detail" });
  const grid = h("div", { class: "matrix-box" });
  const controls = h("div", { class: "toolbar" });
  const message = h("div");

  async function launch(key, button) {
    button.disabled = true;
    try {
      const data = await api.post("/runs", { selection: assetKey, partition: key });
      window.location.hash = `#/runs/${encodeURIComponent(data.run.run_id)}`;
    } catch (err) {
      mount(message, errorBox(err));
      button.disabled = false;
    }
  }

  function pick(cell) {
    const button = h("button", { type: "button", class: "primary", id: "materialize-partition", disabled: !canOperate(me) }, "Materialize this partition");
    button.addEventListener("click", () => launch(cell.key, button));
    mount(detail, h("div", { class: "panel" },
      h("dl", { class: "kv" },
        h("dt", {}, "Partition"), h("dd", { class: "mono", id: "partition-key" }, cell.key),
        h("dt", {}, "Status"), h("dd", {}, badge(cell.status)),
        h("dt", {}, "Latest run"), h("dd", {}, cell.run_id ? runLink(cell.run_id) : "–"),
        h("dt", {}, "Materialized"), h("dd", {}, when(cell.materialized_at)),
        h("dt", {}, "Runs"), h("dd", {}, h("a", { href: `#/runs?partition=${encodeURIComponent(cell.key)}` }, "runs of this partition"))),
      h("div", { class: "toolbar" }, button, canOperate(me) ? null : h("span", { class: "muted" }, "(operators can launch runs)")),
      message));
  }

  async function drawMatrix() {
    let data;
    try {
      data = await api.get(`/assets/${encodeURIComponent(assetKey)}/partitions/matrix`, {
        dimension: state.dimension, end: state.end, row_after: state.rowAfter[state.rowAfter.length - 1],
        columns: 31, rows: 20,
      });
    } catch (err) {
      mount(grid, errorBox(err));
      return;
    }
    const head = data.layout === "grid" ? h("thead", {}, h("tr", {}, h("th", {}, data.row_dimension || ""),
      data.columns.map((c) => h("th", { class: "col", title: c }, shortLabel(c))))) : null;
    const body = h("tbody", {}, data.rows.map((row) => h("tr", {},
      h("th", { class: "row-label mono", title: row.label }, row.label),
      row.cells.map((cell) => cellButton(cell, pick)))));
    mount(grid, h("table", { class: "matrix", id: "partition-matrix", dataset: { layout: data.layout } }, head, body));
    mount(controls,
      h("button", { type: "button", id: "matrix-earlier", disabled: !data.earlier_end, on: { click: () => { state.end = data.earlier_end; drawMatrix(); } } }, "◀ Earlier"),
      h("button", { type: "button", id: "matrix-later", disabled: !data.later_end, on: { click: () => { state.end = data.later_end; drawMatrix(); } } }, "Later ▶"),
      data.layout === "grid" ? [
        h("button", { type: "button", disabled: state.rowAfter.length === 0, on: { click: () => { state.rowAfter.pop(); drawMatrix(); } } }, "Previous rows"),
        h("button", { type: "button", id: "matrix-more-rows", disabled: !data.next_row_after, on: { click: () => { state.rowAfter.push(data.next_row_after); drawMatrix(); } } }, "Next rows"),
      ] : null,
      data.column_dimension ? h("span", { class: "muted" }, data.layout === "grid" ? `columns: ${data.column_dimension}` : `keys of ${data.column_dimension} in order`) : null);
  }

  async function load() {
    let data;
    try {
      data = await api.get(`/assets/${encodeURIComponent(assetKey)}/partitions`, { limit: 1 });
    } catch (err) {
      mount(root, h("h2", {}, "Partitions"), errorBox(err));
      return;
    }
    const names = data.dimensions.map((d) => d.name);
    const chooser = names.length > 1 ? h("select", { id: "matrix-dimension", on: { change: (e) => {
      state.dimension = e.target.value; state.end = null; state.rowAfter = []; drawMatrix();
    } } }, names.map((n) => h("option", { value: n, selected: n === (data.time_dimension || names[0]) }, `${n} along the columns`))) : null;
    mount(root,
      h("h2", {}, "Partitions"),
      h("p", { class: "muted", id: "partition-summary" }, data.summary),
      countChips(data.counts),
      h("div", { class: "toolbar" }, chooser, controls),
      grid, detail);
    await drawMatrix();
  }

  return { node: root, load };
}
