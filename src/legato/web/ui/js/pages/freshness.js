// The asset page's freshness section: the policy, whether each subject is fresh now, and the
// violations the daemon recorded for the asset (open first, then resolved).
import { api } from "../api.js";
import { h, mount } from "../dom.js";
import { badge, errorBox, when } from "../format.js";

function subjectRows(subjects) {
  return subjects.map((s) => h("tr", {},
    h("td", { class: "mono" }, s.subject, s.partition ? h("span", { class: "muted" }, ` ${s.partition}`) : null),
    h("td", {}, badge(s.late ? "late" : "fresh")),
    h("td", {}, s.expected),
    h("td", {}, when(s.materialized_at))));
}

function violationRows(violations) {
  return violations.map((v) => h("tr", { dataset: { violation: String(v.id) } },
    h("td", {}, badge(v.resolved_at ? "resolved" : "open")),
    h("td", { class: "mono" }, v.subject, v.partition ? h("span", { class: "muted" }, ` ${v.partition}`) : null),
    h("td", {}, when(v.late_since)),
    h("td", {}, v.resolved_at ? when(v.resolved_at) : "–"),
    h("td", {}, v.detail?.expected || "")));
}

export function freshnessSection(key) {
  const node = h("div", { class: "panel", id: "freshness", hidden: true });
  async function load() {
    let data;
    try {
      data = await api.get("/freshness", { asset: key, limit: 20 });
    } catch (err) {
      node.hidden = false;
      mount(node, h("h2", {}, "Freshness"), errorBox(err));
      return;
    }
    const mine = data.assets[0];
    if (!mine && data.violations.length === 0) return; // no policy: nothing to show
    node.hidden = false;
    mount(node,
      h("h2", {}, "Freshness ", mine ? badge(mine.status) : null),
      mine ? h("p", {}, "Policy: ", h("strong", {}, mine.policy.summary || "")) : h("p", { class: "muted" }, "No policy in the current definitions."),
      mine?.error ? h("div", { class: "error-box" }, mine.error) : null,
      mine && mine.subjects.length ? h("table", { id: "freshness-subjects" },
        h("thead", {}, h("tr", {}, ["Subject", "State", "Expected", "Last materialized"].map((t) => h("th", {}, t)))),
        h("tbody", {}, subjectRows(mine.subjects))) : null,
      h("h3", {}, "Violations"),
      data.violations.length ? h("table", { id: "freshness-violations" },
        h("thead", {}, h("tr", {}, ["", "Subject", "Late since", "Resolved", "Expected"].map((t) => h("th", {}, t)))),
        h("tbody", {}, violationRows(data.violations))) : h("p", { class: "muted" }, "None recorded."));
  }
  return { node, load };
}
