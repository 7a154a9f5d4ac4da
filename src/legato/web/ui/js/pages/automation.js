// Automation: schedules, sensors, file arrival and OnUpdate triggers with on/off switches (for
// operators), their next fire times and latest tick; a trigger's tick history with reasons.
import { api } from "../api.js";
import { h, mount } from "../dom.js";
import { badge, canOperate, errorBox, runLink, when } from "../format.js";

const GROUPS = [
  ["Schedules", ["cron", "every"]],
  ["Sensors", ["sensor"]],
  ["File arrival", ["file_arrival"]],
  ["OnUpdate", ["on_update"]],
];
const TICK_STATUSES = ["", "requested", "skipped", "failed"];

function seconds(value) {
  if (value === null || value === undefined) return "–";
  if (value % 86400 === 0) return `${value / 86400} d`;
  if (value % 3600 === 0) return `${value / 3600} h`;
  if (value % 60 === 0) return `${value / 60} min`;
  return `${value} s`;
}

/** What the trigger does, in one line, from its spec. */
function describe(t) {
  const s = t.spec || {};
  const catchUp = s.catch_up ? `, catch-up ${s.catch_up.mode}` : "";
  switch (t.kind) {
    case "cron": return `${s.expr} (${s.timezone}), gap ${s.on_gap}, repeat ${s.on_repeat}${catchUp}`;
    case "every": return `every ${seconds(s.interval_seconds)} from ${s.start} (${s.timezone})${catchUp}`;
    case "sensor": return `sensor ${s.name || ""}, every ${seconds(s.interval)}`;
    case "file_arrival": return `${s.path}/${s.pattern || "*"}, stable for ${seconds(s.stable_for)}` + (s.dynamic_set ? ` → set ${s.dynamic_set}` : "");
    case "on_update": return `when upstreams update (require ${s.require}${s.min_count ? `, at least ${s.min_count}` : ""}), looks every ${seconds(s.interval)}`;
    default: return JSON.stringify(s).slice(0, 200);
  }
}

function nextText(t) {
  if (!t.enabled) return "off";
  if (t.next_fires.length) return t.next_fires.map((f) => when(f)).join(", ");
  return t.next_due ? `looks at ${when(t.next_due)}` : "at the daemon's next look";
}

export async function render(view, _params, { query, me }) {
  const sections = h("div");
  const history = h("section", { class: "panel", id: "ticks", hidden: true });
  const message = h("div");
  let timer = null;

  async function toggle(t, button) {
    button.disabled = true;
    try {
      await api.post(`/automation/triggers/${encodeURIComponent(t.trigger_id)}/${t.enabled ? "disable" : "enable"}`);
      mount(message);
    } catch (err) {
      mount(message, errorBox(err));
    }
    await load();
  }

  function row(t) {
    const button = h("button", {
      type: "button", class: `toggle ${t.enabled ? "on" : "off"}`, "aria-pressed": t.enabled ? "true" : "false",
      title: canOperate(me) ? (t.enabled ? "switch off" : "switch on") : "operators can switch triggers",
      disabled: !canOperate(me),
    }, t.enabled ? "On" : "Off");
    button.addEventListener("click", () => toggle(t, button));
    const tick = t.latest_tick;
    return h("tr", { dataset: { trigger: t.trigger_id, enabled: String(t.enabled), kind: t.kind } },
      h("td", {}, button),
      h("td", {}, h("strong", {}, t.pipeline), t.name ? h("div", { class: "muted" }, t.name) : null, h("div", { class: "mono muted" }, t.trigger_id)),
      h("td", { class: "mono" }, describe(t)),
      h("td", {}, nextText(t)),
      h("td", {}, tick ? [badge(tick.status), " ", when(tick.ts), tick.run_id ? [" ", runLink(tick.run_id)] : null, tick.reason ? h("div", { class: "muted" }, tick.reason) : null] : h("span", { class: "muted" }, "no tick yet")),
      h("td", {}, h("button", { type: "button", class: "history", on: { click: () => showTicks(t.trigger_id) } }, "History")));
  }

  async function showTicks(triggerId, status = "", before = []) {
    history.hidden = false;
    let data;
    try {
      data = await api.get(`/automation/triggers/${encodeURIComponent(triggerId)}/ticks`, { status, before_id: before[before.length - 1], limit: 50 });
    } catch (err) {
      mount(history, errorBox(err));
      return;
    }
    const filter = h("select", { id: "tick-status", on: { change: (e) => showTicks(triggerId, e.target.value) } },
      TICK_STATUSES.map((s) => h("option", { value: s, selected: s === status }, s || "any status")));
    mount(history,
      h("h2", {}, "Ticks of ", h("span", { class: "mono" }, triggerId)),
      h("div", { class: "toolbar" }, filter,
        h("button", { type: "button", disabled: before.length === 0, on: { click: () => showTicks(triggerId, status, before.slice(0, -1)) } }, "Newer"),
        h("button", { type: "button", disabled: !data.next_before_id, on: { click: () => showTicks(triggerId, status, [...before, data.next_before_id]) } }, "Older")),
      data.ticks.length === 0 ? h("p", { class: "muted" }, "No ticks.") : h("table", { id: "ticks-table" },
        h("thead", {}, h("tr", {}, ["When", "Status", "Tick", "Run", "Reason"].map((c) => h("th", {}, c)))),
        h("tbody", {}, data.ticks.map((k) => h("tr", { dataset: { status: k.status } },
          h("td", {}, when(k.ts)), h("td", {}, badge(k.status)), h("td", { class: "mono" }, k.tick_key),
          h("td", {}, k.run_id ? runLink(k.run_id) : "–"), h("td", {}, k.reason || ""))))));
  }

  async function load() {
    let data;
    try {
      data = await api.get("/automation/triggers");
    } catch (err) {
      mount(sections, errorBox(err));
      return;
    }
    const known = GROUPS.flatMap(([, kinds]) => kinds);
    const groups = [...GROUPS, ["Other triggers", null]].map(([title, kinds]) => [title, data.triggers.filter((t) => (kinds ? kinds.includes(t.kind) : !known.includes(t.kind)))]);
    mount(sections,
      data.unregistered.length ? h("div", { class: "notice" }, `${data.unregistered.length} trigger(s) of the current definitions are not registered yet (`, h("span", { class: "mono" }, data.unregistered.slice(0, 5).join(", ")), "): the daemon registers them when it starts (legato up or legato daemon).") : null,
      data.triggers.length === 0 ? h("p", { class: "muted" }, "No triggers: attach schedules, sensors or OnUpdate to pipelines (Pipeline(..., triggers=[...])).") : null,
      groups.filter(([, list]) => list.length).map(([title, list]) => h("section", { class: "panel", dataset: { group: title } },
        h("h2", {}, title),
        h("table", { class: "triggers" },
          h("thead", {}, h("tr", {}, ["", "Pipeline", "Spec", "Next", "Latest tick", ""].map((c) => h("th", {}, c)))),
          h("tbody", {}, list.map(row))))));
  }

  mount(view, h("h1", {}, "Automation"), message, sections, history);
  await load();
  const focus = query.get("trigger");
  if (focus) await showTicks(focus);
  timer = setInterval(load, 5000);
  return () => clearInterval(timer);
}
