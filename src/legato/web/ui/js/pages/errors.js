// Definition errors the loader recorded with the latest snapshot.
import { api } from "../api.js";
import { h, mount } from "../dom.js";

export async function render(view) {
  const data = await api.get("/definitions/errors");
  if (data.errors.length === 0) {
    mount(view, h("h1", {}, "Definition errors"), h("p", { class: "muted" }, "The project loaded without errors."));
    return;
  }
  mount(view,
    h("h1", {}, `Definition errors (${data.errors.length})`),
    data.errors.map((e) => h("div", { class: "error-box" },
      h("strong", {}, e.message),
      e.source ? h("div", { class: "mono" }, `at ${e.source}`) : null,
      e.hint ? h("div", {}, `fix: ${e.hint}`) : null)));
}
