// Small formatting helpers shared by the pages.
import { h } from "./dom.js";

export function when(ts) {
  if (ts === null || ts === undefined) return "–";
  const d = new Date(ts * 1000);
  const today = new Date();
  const time = d.toLocaleTimeString([], { hour12: false });
  return d.toDateString() === today.toDateString() ? time : `${d.toISOString().slice(0, 10)} ${time}`;
}

export function duration(seconds) {
  if (seconds === null || seconds === undefined) return "–";
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  if (seconds < 120) return `${seconds.toFixed(1)} s`;
  return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
}

export function badge(status) {
  const text = String(status || "never");
  const cls = /^[a-z_]+$/.test(text) ? `badge s-${text}` : "badge";
  return h("span", { class: cls, dataset: { status: text } }, text);
}

export function errorBox(err) {
  const e = err?.error || {};
  return h("div", { class: "error-box", role: "alert" },
    e.message || String(err?.message || err),
    e.hint ? h("div", { class: "muted" }, `fix: ${e.hint}`) : null);
}

export function canOperate(me) {
  return Boolean(me && (me.role === "operator" || me.role === "admin"));
}

export function runLink(runId) {
  return h("a", { href: `#/runs/${encodeURIComponent(runId)}`, class: "mono" }, runId);
}

export function assetLink(key) {
  return h("a", { href: `#/assets/${encodeURIComponent(key)}` }, key);
}

export function shortJson(value) {
  if (value === null || value === undefined) return "";
  const text = typeof value === "string" ? value : JSON.stringify(value);
  return text.length > 300 ? `${text.slice(0, 297)}…` : text;
}

export const STATUS_COLORS = {
  succeeded: "#2e9e5b", materialized: "#2e9e5b", failed: "#d64545", running: "#e0a100",
  canceling: "#e0a100", retrying: "#b048c8", reused: "#1b9fb0", cancelled: "#9b3030",
  skipped: "#b9c0cc", pending: "#8a94a6", queued: "#8a94a6", never: "#cfd5df",
  in_progress: "#e0a100", missing: "#e3e7ee",
};
