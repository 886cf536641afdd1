// Spec files of the CLI: JSON read with errors that name the line, checked locally before
// anything is sent.
import { dirname, resolve } from "node:path";
import { movieRequest } from "../packages/shared/src/movie.ts";

export class CliError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
  }
}

/** Nesting a spec never needs (it is 4 deep); deeper JSON is refused before it overflows the stack. */
const MAX_DEPTH = 64;
// A JSON number or literal, matched where the scan stands (sticky: no copy, no search ahead).
const TOKEN = /-?\d+(\.\d+)?([eE][-+]?\d+)?|true|false|null/y;

/** The 1-based line where the value at a path (["scenes", "1", "duration"]) starts in JSON
 * text, or null; text that is not JSON throws a CliError naming its line and column. One pass
 * over the text: the spec file is the user's, its error line must come back at once. */
export function jsonLine(text: string, path: string[], file = "spec"): number | null {
  let i = 0;
  let line = 1;
  let lineStart = 0;
  let found: number | null = null;
  const fail = (what: string): never => {
    throw new CliError("INVALID_REQUEST", `${file}:${line}:${i - lineStart + 1}: not valid JSON: ${what}`);
  };
  const space = () => {
    for (; i < text.length && /\s/.test(text[i]); i++) if (text[i] === "\n") (line++, lineStart = i + 1);
  };
  const string = (): string => {
    if (text[i] !== '"') fail(`expected a string, found ${text[i] ? `"${text[i]}"` : "the end"}`);
    let j = i + 1;
    while (j < text.length && text[j] !== '"' && text[j] !== "\n") j += text[j] === "\\" ? 2 : 1;
    if (text[j] !== '"') fail("a string is not closed");
    const s = JSON.parse(text.slice(i, j + 1));
    i = j + 1;
    return s;
  };
  /** The value at depth `depth`; `onPath` when the keys above it are path[0..depth). */
  const value = (depth: number, onPath: boolean): void => {
    space();
    if (depth > MAX_DEPTH) fail(`nested deeper than ${MAX_DEPTH} levels`);
    if (found === null && onPath && depth === path.length) found = line;
    const open = text[i];
    const child = (key: string) => value(depth + 1, onPath && path[depth] === key);
    if (open === "{" || open === "[") {
      const close = open === "{" ? "}" : "]";
      i++;
      space();
      if (text[i] === close) return void i++;
      for (let n = 0; ; n++) {
        space();
        if (open === "{") {
          const key = string();
          space();
          if (text[i++] !== ":") (i--, fail(`expected ":" after "${key}"`));
          child(key);
        } else child(String(n));
        space();
        if (text[i] === close) return void i++;
        if (text[i] !== ",") fail(`expected "," or "${close}", found ${text[i] ? `"${text[i]}"` : "the end"}`);
        i++;
      }
    }
    if (open === '"') return void string();
    TOKEN.lastIndex = i;
    const token = TOKEN.exec(text)?.[0];
    if (!token) fail(`unexpected ${open ? `"${open}"` : "end of the file"}`);
    i += token!.length;
  };
  value(0, true);
  space();
  if (i < text.length) fail(`unexpected "${text[i]}" after the end`);
  return found;
}

export async function readSpec(file: string | undefined): Promise<{ spec: Record<string, any>; text: string }> {
  if (!file) throw new CliError("INVALID_REQUEST", "a spec file is required");
  const text = await Deno.readTextFile(file).catch(() => {
    throw new CliError("INVALID_REQUEST", `cannot read ${file}`);
  });
  jsonLine(text, [], file); // names the line of a syntax error
  const spec: Record<string, any> = JSON.parse(text);
  if (!spec || typeof spec !== "object" || Array.isArray(spec)) throw new CliError("INVALID_REQUEST", `${file}: a spec is a JSON object`);
  if (!("template" in spec)) {
    const checked = movieRequest.safeParse(await asUploaded(spec, dirname(resolve(file))));
    if (!checked.success) {
      const issue = checked.error.issues[0];
      const line = jsonLine(text, issue.path.map(String)) ?? jsonLine(text, issue.path.slice(0, -1).map(String));
      throw new CliError("INVALID_REQUEST", `${file}${line ? `:${line}` : ""}: ${issue.path.join(".") || "spec"}: ${issue.message}`);
    }
  }
  return { spec, text };
}

/** The spec's fields that name files: local ones are uploaded as assets before it is sent. */
export const FILE_FIELDS = { scene: ["firstFrame", "lastFrame", "avatar"], effects: ["backgroundMusic"] } as const;
/** An asset id a local file stands for while the spec is checked (it is uploaded only after). */
const UPLOADED = "00000000-0000-4000-8000-000000000000";

/** The spec as it will be sent: each field naming a readable local file holds an asset id. */
async function asUploaded(spec: Record<string, any>, specDir: string) {
  const local = async (v: unknown) => typeof v === "string" && (await Deno.stat(resolve(specDir, v)).then((s) => s.isFile, () => false));
  const copy = structuredClone(spec);
  for (const scene of Array.isArray(copy.scenes) ? copy.scenes : []) {
    for (const key of FILE_FIELDS.scene) if (await local(scene?.[key])) scene[key] = UPLOADED;
  }
  for (const key of FILE_FIELDS.effects) if (await local(copy.effects?.[key])) copy.effects[key] = UPLOADED;
  return copy;
}
