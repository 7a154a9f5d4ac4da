// What an asset handed over, materialization after materialization (GET
// /api/v1/assets/{key}/metadata): each number recorded (rows first, bytes, the step's own) as a
// small inline SVG line, and where the schema of the hand-off changed.
import { api } from "../api.js";
import { h, mount } from "../dom.js";
import { runLink, when } from "../format.js";

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

const PLOTTED = 8;  // numbers drawn at most: rows, bytes, then the step's own by name

function shown(name, value) {
  if (name === "rows") return `${value.toLocaleString()} rows`;
  if (name === "bytes") return value >= 1024 ? `${(value / 1024).toLocaleString(undefined, { maximumFractionDigits: 1 })} KiB` : `${value} bytes`;
  return `${name} ${value.toLocaleString()}`;
}

function seriesRow(name, points) {
  const values = points.map((p) => p.value);
  const last = points[points.length - 1];
  return h("div", { class: "sparkline-row", dataset: { name, points: points.length, last: last.value } },
    sparkline(values),
    h("span", { class: "mono" }, ` ${shown(name, last.value)} `),
    h("span", { class: "muted" }, `at ${when(last.ts)}; ${Math.min(...values).toLocaleString()}–${Math.max(...values).toLocaleString()} over the last ${points.length} materializations`));
}

function schemaLine(schemas, count) {
  if (!schemas.length) return null;
  const current = schemas[schemas.length - 1];
  const changes = schemas.length - 1;
  return h("p", { id: "schema-changes", dataset: { changes } },
    "Schema ", h("span", { class: "mono" }, current.schema_hash.slice(0, 8)),
    changes ? [" since ", when(current.ts), " (run ", runLink(current.run_id), "); "] : "; ",
    changes ? `changed ${changes} time${changes > 1 ? "s" : ""} in the last ${count} materializations` : `unchanged in the last ${count} materializations`);
}

/** The asset page's hand-offs panel: filled once the series are read; empty when nothing
 * recorded rows or another number. */
export function rowsSection(key) {
  const node = h("div", { class: "panel", id: "rows-section", hidden: true });
  const path = `/assets/${encodeURIComponent(key)}/metadata`;
  async function load() {
    const rows = await api.get(path, { name: "rows", limit: 100 });
    const others = rows.names.filter((n) => n !== "rows").sort((a, b) => (b === "bytes") - (a === "bytes"));
    const series = [["rows", rows], ...await Promise.all(others.slice(0, PLOTTED - 1).map(
      async (name) => [name, await api.get(path, { name, limit: 100 })]))];
    const drawn = series.filter(([, s]) => s.points.length);
    if (!drawn.length) return;
    const count = Math.max(...drawn.map(([, s]) => s.points.length));
    mount(node, h("h2", {}, "Hand-offs"),
      drawn.map(([name, s]) => seriesRow(name, s.points)),
      schemaLine(rows.schemas, count));
    node.hidden = false;
  }
  return { node, load };
}
