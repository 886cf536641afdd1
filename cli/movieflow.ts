// movieflow: MovieFlow's CLI (seed 002, "CLI 命令"), Spec-Kit style: describe -> plan ->
// tasks -> generate, and from-spec to import a Spec-Kit spec. Specs are JSON files in the
// shape of POST video/generate (or a template request). `--mock` runs against the local
// stack's simulators (started if needed) as the demo user; otherwise MOVIEFLOW_API_URL,
// MOVIEFLOW_ANON_KEY and MOVIEFLOW_ACCESS_TOKEN (or MOVIEFLOW_EMAIL and MOVIEFLOW_PASSWORD).
import { createClient, type SupabaseClient } from "@supabase/supabase-js";
import { type Progress, ReelforgeClient, ReelforgeError } from "../packages/client/src/index.ts";
import { dirname, relative, resolve } from "node:path";
import { parseArgs } from "node:util";
import { movieRequest, MUSIC_TRACK } from "../packages/shared/src/movie.ts";
import { demoSession } from "../demo/session.ts";
import { AppError } from "../packages/shared/src/errors.ts";
import { fromSpecKit } from "../packages/shared/src/spec-kit.ts";
import { CliError, FILE_FIELDS, jsonLine, readSpec } from "./spec-file.ts";

type Api = { url: string; token: string; userId: string; supabase: SupabaseClient };
type Segment = { id: string; status: string; progress: number; videoUrl: string | null; error: { code: string; message: string } | null };
type Task = {
  taskId: string; status: string; progress: number; currentPhase: string; segments: Segment[]; videoUrl: string | null;
  duration: number | null; error: { code: string; message: string } | null; metrics?: Record<string, unknown>;
};

const HELP: Record<string, string> = {
  "video-specify": `movieflow video-specify <description> [--duration 60] [--platform douyin|wechat|bilibili] [--style cartoon|realistic|anime] [--ai gemini] [--out spec.json] [--mock]
  Drafts a spec (scenes, narration, settings) with Gemini and writes it.`,
  "video-plan": `movieflow video-plan <spec.json> [--generator volcano|gemini] [--quality low|medium|high] [--optimize speed|quality|cost] [--out planned.json] [--mock]
  Per scene the model, price and time, and the totals; --out writes the spec as the plan would run it.`,
  "video-tasks": `movieflow video-tasks <spec.json> [--parallel 5] [--priority order|longest-first] [--mock]
  The task breakdown in the order the engine runs it: scene images and narrations, segments in waves, normalisation, soundtrack, merge.`,
  "video-generate": `movieflow video-generate <spec.json> [--scene N | --all-scenes] [--preview] [--out DIR] [--mock]
  Generates the movie (or scene N alone) with live per-scene progress; --preview opens each scene as it is ready.
  Writes DIR/movie.mp4 (default out/<taskId>/) and prints the task's metrics.`,
  "from-spec": `movieflow from-spec <spec.md> [--out spec.json]
  Imports a Spec-Kit spec: its title, description and ## Requirements (FR-/NFR- lines: length, scene count, resolution, platform, style),
  or MovieFlow's ## Video Specification (- Duration: 60s, - Scenes: 6, - Resolution: 1080p). At most 32 KB.`,
};
const USAGE = `movieflow <command> [options]\n\n${Object.values(HELP).join("\n\n")}\n`;

async function connect(mock: boolean): Promise<Api> {
  if (mock) {
    const s = await demoSession();
    return { url: s.env.API_URL, token: s.accessToken, userId: s.userId, supabase: s.supabase };
  }
  const env = (name: string) => Deno.env.get(name) ?? "";
  const missing = ["MOVIEFLOW_API_URL", "MOVIEFLOW_ANON_KEY"].filter((n) => !env(n));
  if (!env("MOVIEFLOW_ACCESS_TOKEN") && !(env("MOVIEFLOW_EMAIL") && env("MOVIEFLOW_PASSWORD"))) missing.push("MOVIEFLOW_ACCESS_TOKEN (or MOVIEFLOW_EMAIL and MOVIEFLOW_PASSWORD)");
  if (missing.length) throw new CliError("UNAUTHORIZED", `set ${missing.join(", ")}, or use --mock for the local stack`);
  const supabase = createClient(env("MOVIEFLOW_API_URL"), env("MOVIEFLOW_ANON_KEY"), { auth: { persistSession: false } });
  if (env("MOVIEFLOW_ACCESS_TOKEN")) {
    const { data, error } = await supabase.auth.getUser(env("MOVIEFLOW_ACCESS_TOKEN"));
    if (error || !data.user) throw new CliError("UNAUTHORIZED", error?.message ?? "the access token is not valid");
    return { url: env("MOVIEFLOW_API_URL"), token: env("MOVIEFLOW_ACCESS_TOKEN"), userId: data.user.id, supabase };
  }
  const { data, error } = await supabase.auth.signInWithPassword({ email: env("MOVIEFLOW_EMAIL"), password: env("MOVIEFLOW_PASSWORD") });
  if (error || !data.session) throw new CliError("UNAUTHORIZED", error?.message ?? "sign-in failed");
  return { url: env("MOVIEFLOW_API_URL"), token: data.session.access_token, userId: data.user.id, supabase };
}

/** One API call; an error answer becomes a CliError naming the spec line when it names a field. */
async function call<T>(api: Api, method: string, path: string, body?: unknown, specText?: string, headers: Record<string, string> = {}): Promise<{ status: number; json: T; etag: string | null }> {
  const res = await fetch(`${api.url}/functions/v1/${path}`, {
    method,
    headers: { authorization: `Bearer ${api.token}`, ...(body === undefined ? {} : { "content-type": "application/json" }), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (res.status === 304) return { status: 304, json: null as T, etag: res.headers.get("etag") };
  const json = await res.json().catch(() => null);
  if (res.status === 429) {
    await new Promise((r) => setTimeout(r, Number(res.headers.get("retry-after") ?? 1) * 1000));
    return await call(api, method, path, body, specText, headers);
  }
  if (!res.ok) {
    const detail = json?.error?.details?.[0]?.path as string | undefined;
    const at = specText && detail ? jsonLine(specText, detail.replace(/^spec\./, "").split(".")) : null;
    throw new CliError(json?.error?.code ?? "INTERNAL_ERROR", `${at ? `line ${at}: ` : ""}${json?.error?.message ?? `HTTP ${res.status}`}`);
  }
  return { status: res.status, json, etag: res.headers.get("etag") };
}

/** Local files a spec names (frames, music, avatars) go to the user's assets first. */
async function uploadLocalFiles(api: Api, spec: Record<string, any>, specDir: string) {
  const upload = async (value: unknown, track = false): Promise<unknown> => {
    if (typeof value !== "string" || value.startsWith(`${api.userId}/`) || /^[0-9a-f-]{36}$/.test(value)) return value;
    const file = resolve(specDir, value);
    const bytes = await Deno.readFile(file).catch(() => {
      // Not a local file: music may be a track of the server's music library, named.
      if (track && MUSIC_TRACK.test(value)) return null;
      throw new CliError("INVALID_REQUEST", `cannot read ${file}`);
    });
    if (!bytes) return value;
    const name = file.split("/").pop()!;
    const type = /\.(mp3|wav|m4a)$/i.test(name) ? "audio" : /\.(mp4|mov)$/i.test(name) ? "video" : "image";
    const form = new FormData();
    form.set("file", new Blob([bytes]), name);
    form.set("type", type);
    const res = await fetch(`${api.url}/functions/v1/assets/upload`, { method: "POST", headers: { authorization: `Bearer ${api.token}` }, body: form });
    const json = await res.json();
    if (!res.ok) throw new CliError(json?.error?.code ?? "INTERNAL_ERROR", `${name}: ${json?.error?.message}`);
    return json.id;
  };
  for (const scene of spec.scenes ?? []) {
    for (const key of FILE_FIELDS.scene) if (scene[key]) scene[key] = await upload(scene[key]);
  }
  for (const key of FILE_FIELDS.effects) if (spec.effects?.[key]) spec.effects[key] = await upload(spec.effects[key], true);
}

const pad = (s: unknown, n: number) => String(s).padEnd(n);
const bar = (p: number) => "#".repeat(Math.round(p / 5)).padEnd(20, ".");

async function specify(args: string[]) {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: {
    duration: { type: "string", default: "60" }, platform: { type: "string", default: "douyin" }, style: { type: "string", default: "realistic" },
    ai: { type: "string", default: "gemini" }, out: { type: "string", default: "spec.json" }, mock: { type: "boolean", default: false },
  } });
  if (!positionals[0]) throw new CliError("INVALID_REQUEST", `a description is required\n\n${HELP["video-specify"]}`);
  if (values.ai !== "gemini") throw new CliError("INVALID_REQUEST", `--ai: only gemini drafts specs, not ${values.ai}`);
  const api = await connect(values.mock);
  const { json } = await call<{ spec: Record<string, any> }>(api, "POST", "video/specify", {
    description: positionals.join(" "), duration: Number(values.duration), platform: values.platform, style: values.style,
  });
  await Deno.writeTextFile(values.out, JSON.stringify(json.spec, null, 2) + "\n");
  console.log(`${values.out}: "${json.spec.projectName}", ${json.spec.scenes.length} scenes, ${json.spec.scenes.reduce((s: number, x: any) => s + x.duration, 0)} s`);
  for (const s of json.spec.scenes) console.log(`  ${pad(s.id, 8)} ${pad(`${s.duration} s`, 5)} ${s.prompt}\n  ${" ".repeat(14)}"${s.audio?.text ?? ""}"`);
}

type Plan = {
  optimize: string | null; quality: string; changes: string[]; spec: Record<string, unknown>;
  scenes: { id: string; kind: string; model: string; credits: number; seconds: number }[];
  extras: { item: string; credits: number }[]; totals: { credits: number; seconds: number };
};

async function planOf(args: string[], extra: Record<string, { type: "string" | "boolean"; default?: string | boolean }> = {}) {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: {
    generator: { type: "string" }, quality: { type: "string" }, optimize: { type: "string" }, out: { type: "string" }, mock: { type: "boolean", default: false }, ...extra,
  } });
  const { spec, text } = await readSpec(positionals[0]);
  const api = await connect(values.mock as boolean);
  await uploadLocalFiles(api, spec, dirname(resolve(positionals[0])));
  const { json } = await call<Plan>(api, "POST", "video/plan", {
    spec, ...(values.optimize ? { optimize: values.optimize } : {}), ...(values.quality ? { quality: values.quality } : {}), ...(values.generator ? { generator: values.generator } : {}),
  }, text);
  return { plan: json, values: values as Record<string, string | boolean | undefined> };
}

async function plan(args: string[]) {
  const { plan: p, values } = await planOf(args);
  console.log(`plan${p.optimize ? ` optimised for ${p.optimize}` : ""} (quality ${p.quality})${p.changes.map((c) => `\n  changed: ${c}`).join("")}`);
  console.log(`  ${pad("scene", 10)} ${pad("model", 34)} ${pad("price", 8)} time`);
  for (const s of p.scenes) console.log(`  ${pad(s.id, 10)} ${pad(s.model, 34)} ${pad(`${s.credits} MC`, 8)} ~${s.seconds} s`);
  for (const e of p.extras) console.log(`  ${pad(e.item, 45)} ${e.credits} MC`);
  console.log(`  total: ${p.totals.credits} MC, about ${p.totals.seconds} s`);
  if (values.out) await Deno.writeTextFile(String(values.out), JSON.stringify(p.spec, null, 2) + "\n");
}

async function tasks(args: string[]) {
  const { plan: p, values } = await planOf(args, { parallel: { type: "string", default: "5" }, priority: { type: "string", default: "order" } });
  const parallel = Math.max(1, Number(values.parallel) || 5);
  const spec = p.spec as { scenes: { id: string; sceneImage?: unknown; audio?: unknown }[] };
  const segments = values.priority === "longest-first" ? [...p.scenes].sort((a, b) => b.seconds - a.seconds) : p.scenes;
  const lines: string[] = [];
  const images = spec.scenes.filter((s) => s.sceneImage).map((s) => s.id);
  const narrations = spec.scenes.filter((s) => s.audio).map((s) => s.id);
  if (images.length) lines.push(`scene images (Gemini image, in parallel): ${images.join(", ")}`);
  if (narrations.length) lines.push(`narrations (Volcengine TTS, in parallel): ${narrations.join(", ")}`);
  let segmentSeconds = 0;
  for (let i = 0; i < segments.length; i += parallel) {
    const wave = segments.slice(i, i + parallel);
    segmentSeconds += Math.max(...wave.map((s) => s.seconds));
    lines.push(`segments, wave ${i / parallel + 1} (${wave.length} at once): ${wave.map((s) => `${s.id} [${s.model}, ~${s.seconds} s]`).join(", ")}`);
  }
  lines.push("normalise each segment as soon as it is stored (media worker)");
  if (narrations.length) lines.push("soundtrack: narrations at scene starts, music ducked, loudness (as soon as the narrations exist)");
  lines.push("merge: join the normalised segments and the soundtrack, poster");
  lines.forEach((l, i) => console.log(`${String(i + 1).padStart(2)}. ${l}`));
  console.log(`${p.scenes.length} segments, ${parallel} at a time (the engine runs up to 5): segments about ${segmentSeconds} s; ${p.totals.credits} MC`);
}

async function download(url: string, file: string) {
  const res = await fetch(url);
  if (!res.ok) throw new CliError("SERVICE_UNAVAILABLE", `could not download ${file} (HTTP ${res.status})`);
  await Deno.writeFile(file, new Uint8Array(await res.arrayBuffer()));
}

/** Opens a file with the desktop's viewer; without one (a server, CI), names it. */
/** A file as the user named its folder: relative to the working directory when inside it. */
const shortPath = (file: string) => (file.startsWith(`${Deno.cwd()}/`) ? relative(Deno.cwd(), file) : file);

async function open(file: string) {
  let opened = false;
  try {
    opened = (await new Deno.Command("xdg-open", { args: [file], stdout: "null", stderr: "null" }).output()).success;
  } catch {
    // no xdg-open here
  }
  if (!opened) console.log(`  preview: ${shortPath(file)}`);
}

/** Follows a task until it ends, live from Realtime through the SDK (reads only on joins, and
 * polls while Realtime is not joined; the SDK closes the socket when the wait ends); the final
 * task is read once. */
async function follow(api: Api, taskId: string, onChange: (p: Progress) => Promise<void>): Promise<Task> {
  const client = new ReelforgeClient(api.supabase, { url: api.url, accessToken: () => api.token });
  try {
    await client.wait(taskId, { onProgress: onChange });
    return (await call<Task>(api, "GET", `task/${taskId}`)).json;
  } catch (err) {
    if (err instanceof ReelforgeError) throw new CliError(err.code, err.message);
    throw err;
  }
}

async function generate(args: string[]) {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: {
    scene: { type: "string" }, "all-scenes": { type: "boolean", default: false }, preview: { type: "boolean", default: false },
    out: { type: "string" }, mock: { type: "boolean", default: false },
  } });
  if (values.scene && values["all-scenes"]) throw new CliError("INVALID_REQUEST", "--scene and --all-scenes exclude each other");
  const { spec, text } = await readSpec(positionals[0]);
  const api = await connect(values.mock);
  await uploadLocalFiles(api, spec, dirname(resolve(positionals[0])));
  const t0 = Date.now();
  let created: { taskId: string; credits?: number };
  if (values.scene) {
    const n = Number(values.scene);
    const s = spec.scenes?.[n - 1];
    if (!s) throw new CliError("INVALID_REQUEST", `--scene ${values.scene}: the spec has ${spec.scenes?.length ?? 0} scenes (count from 1)`);
    const hd = (spec.config?.quality ?? "high") === "high";
    const mode = s.lastFrame ? "i2v_first_tail" : s.firstFrame ? "i2v_first" : "t2v";
    const model = { t2v: hd ? "jimeng_t2v_v30_1080p" : "jimeng_t2v_v30", i2v_first: hd ? "jimeng_i2v_first_v30_1080" : "jimeng_i2v_first_v30",
      i2v_first_tail: hd ? "jimeng_i2v_first_tail_v30_1080" : "jimeng_i2v_first_tail_v30" }[mode];
    created = (await call<{ taskId: string }>(api, "POST", "video/segment", {
      segmentId: s.id, prompt: s.prompt, model, ...(s.firstFrame ? { firstFrame: s.firstFrame } : {}), ...(s.lastFrame ? { lastFrame: s.lastFrame } : {}),
      parameters: { frames: s.duration === 10 ? 241 : 121, ...(s.seed !== undefined ? { seed: s.seed } : {}) },
    })).json;
  } else {
    created = (await call<{ taskId: string; credits: number }>(api, "POST", "video/generate", spec, text)).json;
  }
  console.log(`task ${created.taskId}${created.credits ? `: ${created.credits} MC reserved` : ""}`);
  const outDir = resolve(String(values.out ?? `out/${created.taskId}`));
  await Deno.mkdir(outDir, { recursive: true });
  const previewed = new Set<string>();
  let last = "";
  const task = await follow(api, created.taskId, async (p) => {
    const scenes = Object.entries(p.segments ?? {});
    const left = p.etaSeconds ? `  (about ${p.etaSeconds} s left)` : "";
    const line = `  ${pad(p.phase ?? p.status, 20)} ${bar(p.progress)} ${String(p.progress).padStart(3)}%  ` +
      scenes.map(([id, pct]) => `${id} ${pct >= 100 ? "done" : `${pct}%`}`).join("  ") + left;
    if (line !== last) console.log((last = line));
    if (!values.preview || !scenes.some(([id, pct]) => pct >= 100 && !previewed.has(id))) return;
    const t = (await call<Task>(api, "GET", `task/${created.taskId}`)).json;
    for (const s of t.segments.filter((x) => x.status === "completed" && x.videoUrl && !previewed.has(x.id))) {
      previewed.add(s.id);
      await download(s.videoUrl!, `${outDir}/${s.id}.mp4`);
      await open(`${outDir}/${s.id}.mp4`);
    }
  });
  if (task.status !== "completed") {
    const failed = task.segments.find((s) => s.error);
    throw new CliError(task.error?.code ?? failed?.error?.code ?? "TASK_FAILED", `${task.error?.message ?? task.status}${failed ? ` (scene ${failed.id}: ${failed.error!.message})` : ""}`);
  }
  const file = `${outDir}/${values.scene ? `${task.segments[0].id}.mp4` : "movie.mp4"}`;
  await download(task.videoUrl ?? task.segments[0].videoUrl!, file);
  console.log(`completed in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${shortPath(file)}`);
  if (task.metrics) console.log(`metrics: ${JSON.stringify(task.metrics)}`);
}

async function fromSpec(args: string[]) {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { out: { type: "string", default: "spec.json" } } });
  if (!positionals[0]) throw new CliError("INVALID_REQUEST", `a spec.md is required\n\n${HELP["from-spec"]}`);
  const text = await Deno.readTextFile(positionals[0]).catch(() => {
    throw new CliError("INVALID_REQUEST", `cannot read ${positionals[0]}`);
  });
  const { spec, warnings } = fromSpecKit(text, positionals[0]);
  const checked = movieRequest.safeParse(spec);
  if (!checked.success) throw new CliError("INVALID_REQUEST", `${positionals[0]}: the imported spec is not valid: ${checked.error.issues[0].message}`);
  for (const w of warnings) console.error(`warning: ${w}`);
  await Deno.writeTextFile(values.out, JSON.stringify(spec, null, 2) + "\n");
  console.log(`${values.out}: "${spec.projectName}", ${spec.scenes.length} scenes, ${spec.scenes.reduce((s, x) => s + x.duration, 0)} s, ${spec.config.resolution}, ${spec.config.platform}`);
}

const COMMANDS: Record<string, (args: string[]) => Promise<void>> = {
  "video-specify": specify, "video-plan": plan, "video-tasks": tasks, "video-generate": generate, "from-spec": fromSpec,
};

if (import.meta.main) {
  const [command, ...rest] = Deno.args;
  if (!command || command === "--help" || command === "help") {
    console.log(USAGE);
    Deno.exit(command ? 0 : 2);
  }
  if (!COMMANDS[command]) {
    console.error(`movieflow: no command ${command}\n\n${USAGE}`);
    Deno.exit(2);
  }
  if (rest.includes("--help")) {
    console.log(HELP[command]);
    Deno.exit(0);
  }
  try {
    await COMMANDS[command](rest);
  } catch (err) {
    if (err instanceof CliError || err instanceof AppError) {
      console.error(`error ${err.code}: ${err.message}`);
      Deno.exit(1);
    }
    if (err instanceof TypeError && /parseArgs|Unknown option|ERR_PARSE_ARGS/.test(String((err as { code?: string }).code ?? err.message))) {
      console.error(`error INVALID_REQUEST: ${err.message}\n\n${HELP[command]}`);
      Deno.exit(2);
    }
    throw err;
  }
}
