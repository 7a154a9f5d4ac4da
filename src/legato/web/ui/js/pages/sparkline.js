// A metadata entry of an asset's materializations over time (GET /api/v1/assets/{key}/metadata)
// as a small inline SVG line: the row count of each hand-off, at a glance.
import { api } from "../api.js";
import { h, mount } from "../dom.js";
import { when } from "../format.js";

const SVG = "http://www.w3.org/2000/svg";

function svg(tag, attrs) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  return node;
}

/** An SVG line through `values` (numbers), `width` × `height` pixels, the last point marked. */
export function sparkline(values, width = 240, height = 40) {
  const low = Math.min(...values);
  const high = Math.max(...values);
  const span = high - low || 1;
  const pad = 3;
  const step = values.length > 1 ? (width - 2 * pad) / (values.length - 1) : 0;
  const xy = values.map((v, i) => [pad + i * step, height - pad - ((v - low) / span) * (height - 2 * pad)]);
  const line = svg("svg", { width, height, viewBox: `0 0 ${width} ${height}`, class: "sparkline", role: "img" });
  line.append(svg("polyline", { points: xy.map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`).join(" "), fill: "none", stroke: "currentColor", "stroke-width": 1.5 }));
  const [lastX, lastY] = xy[xy.length - 1];
  line.append(svg("circle", { cx: lastX.toFixed(1), cy: lastY.toFixed(1), r: 2.5, fill: "currentColor" }));
  return line;
}

/** The asset page's "Rows" panel: filled once the series is read; empty when nothing recorded rows. */
export function rowsSection(key) {
  const node = h("div", { class: "panel", id: "rows-section", hidden: true });
  async function load() {
    const series = await api.get(`/assets/${encodeURIComponent(key)}/metadata`, { name: "rows", limit: 100 });
    const points = series.points;
    if (!points.length) return;
    const values = points.map((p) => p.value);
    const last = points[points.length - 1];
    mount(node, h("h2", {}, "Rows"),
      h("div", { class: "sparkline-row", dataset: { points: points.length, last: last.value } },
        sparkline(values),
        h("span", { class: "mono" }, ` ${last.value.toLocaleString()} rows `),
        h("span", { class: "muted" }, `at ${when(last.ts)}; ${Math.min(...values).toLocaleString()}–${Math.max(...values).toLocaleString()} over the last ${points.length} materializations`)));
    node.hidden = false;
  }
  return { node, load };
}
