// A run's config as a form, made from its JSON Schema (GET /api/v1/config-schema): one fieldset
// per step; a flat object of strings, numbers, booleans and enums gets an input per field, any
// other shape a JSON textarea. An empty input leaves the field to its default.
import { h } from "../dom.js";

const SCALARS = new Set(["string", "integer", "number", "boolean"]);

function resolve(schema, root) {
  const ref = schema?.$ref;
  if (typeof ref !== "string" || !ref.startsWith("#/$defs/")) return schema || {};
  return root.$defs?.[ref.slice("#/$defs/".length)] || {};
}

// The field's kind when it is a plain scalar or an enum (Optional[...] included), else null.
function scalarKind(schema, root) {
  let s = resolve(schema, root);
  const options = s.anyOf || s.oneOf;
  if (options) {
    const kept = options.map((o) => resolve(o, root)).filter((o) => o.type !== "null");
    if (kept.length !== 1) return null;
    s = kept[0];
  }
  if (Array.isArray(s.enum) && s.enum.every((v) => ["string", "number"].includes(typeof v))) return { enum: s.enum };
  return SCALARS.has(s.type) ? { type: s.type } : null;
}

function isFlat(schema, root) {
  const s = resolve(schema, root);
  return s.type === "object" && s.properties && Object.values(s.properties).every((p) => scalarKind(p, root));
}

function fieldInput(step, name, kind, required, initial) {
  const id = `config-${step}-${name}`.replace(/[^A-Za-z0-9_-]/g, "_");
  let input;
  if (kind.enum || kind.type === "boolean") {
    const values = kind.enum || [true, false];
    input = h("select", { id, name },
      h("option", { value: "" }, required ? "(choose)" : "(default)"),
      values.map((v) => h("option", { value: JSON.stringify(v), selected: initial === v }, String(v))));
  } else {
    const type = kind.type === "string" ? "text" : "number";
    input = h("input", { id, name, type, step: kind.type === "integer" ? "1" : "any",
      placeholder: required ? "required" : "default",
      value: initial === undefined ? null : String(initial) });
  }
  const read = () => {
    const raw = input.value;
    if (raw === "") return undefined;
    if (kind.enum || kind.type === "boolean") return JSON.parse(raw);
    if (kind.type === "string") return raw;
    return Number(raw);  // a wrong number is refused by the server, with the fix
  };
  return { node: h("label", { class: "config-field", for: id }, h("span", {}, name), input), read };
}

function stepSection(step, schema, root, initial) {
  const s = resolve(schema, root);
  const required = new Set(s.required || []);
  const title = h("legend", { class: "mono" }, step);
  if (isFlat(schema, root)) {
    const fields = Object.entries(s.properties).map(([name, prop]) =>
      [name, fieldInput(step, name, scalarKind(prop, root), required.has(name), initial?.[name])]);
    const read = () => {
      const out = {};
      for (const [name, field] of fields) {
        const value = field.read();
        if (value !== undefined) out[name] = value;
      }
      return Object.keys(out).length ? out : undefined;
    };
    return { node: h("fieldset", { class: "config-step" }, title, fields.map(([, f]) => f.node)), read };
  }
  const area = h("textarea", { rows: 4, cols: 50, class: "mono", placeholder: "JSON object" },
    initial ? JSON.stringify(initial, null, 2) : "");
  const read = () => {
    const text = area.value.trim();
    if (!text) return undefined;
    try {
      return JSON.parse(text);
    } catch (err) {
      throw new Error(`config of ${step} is not valid JSON: ${err.message}`);
    }
  };
  return { node: h("fieldset", { class: "config-step" }, title, area), read };
}

/** The form for `schema` (null: no step takes config), filled with `defaults`. */
export function configForm(schema, defaults = {}) {
  if (!schema || !schema.properties) return { node: null, read: () => ({}) };
  const sections = Object.entries(schema.properties).map(([step, stepSchema]) =>
    [step, stepSection(step, stepSchema, schema, defaults[step])]);
  const read = () => {
    const config = {};
    for (const [step, section] of sections) {
      const value = section.read();
      if (value !== undefined) config[step] = value;
    }
    return config;
  };
  return { node: h("div", { class: "config-form", id: "launch-config" }, sections.map(([, s]) => s.node)), read };
}
