// API tokens: the caller's own (create with a lifetime, see when each expires and was last used,
// revoke), and for admins every user's tokens with a revoke button each. A new token's secret is
// shown once, here, and never again.
import { api } from "../api.js";
import { h, mount } from "../dom.js";
import { badge, errorBox, when } from "../format.js";

const LIFETIMES = [["", "the server's default"], ["7d", "7 days"], ["30d", "30 days"], ["90d", "90 days"], ["365d", "1 year"]];

function tokenTable(id, tokens, revoke) {
  if (tokens.length === 0) return h("p", { class: "muted" }, "No tokens.");
  return h("table", { id },
    h("thead", {}, h("tr", {}, ["Token", "Label", "State", "Created", "Expires", "Last used", ""].map((t) => h("th", {}, t)))),
    h("tbody", {}, tokens.map((t) => h("tr", { dataset: { tokenId: t.token_id, state: t.state } },
      h("td", { class: "mono" }, t.token_id),
      h("td", {}, t.label || "–"),
      h("td", {}, badge(t.state)),
      h("td", {}, when(t.created_at)),
      h("td", {}, t.state === "revoked" ? `revoked ${when(t.revoked_at)}` : when(t.expires_at)),
      h("td", {}, t.last_used_at ? when(t.last_used_at) : "never"),
      h("td", {}, t.state === "active"
        ? h("button", { type: "button", class: "danger", on: { click: (event) => revoke(t, event.target) } }, "Revoke")
        : null)))));
}

export async function render(view, _params, { me }) {
  const message = h("div");
  const mine = h("div");
  const created = h("div");
  const others = h("div");

  async function revoke(path, t, button) {
    if (!window.confirm(`Revoke token ${t.token_id}${t.label ? ` (${t.label})` : ""}? Whatever uses it stops working at once.`)) return;
    button.disabled = true;
    try {
      await api.del(path);
      mount(message);
    } catch (err) {
      mount(message, errorBox(err));
    }
    await load();
  }

  async function loadMine() {
    if (me.via === "local") {
      mount(mine, h("p", { class: "notice" }, "The local-mode admin has no API tokens: create a user ('legato users add NAME --role admin') and log in as it."));
      return;
    }
    const data = await api.get("/tokens");
    mount(mine, tokenTable("my-tokens", data.tokens, (t, button) => revoke(`/tokens/${t.token_id}`, t, button)));
  }

  async function loadOthers() {
    if (me.role !== "admin") return;
    const { users } = await api.get("/users");
    const lists = await Promise.all(users.map((u) => api.get(`/users/${encodeURIComponent(u.name)}/tokens`)));
    mount(others, h("h2", {}, "Every user's tokens"),
      users.map((u, i) => h("section", { class: "panel", dataset: { user: u.name } },
        h("h3", {}, `${u.name} · ${u.role}${u.active ? "" : " · deactivated"}`),
        tokenTable(`tokens-${u.name}`, lists[i].tokens,
          (t, button) => revoke(`/users/${encodeURIComponent(u.name)}/tokens/${t.token_id}`, t, button)))));
  }

  async function load() {
    try {
      await Promise.all([loadMine(), loadOthers()]);
    } catch (err) {
      mount(message, errorBox(err));
    }
  }

  const label = h("input", { id: "token-label", placeholder: "what it is for", maxlength: 128 });
  const lifetime = h("select", { id: "token-lifetime" }, LIFETIMES.map(([value, text]) => h("option", { value }, text)));
  const form = h("form", { class: "toolbar", on: { submit: async (event) => {
    event.preventDefault();
    try {
      const body = { label: label.value };
      if (lifetime.value) body.expires_in = lifetime.value;
      const token = await api.post("/tokens", body);
      label.value = "";
      mount(created, h("div", { class: "notice", id: "new-token" },
        h("p", {}, `Token ${token.token_id}, expires ${when(token.expires_at)}. Copy it now: it is not shown again. Send it as `, h("code", {}, "Authorization: Bearer <token>"), "."),
        h("code", { class: "secret" }, token.token)));
      mount(message);
    } catch (err) {
      mount(message, errorBox(err));
    }
    await load();
  } } },
  h("label", { for: "token-label" }, "Label"), label,
  h("label", { for: "token-lifetime" }, "Lasts"), lifetime,
  h("button", { class: "primary", type: "submit", disabled: me.via === "local" }, "Create token"));

  mount(view, h("h1", {}, "API tokens"),
    h("p", { class: "muted" }, "Scripts send a token as 'Authorization: Bearer <token>'. Tokens expire; a revoked or expired one gets 401 saying so."),
    form, created, message, h("h2", {}, "Your tokens"), mine, others);
  await load();
}
