// The checks of an asset on its page: the latest result of each (on each partition), and checks
// defined but never run yet. Data from GET /api/v1/assets/{key} (checks, node.checks).
import { externalLink, h } from "../dom.js";
import { assetLink, badge, runLink, when } from "../format.js";

function found(metadata) {
  const entries = Object.entries(metadata || {});
  if (entries.length === 0) return h("span", { class: "muted" }, "–");
  return entries.map(([k, v], i) => [i ? ", " : "", `${k}=`,
    typeof v === "string" ? externalLink(v) : JSON.stringify(v)]);
}

function shortName(check) {
  const at = check.indexOf(":check:");
  return at >= 0 ? check.slice(at + ":check:".length) : check;
}

export function checksSection(data) {
  const results = data.checks || [];
  const defined = data.node.checks || [];
  if (!results.length && !defined.length) return null;
  const seen = new Set(results.map((r) => r.check));
  const rows = results.map((r) => h("tr", { dataset: { check: r.check, outcome: r.outcome } },
    h("td", {}, assetLink(r.check), r.description ? h("div", { class: "muted" }, r.description) : null),
    h("td", { class: "mono" }, r.partition || "–"),
    h("td", {}, badge(r.outcome), r.blocking ? h("span", { class: "muted" }, " blocking") : null),
    h("td", {}, when(r.ts)), h("td", {}, runLink(r.run_id)), h("td", { class: "mono" }, found(r.metadata))));
  for (const check of defined.filter((c) => !seen.has(c))) {
    rows.push(h("tr", { dataset: { check, outcome: "never" } }, h("td", {}, assetLink(check)),
      h("td", {}, "–"), h("td", {}, badge("never")), h("td", { colspan: 3, class: "muted" }, "not run yet")));
  }
  return h("div", { class: "panel", id: "checks-section" }, h("h2", {}, "Checks"),
    h("table", { id: "checks" },
      h("thead", {}, h("tr", {}, ["Check", "Partition", "Result", "When", "Run", "Found"].map((t) => h("th", {}, t)))),
      h("tbody", {}, rows)));
}

// Whether the latest materialization passed its blocking checks, next to it.
export function trustBadge(trust) {
  if (trust?.trusted === false) {
    return h("span", { id: "trust" }, " ", h("span", { class: "badge s-not_trusted", dataset: { status: "not_trusted" } }, "not trusted"), " ",
      h("span", { class: "muted" }, "blocking check failed: "), trust.failed_checks.map((c, i) => [i ? ", " : "", shortName(c)]));
  }
  return trust?.trusted ? h("span", { id: "trust" }, " ", badge("trusted")) : null;
}
