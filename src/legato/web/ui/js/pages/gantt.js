// The run's timeline: one row per step, one bar per attempt, coloured by the attempt's outcome.
import { h } from "../dom.js";
import { STATUS_COLORS, duration } from "../format.js";

export function gantt(run, steps) {
  const starts = steps.flatMap((s) => s.attempts.map((a) => a.started_at)).filter((t) => t);
  if (starts.length === 0) return h("p", { class: "muted" }, "No step has started yet.");
  const now = Date.now() / 1000;
  const t0 = Math.min(...starts);
  const ends = steps.flatMap((s) => s.attempts.map((a) => a.ended_at || now));
  const t1 = Math.max(run.ended_at || 0, ...ends, t0 + 0.001);
  const span = t1 - t0;
  const rows = steps.filter((s) => s.attempts.length).map((s) => {
    const track = h("div", { class: "track" });
    for (const a of s.attempts) {
      const end = a.ended_at || now;
      const bar = h("div", { class: "bar", title: `${s.step_key} attempt ${a.attempt}: ${a.status}, ${duration(end - a.started_at)}` });
      // CSSOM writes are allowed by the CSP (style-src 'self' restricts inline style attributes only).
      bar.style.left = `${((a.started_at - t0) / span) * 100}%`;
      bar.style.width = `${Math.max(((end - a.started_at) / span) * 100, 0.2)}%`;
      bar.style.background = STATUS_COLORS[a.status] || STATUS_COLORS.pending;
      track.append(bar);
    }
    return h("div", { class: "row", dataset: { step: s.step_key } }, h("div", { class: "label", title: s.step_key }, s.step_key), track);
  });
  return h("div", { class: "gantt", id: "gantt" }, rows,
    h("div", { class: "muted row" }, h("div", { class: "label" }, `total ${duration(span)}`)));
}
