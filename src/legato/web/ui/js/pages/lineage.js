// Every asset and task of every pipeline in one plane, coloured by latest status.
import { api } from "../api.js";
import { h, mount } from "../dom.js";
import { STATUS_COLORS, badge } from "../format.js";
import { LineageCanvas } from "../lineage_canvas.js";
import { launchForm } from "./launch.js";

const LEGEND = ["succeeded", "failed", "running", "queued", "cancelled", "never"];

export async function render(view, _params, { query, me }) {
  const started = performance.now();
  const [layout, status] = await Promise.all([api.get("/graph/layout"), api.get("/graph/status")]);
  if (layout.keys.length === 0) {
    mount(view, h("h1", {}, "Lineage"), h("p", { class: "notice" }, "No definitions recorded yet: run the project once (legato run …) or start the daemon."));
    return;
  }
  const canvas = h("canvas", { id: "lineage-canvas", "aria-label": "lineage graph" });
  const side = h("aside", { class: "side", id: "lineage-side", hidden: true });
  const search = h("input", { id: "lineage-search", placeholder: `search ${layout.keys.length} nodes`, size: 28 });
  const info = h("span", { class: "muted", id: "lineage-info" });
  const legend = h("div", { class: "legend" }, LEGEND.map((s) => {
    const item = h("span", {}, s);
    item.style.setProperty("--c", STATUS_COLORS[s]);
    return item;
  }));
  mount(view,
    h("form", { class: "toolbar", on: { submit: (e) => { e.preventDefault(); find(); } } },
      h("strong", {}, "Lineage"), search, h("button", { type: "submit" }, "Find"),
      h("button", { type: "button", id: "lineage-fit", on: { click: () => graph.fit() } }, "Fit"),
      h("button", { type: "button", id: "lineage-clear", on: { click: () => { graph.focusOn(null); info.textContent = ""; } } }, "Clear focus"),
      info, legend),
    h("div", { class: "lineage" }, canvas, side));
  const graph = new LineageCanvas(canvas, layout);
  graph.setStatuses(status.statuses, status.materialized_at);
  graph.fit();
  graph.onOpen = (i) => { window.location.hash = `#/assets/${encodeURIComponent(graph.keys[i])}`; };
  graph.onSelect = (i) => showSide(i);
  let matches = [];
  let matchAt = 0;

  function find() {
    const text = search.value.trim().toLowerCase();
    if (!text) return;
    if (matches.text !== text) {
      matches = graph.keys.flatMap((k, i) => (k.toLowerCase().includes(text) ? [i] : []));
      matches.text = text;
      matchAt = 0;
    } else {
      matchAt = (matchAt + 1) % Math.max(matches.length, 1);
    }
    info.textContent = matches.length ? `${matchAt + 1} of ${matches.length}` : "no match";
    if (matches.length) { graph.centerOn(matches[matchAt]); graph.select(matches[matchAt]); }
  }

  function showSide(i) {
    if (i < 0) { side.hidden = true; return; }
    const key = graph.keys[i];
    const focus = (opts, label) => h("button", { type: "button", on: { click: () => { info.textContent = `${graph.focusOn(i, opts)} nodes ${label}`; } } }, label);
    const launch = launchForm(key, { me });
    mount(side,
      h("h2", { id: "side-key", class: "mono" }, key),
      h("p", {}, graph.kinds[i], layout.groups[i] ? ` · group ${layout.groups[i]}` : "", " ", badge(status.statuses[key] || (status.materialized_at[key] ? "materialized" : "never"))),
      h("p", {}, h("a", { href: `#/assets/${encodeURIComponent(key)}`, id: "side-open" }, "Open asset page")),
      h("div", { class: "toolbar" }, focus({ up: true, down: false }, "upstream"), focus({ up: false, down: true }, "downstream"), focus({ up: true, down: true }, "both")),
      launch.form);
    side.hidden = false;
  }

  const focusKey = query.get("focus");
  if (focusKey && graph.index.has(focusKey)) {
    const i = graph.index.get(focusKey);
    graph.focusOn(i);
    graph.centerOn(i);
    graph.select(i);
  }
  const timer = setInterval(async () => {
    try {
      const fresh = await api.get("/graph/status");
      Object.assign(status, fresh);
      graph.setStatuses(fresh.statuses, fresh.materialized_at);
    } catch { /* keep the last colours */ }
  }, 3000);
  requestAnimationFrame(() => requestAnimationFrame(() => {
    window.__legatoLineage = { nodes: layout.keys.length, ms: performance.now() - started };
    canvas.dataset.ready = "1";
  }));
  return () => {
    clearInterval(timer);
    graph.destroy();
  };
}
