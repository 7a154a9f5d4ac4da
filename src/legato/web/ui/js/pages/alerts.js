// Alerts: open ones first, then resolved ones, each with its messages to its channels. Alerts
// are raised by the daemon from the rules of legato.toml; `legato alerts test CHANNEL` tries a
// channel.
import { api } from "../api.js";
import { h, mount } from "../dom.js";
import { badge, errorBox, when } from "../format.js";

function messages(deliveries) {
  if (!deliveries.length) return h("span", { class: "muted" }, "–");
  return h("ul", { class: "plain" }, deliveries.map((d) => h("li", { dataset: { channel: d.channel, event: d.event } },
    `${d.channel} ${d.event} `, badge(d.status),
    d.status === "pending" && d.attempts ? h("span", { class: "muted" }, ` retry at ${when(d.next_attempt_at)}`) : null,
    d.last_error ? h("div", { class: "muted" }, d.last_error) : null)));
}

function table(alerts, id) {
  if (!alerts.length) return h("p", { class: "muted", id }, "None.");
  return h("table", { id },
    h("thead", {}, h("tr", {}, ["", "Kind", "Summary", "Opened", "Resolved", "Messages"].map((t) => h("th", {}, t)))),
    h("tbody", {}, alerts.map((a) => h("tr", { dataset: { alert: String(a.alert_id) } },
      h("td", {}, badge(a.status)),
      h("td", { class: "mono" }, a.kind),
      h("td", {}, a.summary, a.occurrences > 1 ? h("span", { class: "muted" }, ` (${a.occurrences} times)`) : null),
      h("td", {}, when(a.opened_at)),
      h("td", {}, when(a.resolved_at)),
      h("td", {}, messages(a.deliveries))))));
}

export async function render(view) {
  let open, resolved;
  try {
    [open, resolved] = await Promise.all([
      api.get("/alerts", { status: "open", limit: 200 }),
      api.get("/alerts", { status: "resolved", limit: 50 }),
    ]);
  } catch (err) {
    mount(view, h("h1", {}, "Alerts"), errorBox(err));
    return;
  }
  mount(view,
    h("h1", {}, "Alerts"),
    h("p", { class: "muted" }, "Raised by the daemon from the rules under [alerts] in legato.toml; one per subject while open."),
    h("h2", {}, `Open (${open.alerts.length})`),
    table(open.alerts, "alerts-open"),
    h("h2", {}, "Resolved"),
    table(resolved.alerts, "alerts-resolved"));
}
