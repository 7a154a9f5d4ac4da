// Backfills: the list with a progress bar per backfill, paged by cursor. One is created with
// `legato backfill` or POST /api/v1/backfills; the daemon plans it with the project's code.
import { api } from "../api.js";
import { h, mount } from "../dom.js";
import { badge, errorBox, when } from "../format.js";

const STATUSES = ["", "requested", "running", "paused", "completed", "failed", "cancelled"];
const PARTS = ["succeeded", "failed", "running", "pending"];

/** A bar split into succeeded / failed / running / pending run groups, with a caption. */
export function progressBar(progress) {
  const bar = h("div", { class: "progress", role: "img", "aria-label": PARTS.map((p) => `${progress[p]} ${p}`).join(", ") });
  for (const part of PARTS) {
    if (!progress[part]) continue;
    const segment = h("span", { class: `seg g-${part}`, title: `${progress[part]} ${part}` });
    segment.style.width = `${(progress[part] / Math.max(progress.total, 1)) * 100}%`;
    bar.append(segment);
  }
  return h("div", { class: "progress-box", dataset: PARTS.reduce((d, p) => ({ ...d, [p]: String(progress[p]) }), {}) },
    bar, h("span", { class: "muted" }, `${progress.succeeded}/${progress.total} runs succeeded` + (progress.failed ? `, ${progress.failed} failed` : "") + (progress.running ? `, ${progress.running} running` : "")));
}

export function createHint() {
  return h("div", { class: "notice", id: "backfill-hint" },
    "Create a backfill on the command line, ",
    h("code", {}, "legato backfill SELECTION --from KEY --to KEY --detach"),
    " (add ", h("code", {}, "--missing-only"), " to skip what is materialized), or with ",
    h("code", {}, "POST /api/v1/backfills"),
    ": the daemon plans it with your project's code and drives it. Follow, pause, resume and cancel them here.");
}

export function keysText(b) {
  if (!b.keys) return "–";
  return b.keys === 1 ? b.first_key : `${b.first_key} … ${b.last_key} (${b.keys.toLocaleString()} keys)`;
}

export async function render(view, _params, { query }) {
  const status = h("select", { id: "bf-status" }, STATUSES.map((s) => h("option", { value: s, selected: s === (query.get("status") || "") }, s || "any status")));
  const table = h("div");
  const pager = h("div", { class: "pager toolbar" });
  const cursors = [null];
  let timer = null;

  async function load() {
    let data;
    try {
      data = await api.get("/backfills", { status: status.value, cursor: cursors[cursors.length - 1], limit: 50 });
    } catch (err) {
      mount(table, errorBox(err));
      return;
    }
    mount(table, data.backfills.length === 0 ? h("p", { class: "muted" }, "No backfills match.") : h("table", { id: "backfills-table" },
      h("thead", {}, h("tr", {}, ["Backfill", "Status", "Selection", "Keys", "Progress", "Created"].map((t) => h("th", {}, t)))),
      h("tbody", {}, data.backfills.map((b) => h("tr", { dataset: { backfillId: b.backfill_id, status: b.status } },
        h("td", {}, h("a", { href: `#/backfills/${encodeURIComponent(b.backfill_id)}`, class: "mono" }, b.backfill_id)),
        h("td", {}, badge(b.status)), h("td", { class: "mono" }, b.selection),
        h("td", { class: "mono" }, keysText(b)), h("td", {}, progressBar(b.progress)),
        h("td", {}, when(b.created_at)))))));
    mount(pager,
      h("button", { type: "button", disabled: cursors.length === 1, on: { click: () => { cursors.pop(); load(); } } }, "Newer"),
      h("button", { type: "button", disabled: !data.next_cursor, on: { click: () => { cursors.push(data.next_cursor); load(); } } }, "Older"));
  }

  status.addEventListener("change", () => { cursors.splice(1); load(); });
  mount(view, h("h1", {}, "Backfills"), createHint(), h("div", { class: "toolbar" }, status), table, pager);
  await load();
  timer = setInterval(() => { if (cursors.length === 1) load(); }, 5000);
  return () => clearInterval(timer);
}
