// Building the page without ever parsing strings as HTML: every user-controlled string goes
// through textContent or a checked attribute, so markup in a name, description or log line
// stays inert text.

const SAFE_URL = /^(https?:\/\/|#\/|\/)/i;

/** The URL if it is http(s), an in-app hash route or a same-origin path; else null. */
export function safeHref(url) {
  const text = String(url ?? "");
  if (!SAFE_URL.test(text) || text.startsWith("//")) return null;
  return text;
}

/**
 * h("a", {href: "#/runs", class: "x", on: {click: fn}}, "text", child)
 * Strings become text nodes; null/false children are skipped; arrays are flattened.
 */
export function h(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "on") {
      for (const [event, fn] of Object.entries(value)) node.addEventListener(event, fn);
    } else if (key === "class") {
      node.className = value;
    } else if (key === "href") {
      const href = safeHref(value);
      if (href) node.setAttribute("href", href);
    } else if (key === "dataset") {
      Object.assign(node.dataset, value);
    } else if (key.startsWith("on")) {
      throw new Error("use the on: {} prop for listeners");
    } else if (value === true) {
      node.setAttribute(key, "");
    } else {
      node.setAttribute(key, String(value));
    }
  }
  append(node, children);
  return node;
}

export function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** Replace the children of `node`. */
export function mount(node, ...children) {
  node.replaceChildren();
  return append(node, children);
}

/** A link to an http(s) URL opened in a new tab, or plain text when it is not one. */
export function externalLink(url) {
  const text = String(url ?? "");
  if (!/^https?:\/\//i.test(text)) return document.createTextNode(text);
  return h("a", { href: text, target: "_blank", rel: "noopener noreferrer" }, text);
}
