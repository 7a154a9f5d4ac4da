// The UI shell: a hash router that renders one page at a time into <main id="view">.
import { api, session } from "./api.js";
import { h, mount } from "./dom.js";
import { errorBox } from "./format.js";
import * as overview from "./pages/overview.js";
import * as lineage from "./pages/lineage.js";
import * as asset from "./pages/asset.js";
import * as runs from "./pages/runs.js";
import * as run from "./pages/run.js";
import * as errors from "./pages/errors.js";
import * as backfills from "./pages/backfills.js";
import * as backfill from "./pages/backfill.js";
import * as automation from "./pages/automation.js";
import * as alerts from "./pages/alerts.js";
import * as partitionSets from "./pages/partition_sets.js";
import * as login from "./pages/login.js";
import * as tokens from "./pages/tokens.js";

const ROUTES = [
  [/^#?\/?$/, overview],
  [/^#\/lineage$/, lineage],
  [/^#\/assets\/([^/]+)$/, asset],
  [/^#\/runs$/, runs],
  [/^#\/runs\/([^/]+)$/, run],
  [/^#\/backfills$/, backfills],
  [/^#\/backfills\/([^/]+)$/, backfill],
  [/^#\/automation$/, automation],
  [/^#\/alerts$/, alerts],
  [/^#\/partitions$/, partitionSets],
  [/^#\/partitions\/([^/]+)$/, partitionSets],
  [/^#\/errors$/, errors],
  [/^#\/tokens$/, tokens],
  [/^#\/login$/, login],
];

let cleanup = null;
let me = null;

async function showUser() {
  const who = document.getElementById("who");
  const logout = document.getElementById("logout");
  try {
    const data = await session();
    me = data.user;
  } catch {
    me = null;
  }
  who.textContent = me ? `${me.name} · ${me.role}` : "";
  logout.hidden = !me || me.via === "local";
  document.getElementById("nav-tokens").hidden = !me;
  return me;
}

let renders = 0;

async function render() {
  if (cleanup) { cleanup(); cleanup = null; }
  const view = document.getElementById("view");
  view.removeAttribute("data-run-status");
  view.removeAttribute("data-backfill-status");
  // Each render draws into its own element: if the user navigates again before a slow page
  // finished loading, the stale page draws into a detached element and is thrown away.
  const root = h("div");
  view.replaceChildren(root);
  const mine = ++renders;
  const hash = window.location.hash || "#/";
  const pathOnly = hash.split("?")[0];
  for (const [pattern, page] of ROUTES) {
    const match = pathOnly.match(pattern);
    if (!match) continue;
    if (page !== login && !me) {
      window.location.hash = "#/login";
      return;
    }
    const params = match.slice(1).map(decodeURIComponent);
    const query = new URLSearchParams(hash.split("?")[1] || "");
    let done = null;
    try {
      done = (await page.render(root, params, { query, me, refreshUser: showUser })) || null;
    } catch (err) {
      mount(root, h("h1", {}, "Something went wrong"), errorBox(err));
    }
    if (mine === renders) cleanup = done;
    else if (done) done();
    return;
  }
  mount(root, h("h1", {}, "Not found"), h("p", {}, h("a", { href: "#/" }, "Back to the overview")));
}

async function checkErrors() {
  try {
    const data = await api.get("/definitions/errors");
    document.getElementById("nav-errors").hidden = data.errors.length === 0;
  } catch {
    /* not logged in yet */
  }
}

async function start() {
  document.getElementById("logout").addEventListener("click", async () => {
    await api.del("/session").catch(() => null);
    me = null;
    await showUser();
    window.location.hash = "#/login";
  });
  window.addEventListener("hashchange", async () => {
    if (!me) await showUser();
    render();
  });
  await showUser();
  if (me) checkErrors();
  render();
}

start();
