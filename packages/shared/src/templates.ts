// Movie templates (MovieFlow's load_template / generate_from_template): a spec whose strings
// hold {{variable}} placeholders, and scenes that repeat once per item of a list variable
// ("forEach": "features", with {{item}} and {{index}} counting from 1).
import { z } from "zod";
import { AppError } from "./errors.ts";

const variableName = z.string().regex(/^[a-z][a-z0-9_]{0,39}$/, "variable names are a-z, 0-9 and _ (up to 40)");
export const templateVariables = z.record(variableName, z.strictObject({
  type: z.enum(["text", "list"]),
  description: z.string().max(300).default(""),
  default: z.union([z.string().max(500), z.array(z.string().max(200)).max(10)]).optional(),
}));
export type TemplateVariables = z.infer<typeof templateVariables>;
type Values = Record<string, string | string[]>;

export const variableValues = z.record(z.string(), z.union([
  z.string().trim().min(1, "must not be empty").max(500),
  z.array(z.string().trim().min(1).max(200)).min(1, "must have at least one item").max(10, "at most 10 items"),
]));

const PLACEHOLDER = /\{\{\s*([a-z][a-z0-9_]*)\s*\}\}/g;
const LOOP_NAMES = ["item", "index"];

/** Every placeholder name used in a spec (loop names included). */
function placeholders(value: unknown, found = new Set<string>()): Set<string> {
  if (typeof value === "string") for (const m of value.matchAll(PLACEHOLDER)) found.add(m[1]);
  else if (Array.isArray(value)) value.forEach((v) => placeholders(v, found));
  else if (value && typeof value === "object") Object.values(value).forEach((v) => placeholders(v, found));
  return found;
}

/** A list reads as a phrase: joined with the Chinese enumeration comma when it is Chinese. */
const phrase = (items: string[]) => items.join(items.some((i) => /[\u3400-\u9fff]/.test(i)) ? "、" : ", ");

function fill(value: unknown, values: Values): unknown {
  if (typeof value === "string") {
    return value.replace(PLACEHOLDER, (_, name: string) => {
      const v = values[name];
      return Array.isArray(v) ? phrase(v) : v;
    });
  }
  if (Array.isArray(value)) return value.map((v) => fill(v, values));
  if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fill(v, values)]));
  return value;
}

/** The values a request gives, checked against the template's variables: unknown, missing
 * and mistyped ones are refused by name, defaults fill the rest. */
export function resolveValues(variables: TemplateVariables, given: Values): Values {
  const unknown = Object.keys(given).filter((k) => !(k in variables));
  if (unknown.length) {
    throw new AppError("INVALID_REQUEST", `Unknown template variables: ${unknown.join(", ")} (this template takes ${Object.keys(variables).join(", ") || "none"})`, { unknown });
  }
  const missing = Object.entries(variables).filter(([k, v]) => given[k] === undefined && v.default === undefined).map(([k]) => k);
  if (missing.length) throw new AppError("INVALID_REQUEST", `Missing template variables: ${missing.join(", ")}`, { missing });
  const values: Values = {};
  for (const [name, v] of Object.entries(variables)) {
    const value = given[name] ?? v.default!;
    if ((v.type === "list") !== Array.isArray(value)) {
      throw new AppError("INVALID_REQUEST", `Template variable ${name} must be ${v.type === "list" ? "a list of strings" : "a string"}`, { mistyped: [name] });
    }
    values[name] = value;
  }
  return values;
}

/** A rendered spec is at most this many characters: far more than a valid movie needs (six
 * scenes of short texts), and little memory. A small request against a template of many
 * placeholders would otherwise expand to hundreds of MB before validation sees it. */
export const MAX_RENDERED_CHARS = 1024 * 1024;

const filledValueLength = (v: string | string[] | undefined) => (v === undefined ? 9 : Array.isArray(v) ? phrase(v).length : v.length);

/** The characters `value` holds once filled, counted without filling it. */
function filledLength(value: unknown, values: Values): number {
  if (typeof value === "string") {
    let n = value.length;
    for (const m of value.matchAll(PLACEHOLDER)) n += filledValueLength(values[m[1]]) - m[0].length;
    return n;
  }
  if (Array.isArray(value)) return value.reduce((n: number, v) => n + filledLength(v, values), 0);
  if (value && typeof value === "object") return Object.entries(value).reduce((n, [k, v]) => n + k.length + filledLength(v, values), 0);
  return 8;
}

/** Each scene of the spec with the values it is filled with: once, or once per item. */
function sceneFills(spec: Record<string, unknown>, values: Values): [Record<string, unknown>, Values][] {
  return (Array.isArray(spec.scenes) ? spec.scenes : []).flatMap((scene: Record<string, unknown>) => {
    const { forEach, ...rest } = scene;
    if (typeof forEach !== "string") return [[rest, values]];
    return (values[forEach] as string[]).map((item, i) => [rest, { ...values, item, index: String(i + 1) }] as [Record<string, unknown>, Values]);
  });
}

/** The spec with every placeholder filled and every forEach scene repeated per item; refused
 * from its counts, before anything is filled, when it would exceed MAX_RENDERED_CHARS. */
export function renderTemplate(spec: Record<string, unknown>, variables: TemplateVariables, given: Values): Record<string, unknown> {
  const values = resolveValues(variables, given);
  const { scenes: _, ...rest } = spec;
  const fills = sceneFills(spec, values);
  const size = filledLength(rest, values) + fills.reduce((n, [scene, v]) => n + filledLength(scene, v), 0);
  if (size > MAX_RENDERED_CHARS) {
    throw new AppError("INVALID_REQUEST", `The template would render to ${(size / 1024 / 1024).toFixed(1)} MB; at most ${MAX_RENDERED_CHARS / 1024 / 1024} MB (use fewer placeholders or shorter values)`);
  }
  return { ...(fill(rest, values) as Record<string, unknown>), scenes: fills.map(([scene, v]) => fill(scene, v)) };
}

/** A template's own consistency: placeholders name declared variables (loop names only
 * inside a forEach scene), and forEach names a list. */
export function checkTemplate(spec: Record<string, unknown>, variables: TemplateVariables) {
  const scenes = Array.isArray(spec.scenes) ? spec.scenes as Record<string, unknown>[] : [];
  const problems: string[] = [];
  for (const [i, scene] of scenes.entries()) {
    if (scene.forEach === undefined) continue;
    if (typeof scene.forEach !== "string" || variables[scene.forEach]?.type !== "list") {
      problems.push(`scenes.${i}.forEach must name a list variable`);
    }
  }
  const outside = placeholders({ ...spec, scenes: scenes.filter((s) => s.forEach === undefined) });
  const inside = placeholders(scenes.filter((s) => s.forEach !== undefined));
  for (const name of outside) if (!(name in variables)) problems.push(`{{${name}}} is not a declared variable`);
  for (const name of inside) if (!(name in variables) && !LOOP_NAMES.includes(name)) problems.push(`{{${name}}} is not a declared variable`);
  if (problems.length) throw new AppError("INVALID_REQUEST", `The template is inconsistent: ${problems.join("; ")}`, { problems });
}

/** Sample values (defaults, else the variable's name) to check that a template renders. */
export function sampleValues(variables: TemplateVariables): Values {
  return Object.fromEntries(Object.entries(variables).map(([k, v]) => [k, v.default ?? (v.type === "list" ? [k] : k)]));
}
