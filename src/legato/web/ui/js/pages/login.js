// Log in with a user name and password (a session cookie; the UI never sees the password again).
// In local mode the server says instead how to get in: the URL with the token `legato up` printed.
import { api, session } from "../api.js";
import { h, mount } from "../dom.js";
import { errorBox } from "../format.js";

// A 503 means the server was busy checking other logins (it checks only one or two passwords at
// a time): try again a few times, a second apart. A 429 (too many failures) is shown as it is.
async function logIn(username, password) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await api.post("/session", { username, password });
    } catch (err) {
      if (err.status !== 503 || attempt >= 4) throw err;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
}

export async function render(view, _params, { me, refreshUser }) {
  if (me) {
    window.location.hash = "#/";
    return;
  }
  const user = h("input", { id: "username", name: "username", autocomplete: "username", required: true });
  const password = h("input", { id: "password", name: "password", type: "password", autocomplete: "current-password", required: true });
  const message = h("div");
  const hint = h("p", { id: "login-hint", class: "notice", hidden: true });
  session().then((data) => {
    hint.textContent = data.login_hint || "";
    hint.hidden = !data.login_hint;
  }).catch(() => {});
  const form = h("form", { class: "panel login", on: { submit: async (event) => {
    event.preventDefault();
    try {
      await logIn(user.value, password.value);
      password.value = "";
      await refreshUser();
      window.location.hash = "#/";
    } catch (err) {
      mount(message, errorBox(err));
    }
  } } },
  h("h1", {}, "Log in to Legato"),
  hint,
  h("label", { for: "username" }, "User name"), user,
  h("label", { for: "password" }, "Password"), password,
  h("p", {}, h("button", { class: "primary", type: "submit" }, "Log in")),
  message);
  mount(view, form);
  user.focus();
}
