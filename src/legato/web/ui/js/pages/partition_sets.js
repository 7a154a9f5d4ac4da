// Dynamic partition sets: every set with its size and the assets it partitions; one set's keys
// (paged, filtered by prefix), and for operators adding keys and removing one.
import { api } from "../api.js";
import { h, mount } from "../dom.js";
import { assetLink, canOperate, errorBox, when } from "../format.js";

async function listSets(view) {
  const data = await api.get("/partitions/sets");
  mount(view,
    h("h1", {}, "Partition sets"),
    h("p", { class: "muted" }, "Dynamic partition sets grow and shrink at run time (tenants, files); time and static partitions are shown on each asset's page."),
    data.sets.length === 0 ? h("p", { class: "muted" }, "No asset uses dynamic partitions.") : h("table", { id: "sets-table" },
      h("thead", {}, h("tr", {}, ["Set", "Keys", "Assets"].map((t) => h("th", {}, t)))),
      h("tbody", {}, data.sets.map((s) => h("tr", { dataset: { set: s.name } },
        h("td", {}, h("a", { href: `#/partitions/${encodeURIComponent(s.name)}`, class: "mono" }, s.name)),
        h("td", {}, s.count.toLocaleString()),
        h("td", {}, s.assets.flatMap((k, i) => [i ? ", " : "", assetLink(k)])))))));
}

export async function render(view, [name], context) {
  if (!name) return listSets(view);
  return renderSet(view, name, context);
}

async function renderSet(view, name, { me }) {
  const prefix = h("input", { id: "set-prefix", placeholder: "keys starting with", size: 20, maxlength: 256 });
  const table = h("div");
  const pager = h("div", { class: "pager toolbar" });
  const message = h("div");
  const header = h("div");
  const cursors = [null];

  async function remove(key) {
    if (!window.confirm(`Remove ${key} from ${name}? Its materializations are kept.`)) return;
    try {
      await api.del(`/partitions/sets/${encodeURIComponent(name)}/${encodeURIComponent(key)}`);
      mount(message);
    } catch (err) {
      mount(message, errorBox(err));
    }
    load();
  }

  async function load() {
    let data;
    try {
      data = await api.get(`/partitions/sets/${encodeURIComponent(name)}`, { prefix: prefix.value, cursor: cursors[cursors.length - 1], limit: 200 });
    } catch (err) {
      mount(table, errorBox(err));
      return;
    }
    mount(header, h("h1", {}, "Partition set ", h("span", { class: "mono" }, data.name), ` (${data.count.toLocaleString()} keys)`),
      h("p", {}, "Partitions ", data.assets.length ? data.assets.flatMap((k, i) => [i ? ", " : "", assetLink(k)]) : "no asset of the current definitions", "."));
    mount(table, data.keys.length === 0 ? h("p", { class: "muted" }, "No keys match.") : h("table", { id: "set-keys" },
      h("thead", {}, h("tr", {}, ["Key", "Added", "By", ""].map((t) => h("th", {}, t)))),
      h("tbody", {}, data.keys.map((k) => h("tr", { dataset: { key: k.key } },
        h("td", { class: "mono" }, k.key), h("td", {}, when(k.added_at)), h("td", {}, k.added_by),
        h("td", {}, canOperate(me) ? h("button", { type: "button", class: "danger", on: { click: () => remove(k.key) } }, "Remove") : null))))));
    mount(pager,
      h("button", { type: "button", disabled: cursors.length === 1, on: { click: () => { cursors.pop(); load(); } } }, "Previous"),
      h("button", { type: "button", disabled: !data.next_cursor, on: { click: () => { cursors.push(data.next_cursor); load(); } } }, "Next"));
  }

  const keys = h("input", { id: "add-keys", size: 40, placeholder: "new keys, separated by commas" });
  const add = h("form", { class: "toolbar", id: "add-keys-form", on: { submit: async (event) => {
    event.preventDefault();
    const list = keys.value.split(",").map((k) => k.trim()).filter(Boolean);
    if (list.length === 0) return;
    try {
      const data = await api.post(`/partitions/sets/${encodeURIComponent(name)}`, { keys: list });
      keys.value = "";
      mount(message, h("div", { class: "notice" }, `added ${data.added.length} key(s)` + (data.already_present.length ? `, ${data.already_present.length} already there` : "")));
    } catch (err) {
      mount(message, errorBox(err));
    }
    load();
  } } }, keys, h("button", { type: "submit", class: "primary", disabled: !canOperate(me) }, "Add keys"),
  canOperate(me) ? null : h("span", { class: "muted" }, "(operators can add keys)"));
  mount(view, header, add, message,
    h("form", { class: "toolbar", on: { submit: (e) => { e.preventDefault(); cursors.splice(1); load(); } } }, prefix, h("button", { type: "submit" }, "Filter")),
    table, pager);
  await load();
}
