// One run: status, actions (cancel, re-run all, from failure or selected steps), steps coloured by
// live status, timeline and logs.
import { api } from "../api.js";
import { h, mount } from "../dom.js";
import { assetLink, badge, duration, errorBox, runLink, shortJson, when } from "../format.js";
import { gantt } from "./gantt.js";
import { logView } from "./logview.js";

export async function render(view, [runId], { me }) {
  const operator = me && (me.role === "operator" || me.role === "admin");
  const header = h("div");
  const actions = h("div", { class: "toolbar" });
  const message = h("div");
  const stepsBox = h("div");
  const failuresBox = h("div", { id: "step-failures" });
  const timeline = h("div");
  let logs = null;
  let timer = null;
  let finished = false;
  const selected = new Set(); // nodes ticked for "Re-run selected"
  let current = null;

  async function act(path, body) {
    try {
      const data = await api.post(path, body);
      mount(message);
      if (data?.run?.run_id) window.location.hash = `#/runs/${encodeURIComponent(data.run.run_id)}`;
      else refresh();
    } catch (err) {
      mount(message, errorBox(err));
    }
  }

  function drawHeader(run) {
    mount(header,
      h("h1", {}, "Run ", h("span", { class: "mono" }, run.run_id), " ", badge(run.status)),
      h("dl", { class: "kv panel" },
        h("dt", {}, "Selection"), h("dd", { class: "mono" }, run.selection),
        h("dt", {}, "Pipeline"), h("dd", {}, run.pipeline || "–"),
        h("dt", {}, "Partition"), h("dd", { class: "mono" }, run.partition || "–"),
        h("dt", {}, "Trigger"), h("dd", {}, run.trigger),
        h("dt", {}, "Created"), h("dd", {}, when(run.created_at)),
        h("dt", {}, "Duration"), h("dd", {}, duration(run.duration)),
        run.parent_run_id ? [h("dt", {}, "Re-run of"), h("dd", {}, runLink(run.parent_run_id), run.from_failure ? " (from failure)" : "")] : null,
        Object.keys(run.tags).length ? [h("dt", {}, "Tags"), h("dd", { class: "mono" }, shortJson(run.tags))] : null,
        run.error ? [h("dt", {}, "Error"), h("dd", { class: "mono", id: "run-error" }, errorHeadline(run.error))] : null));
    const active = ["queued", "running"].includes(run.status);
    const done = ["failed", "cancelled", "succeeded"].includes(run.status);
    mount(actions,
      h("button", { type: "button", class: "danger", id: "cancel-run", disabled: !operator || !active, on: { click: () => act(`/runs/${encodeURIComponent(run.run_id)}/cancel`) } }, "Cancel"),
      h("button", { type: "button", id: "rerun-failure", disabled: !operator || !done || run.status === "succeeded", on: { click: () => act(`/runs/${encodeURIComponent(run.run_id)}/rerun`, { from_failure: true }) } }, "Re-run from failure"),
      h("button", { type: "button", id: "rerun-all", disabled: !operator || !done, on: { click: () => act(`/runs/${encodeURIComponent(run.run_id)}/rerun`, { from_failure: false }) } }, "Re-run all"),
      h("button", { type: "button", id: "rerun-selected", disabled: !operator || !done || selected.size === 0, on: { click: () => act("/runs", { selection: [...selected], partition: run.partition, config: run.config || {} }) } }, `Re-run selected (${selected.size})`));
  }

  function drawSteps(steps) {
    mount(stepsBox, steps.length === 0 ? h("p", { class: "muted" }, "Not planned yet: the daemon plans queued runs.") : h("table", { id: "steps" },
      h("thead", {}, h("tr", {}, ["", "Step", "Kind", "Status", "Attempt", "Started", "Duration", "Error"].map((t) => h("th", {}, t)))),
      h("tbody", {}, steps.map((s) => h("tr", { dataset: { step: s.step_key, status: s.status } },
        h("td", {}, !/#\d+$/.test(s.step_key) ? h("input", { type: "checkbox", class: "pick", "aria-label": `select ${s.node}`, checked: selected.has(s.node), on: { change: (e) => { if (e.target.checked) selected.add(s.node); else selected.delete(s.node); if (current) drawHeader(current); } } }) : null),
        h("td", {}, s.kind === "asset" ? assetLink(s.node) : s.node, s.step_key !== s.node ? h("span", { class: "mono muted" }, ` ${s.step_key.slice(s.node.length)}`) : null),
        h("td", {}, s.kind), h("td", {}, badge(s.status)), h("td", {}, String(s.attempt)),
        h("td", {}, when(s.started_at)), h("td", {}, s.started_at ? duration((s.ended_at || Date.now() / 1000) - s.started_at) : "–"),
        h("td", { class: "mono" }, s.error ? shortJson(errorHeadline(s.error)) : ""))))));
    const failed = steps.filter((s) => s.error && s.status !== "succeeded" && s.status !== "reused");
    mount(failuresBox, failed.length === 0 ? null : [h("h2", {}, "Failures"), failed.map((s) =>
      h("div", { class: "failure", dataset: { step: s.step_key } },
        h("h3", {}, s.step_key, h("span", { class: "muted" }, ` ${s.status}, attempt ${s.attempt}`)),
        h("pre", { class: "traceback" }, [errorHeadline(s.error), s.error.traceback ? `\n\n${s.error.traceback}` : ""].join(""))))]);
  }

  async function refresh() {
    let data;
    try {
      data = await api.get(`/runs/${encodeURIComponent(runId)}/steps`);
    } catch (err) {
      mount(message, errorBox(err));
      return;
    }
    current = data.run;
    drawHeader(data.run);
    drawSteps(data.steps);
    mount(timeline, gantt(data.run, data.steps));
    if (!logs && data.steps.length) {
      logs = logView(data.run.run_id, data.steps.map((s) => s.step_key));
      logsBox.append(logs.node);
    }
    finished = ["succeeded", "failed", "cancelled"].includes(data.run.status);
    if (finished && timer) { clearInterval(timer); timer = null; }
    if (view.isConnected) document.getElementById("view").dataset.runStatus = data.run.status;
  }

  const logsBox = h("div");
  mount(view, header, actions, message, h("h2", {}, "Steps"), stepsBox, failuresBox, h("h2", {}, "Timeline"), timeline, logsBox);
  await refresh();
  if (!finished) timer = setInterval(refresh, 1000);
  return () => {
    if (timer) clearInterval(timer);
    if (logs) logs.stop();
  };
}

/** "Type: message" of a recorded error ({type, message, traceback}). */
function errorHeadline(error) {
  return [error.type, error.message].filter(Boolean).join(": ");
}
