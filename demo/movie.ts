// A movie from a MovieFlow spec: npm run movie -- --spec examples/tang-monk.json
// Starts the local stack if needed, signs in the demo user, uploads the spec's local files
// (firstFrame, lastFrame, backgroundMusic given as paths on this machine), calls
// POST video/generate, shows a progress bar per scene and writes out/<taskId>/movie.mp4 and
// poster.jpg. Exits non-zero with the error code when the task fails.
import { dirname, resolve } from "node:path";
import { parseArgs } from "node:util";
import { demoSession, fail } from "./session.ts";

type Segment = { id: string; status: string; progress: number; duration: number | null; error: { code: string; message: string } | null };
type Task = {
  taskId: string; status: string; progress: number; currentPhase: string; segments: Segment[];
  videoUrl: string | null; posterUrl: string | null; duration: number | null;
  error: { code: string; message: string } | null; credits: { reserved: number; charged: number };
};

const { values: args } = parseArgs({ args: Deno.args, options: { spec: { type: "string" } } });
if (!args.spec) fail("INVALID_REQUEST", "usage: npm run movie -- --spec examples/<name>.json");
const specPath = resolve(args.spec);
const spec = JSON.parse(await Deno.readTextFile(specPath).catch(() => fail("INVALID_REQUEST", `cannot read ${args.spec}`)));

const { env, supabase, userId, accessToken } = await demoSession();

/** A local file named by the spec goes to the user's folder; the spec then names it there. */
async function uploaded(path: unknown): Promise<unknown> {
  if (typeof path !== "string" || path.startsWith(`${userId}/`)) return path;
  const file = resolve(dirname(specPath), path);
  const bytes = await Deno.readFile(file).catch(() => fail("INVALID_REQUEST", `cannot read ${file}`));
  const name = file.split("/").pop()!;
  const target = `${userId}/movie-assets/${crypto.randomUUID()}-${name}`;
  const type = name.endsWith(".png") ? "image/png" : name.endsWith(".mp3") ? "audio/mpeg" : "image/jpeg";
  const { error } = await supabase.storage.from("assets").upload(target, bytes, { contentType: type });
  if (error) fail("SERVICE_UNAVAILABLE", `upload of ${name} failed: ${error.message}`);
  return target;
}
for (const scene of spec.scenes ?? []) {
  for (const key of ["firstFrame", "lastFrame"]) if (scene[key]) scene[key] = await uploaded(scene[key]);
}
if (spec.effects?.backgroundMusic) spec.effects.backgroundMusic = await uploaded(spec.effects.backgroundMusic);

async function call<T>(path: string, method: "GET" | "POST", body?: unknown): Promise<T> {
  const res = await fetch(`${env.API_URL}/functions/v1/${path}`, {
    method,
    headers: { authorization: `Bearer ${accessToken}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await res.json().catch(() => null);
  if (res.status === 429 && method === "GET") {
    await new Promise((r) => setTimeout(r, Number(res.headers.get("retry-after") ?? 1) * 1000));
    return await call<T>(path, method, body);
  }
  if (!res.ok) fail(json?.error?.code ?? "INTERNAL_ERROR", json?.error?.message ?? `HTTP ${res.status}`);
  return json as T;
}

const t0 = Date.now();
const created = await call<{ taskId: string; estimatedTime: number; credits: number }>("video/generate", "POST", spec);
console.log(`task ${created.taskId}: ${spec.scenes.length} scenes, ${created.credits} MC reserved, about ${created.estimatedTime} s`);

const bar = (p: number) => "#".repeat(Math.round(p / 5)).padEnd(20, ".");
const tty = Deno.stdout.isTerminal();
let printed = 0;
let lastLine = "";

function render(t: Task) {
  const lines = [
    ...t.segments.map((s) => `  scene ${s.id.padEnd(12)} [${bar(s.progress)}] ${s.status}${s.error ? ` ${s.error.code}` : ""}`),
    `  ${"merge".padEnd(18)} [${bar(t.status === "completed" ? 100 : t.status === "merging" ? 50 : 0)}] ${t.status === "merging" ? "merging" : ""}`,
    `  ${"overall".padEnd(18)} [${bar(t.progress)}] ${t.progress}% ${t.currentPhase}`,
  ];
  if (tty) {
    console.log((printed ? `\x1b[${printed}A\x1b[J` : "") + lines.join("\n"));
    printed = lines.length;
  } else {
    const line = `${t.currentPhase} ${t.progress}% ${t.segments.map((s) => `${s.id}:${s.progress}`).join(" ")}`;
    if (line !== lastLine) console.log(`  ${(lastLine = line)}`);
  }
}

let task: Task;
do {
  task = await call<Task>(`task/${created.taskId}`, "GET");
  render(task);
  if (["completed", "failed", "canceled"].includes(task.status)) break;
  await new Promise((r) => setTimeout(r, 1500));  // within the API's 60 requests a minute
} while (true);
if (task.status !== "completed") {
  const failed = task.segments.find((s) => s.error);
  fail(task.error?.code ?? "TASK_FAILED", `${task.error?.message ?? task.status}${failed ? ` (scene ${failed.id})` : ""}`);
}

const outDir = `${Deno.cwd()}/out/${task.taskId}`;
await Deno.mkdir(outDir, { recursive: true });
for (const [url, name] of [[task.videoUrl, "movie.mp4"], [task.posterUrl, "poster.jpg"]] as const) {
  const res = await fetch(url!);
  if (!res.ok) fail("SERVICE_UNAVAILABLE", `could not download ${name} (HTTP ${res.status})`);
  await Deno.writeFile(`${outDir}/${name}`, new Uint8Array(await res.arrayBuffer()));
}
console.log(`\ncompleted in ${((Date.now() - t0) / 1000).toFixed(1)} s, ${task.duration} s of video, ${task.credits.charged} MC charged`);
console.log(`  ${outDir}/movie.mp4\n  ${outDir}/poster.jpg`);
