// One backfill: its request, progress, error and runs; pause, resume and cancel for operators.
import { api } from "../api.js";
import { h, mount } from "../dom.js";
import { badge, canOperate, duration, errorBox, runLink, shortJson, when } from "../format.js";
import { createHint, keysText, progressBar } from "./backfills.js";

const ACTIONS = [
  ["pause", "Pause", ["requested", "running"], ""],
  ["resume", "Resume", ["paused", "failed"], "primary"],
  ["cancel", "Cancel", ["requested", "running", "paused", "failed"], "danger"],
];

export async function render(view, [backfillId], { me }) {
  const header = h("div");
  const actions = h("div", { class: "toolbar" });
  const message = h("div");
  const runs = h("tbody");
  const more = h("div", { class: "pager" });
  let timer = null;
  let next = null;

  async function act(action) {
    try {
      await api.post(`/backfills/${encodeURIComponent(backfillId)}/${action}`);
      mount(message);
    } catch (err) {
      mount(message, errorBox(err));
    }
    await refresh();
  }

  function runRows(list) {
    return list.map((r) => h("tr", { dataset: { runId: r.run_id } },
      h("td", {}, runLink(r.run_id)), h("td", {}, badge(r.status)), h("td", { class: "mono" }, r.selection),
      h("td", { class: "mono" }, r.partition.length > 80 ? `${r.partition.slice(0, 77)}…` : r.partition),
      h("td", {}, when(r.created_at)), h("td", {}, duration(r.duration))));
  }

  function drawMore() {
    mount(more, next ? h("button", { type: "button", on: { click: async () => {
      paged = true;
      const page = await api.get(`/backfills/${encodeURIComponent(backfillId)}`, { cursor: next });
      runs.append(...runRows(page.runs));
      next = page.next_cursor;
      drawMore();
    } } }, "Older runs") : null);
  }

  // The interval refreshes the header and the newest runs; once "Older runs" was used, the
  // list is left alone so the page the user reads does not jump.
  let paged = false;

  async function refresh() {
    let data;
    try {
      data = await api.get(`/backfills/${encodeURIComponent(backfillId)}`);
    } catch (err) {
      mount(header, h("h1", {}, "Backfill ", h("span", { class: "mono" }, backfillId)), errorBox(err));
      return;
    }
    const b = data.backfill;
    mount(header,
      h("h1", {}, "Backfill ", h("span", { class: "mono" }, b.backfill_id), " ", badge(b.status)),
      h("div", { class: "panel" }, progressBar(b.progress),
        h("dl", { class: "kv" },
          h("dt", {}, "Selection"), h("dd", { class: "mono" }, b.selection),
          h("dt", {}, "Keys"), h("dd", { class: "mono" }, keysText(b)),
          h("dt", {}, "Runs planned"), h("dd", {}, b.planned ? `${b.groups} (at most ${b.max_concurrent} at once)` : "not yet: the daemon plans it"),
          h("dt", {}, "Missing only"), h("dd", {}, b.missing_only ? "yes" : "no"),
          h("dt", {}, "Executor"), h("dd", {}, b.executor),
          h("dt", {}, "Driver"), h("dd", { class: "mono" }, b.driver || "–"),
          h("dt", {}, "Created"), h("dd", {}, when(b.created_at)),
          h("dt", {}, "Updated"), h("dd", {}, when(b.updated_at)),
          Object.keys(b.tags).length ? [h("dt", {}, "Tags"), h("dd", { class: "mono" }, shortJson(b.tags))] : null,
          Object.keys(b.config).length ? [h("dt", {}, "Run config"), h("dd", { class: "mono", id: "backfill-config" }, shortJson(b.config))] : null,
          b.error ? [h("dt", {}, "Error"), h("dd", { class: "mono", id: "backfill-error" }, b.error)] : null)));
    mount(actions, ACTIONS.map(([action, label, from, cls]) => h("button", {
      type: "button", id: `backfill-${action}`, class: cls || null,
      disabled: !canOperate(me) || !from.includes(b.status), on: { click: () => act(action) },
    }, label)), canOperate(me) ? null : h("span", { class: "muted" }, "(operators can pause, resume and cancel)"));
    if (!paged) {
      mount(runs, runRows(data.runs));
      next = data.next_cursor;
      drawMore();
    }
    if (view.isConnected) document.getElementById("view").dataset.backfillStatus = b.status;
  }

  mount(view, header, actions, message, createHint(), h("h2", {}, "Runs"),
    h("table", { id: "backfill-runs" }, h("thead", {}, h("tr", {}, ["Run", "Status", "Selection", "Partitions", "Created", "Duration"].map((t) => h("th", {}, t)))), runs),
    more);
  await refresh();
  timer = setInterval(refresh, 3000);
  return () => clearInterval(timer);
}
