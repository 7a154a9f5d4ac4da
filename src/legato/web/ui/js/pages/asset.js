// One asset (or task, or check): description, owners, code location, neighbours, checks, history
// with metadata.
import { api } from "../api.js";
import { externalLink, h, mount } from "../dom.js";
import { assetLink, badge, errorBox, runLink, when } from "../format.js";
import { checksSection, trustBadge } from "./checks_section.js";
import { freshnessSection } from "./freshness.js";
import { launchForm } from "./launch.js";
import { partitionsSection } from "./partitions.js";
import { rowsSection } from "./sparkline.js";

function metadataList(metadata) {
  const entries = Object.entries(metadata || {});
  if (entries.length === 0) return h("span", { class: "muted" }, "–");
  return h("dl", { class: "kv" }, entries.map(([k, v]) => [
    h("dt", {}, k),
    h("dd", { class: "mono" }, typeof v === "string" ? externalLink(v) : JSON.stringify(v)),
  ]));
}

function partitionsText(space) {
  if (!space) return "–";
  if (space.kind === "product") return (space.dimensions || []).map((d) => `${d.name} (${d.space?.kind})`).join(" × ");
  return `${space.name || ""} (${space.kind})`;
}

function historyRows(rows) {
  return rows.map((m) => h("tr", {},
    h("td", {}, when(m.ts)), h("td", { class: "mono" }, m.partition || "–"),
    h("td", {}, runLink(m.run_id)), h("td", {}, metadataList(m.metadata))));
}

export async function render(view, [key], { me }) {
  let data;
  try {
    data = await api.get(`/assets/${encodeURIComponent(key)}`);
  } catch (err) {
    mount(view, h("h1", {}, key), errorBox(err));
    return;
  }
  const node = data.node;
  const tbody = h("tbody", {}, historyRows(data.history.materializations));
  const more = h("div", { class: "pager" });
  let next = data.history.next_before_id;
  function drawMore() {
    mount(more, next ? h("button", { type: "button", on: { click: async () => {
      const page = await api.get(`/assets/${encodeURIComponent(key)}/materializations`, { before_id: next });
      tbody.append(...historyRows(page.materializations));
      next = page.next_before_id;
      drawMore();
    } } }, "Older") : null);
  }
  drawMore();
  const launch = launchForm(key, { me });
  const partitions = node.partitions ? partitionsSection(node.key, { me }) : null;
  const fresh = node.kind === "asset" ? freshnessSection(node.key) : null;
  const rows = node.kind === "asset" && data.latest ? rowsSection(node.key) : null;
  mount(view,
    h("h1", {}, `${{ task: "Task", check: "Check" }[node.kind] || "Asset"} `, h("span", { class: "mono", id: "asset-key" }, node.key), " ", badge(data.status || (data.latest ? "materialized" : "never"))),
    h("div", { class: "panel" },
      h("p", { id: "asset-description" }, node.description || h("span", { class: "muted" }, "No description.")),
      h("dl", { class: "kv" },
        h("dt", {}, "Group"), h("dd", {}, node.group || "–"),
        h("dt", {}, "Owners"), h("dd", {}, node.owners.length ? node.owners.join(", ") : "–"),
        h("dt", {}, "Code"), h("dd", { class: "mono" }, node.source || "–"),
        h("dt", {}, "Tags"), h("dd", { class: "mono" }, Object.entries(node.tags).map(([k, v]) => `${k}=${v}`).join(", ") || "–"),
        h("dt", {}, "Pipelines"), h("dd", {}, node.pipelines.join(", ") || "–"),
        h("dt", {}, "Partitions"), h("dd", { class: "mono" }, partitionsText(node.partitions)),
        h("dt", {}, "Upstream"), h("dd", {}, node.upstream.length ? node.upstream.flatMap((k, i) => [i ? ", " : "", assetLink(k)]) : "–"),
        h("dt", {}, "Downstream"), h("dd", {}, node.downstream.length ? node.downstream.flatMap((k, i) => [i ? ", " : "", assetLink(k)]) : "–"),
        h("dt", {}, "Lineage"), h("dd", {}, h("a", { href: `#/lineage?focus=${encodeURIComponent(node.key)}` }, "show in the lineage")))),
    fresh ? fresh.node : null,
    partitions ? partitions.node : null,
    h("div", { class: "panel" }, h("h2", {}, "Materialize"), launch.form),
    h("h2", {}, "Latest materialization"),
    data.latest ? h("div", { class: "panel", id: "latest" }, when(data.latest.ts), " in run ", runLink(data.latest.run_id), trustBadge(data.trust), metadataList(data.latest.metadata)) : h("p", { class: "muted" }, "Never materialized."),
    rows ? rows.node : null,
    checksSection(data),
    h("h2", {}, "History"),
    h("table", { id: "history" }, h("thead", {}, h("tr", {}, ["When", "Partition", "Run", "Metadata"].map((t) => h("th", {}, t)))), tbody),
    more);
  await Promise.all([fresh?.load(), partitions?.load(), rows?.load()]);
}
