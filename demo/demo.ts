// The main job: npm run demo -- --idea "..." [--selfie photo.jpg] [--duration 5|10]
// Starts the local stack if needed, signs in the demo user, runs one cinematic generation
// through the SDK (packages/client, on supabase-js), shows progress per step live from
// Realtime, and writes the MP4 and
// the script under ./out/<generation id>/, with the base and merged images when there are any.
// With the local simulators it also prints what each step's simulator made (GET /_sim/media).
import { parseArgs } from "node:util";
import { type Generation, ReelforgeClient, ReelforgeError } from "../packages/client/src/index.ts";
import { demoSession, fail } from "./session.ts";
import { contentHash, type MediaReport } from "../simulators/media.ts";

const STEPS = ["script", "base_image", "face_merge", "video", "store_output"] as const;
const LABELS: Record<string, string> = {
  script: "script (Gemini)",
  base_image: "base image (Seedream 3.0)",
  face_merge: "face merge (merge-face)",
  video: "video (Kling v2.1 master)",
  store_output: "store video",
};

type Event = { status: string; step: string; progress: number; created_at: string };

const { values: args } = parseArgs({
  args: Deno.args,
  options: {
    idea: { type: "string" },
    selfie: { type: "string" },
    duration: { type: "string", default: "5" },
    aspect: { type: "string", default: "9:16" },
  },
});
if (!args.idea) fail("INVALID_REQUEST", 'usage: npm run demo -- --idea "..." [--selfie photo.jpg] [--duration 5|10]');

const { env, supabase, userId } = await demoSession();

const client = new ReelforgeClient(supabase);

/** An SDK call; its typed error ends the demo with the catalog code. */
async function api<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof ReelforgeError) fail(err.code, err.message);
    throw err;
  }
}

let selfiePath: string | undefined;
if (args.selfie) {
  const bytes = await Deno.readFile(args.selfie).catch(() => fail("INVALID_REQUEST", `cannot read ${args.selfie}`));
  const ext = args.selfie.toLowerCase().endsWith(".png") ? "png" : "jpg";
  selfiePath = `${userId}/${crypto.randomUUID()}.${ext}`;
  const { error } = await supabase.storage.from("selfies").upload(selfiePath, bytes, { contentType: `image/${ext === "png" ? "png" : "jpeg"}` });
  if (error) fail("SERVICE_UNAVAILABLE", `selfie upload failed: ${error.message}`);
}

const t0 = Date.now();
const created: Generation = await api(() =>
  client.generations.create({
    idea: args.idea!, duration: Number(args.duration) as 5 | 10, aspect_ratio: args.aspect as "9:16", ...(selfiePath ? { selfie_path: selfiePath } : {}),
  })
);
console.log(`generation ${created.id}: ${created.credits.reserved} MC reserved`);

const steps = STEPS.filter((s) => s !== "face_merge" || selfiePath);
const bar = (p: number) => "#".repeat(Math.round(p / 5)).padEnd(20, ".");
const tty = Deno.stdout.isTerminal();
let printed = 0;

/** From the step's first event (queued) to its last (completed). */
function stepSeconds(events: Event[], step: string) {
  const mine = events.filter((e) => e.step === step);
  if (mine.length === 0) return 0;
  return (Date.parse(mine.at(-1)!.created_at) - Date.parse(mine[0].created_at)) / 1000;
}

function render(g: Generation, events: Event[]) {
  const lines = steps.map((s) => {
    const done = g.status === "completed" || steps.indexOf(g.step as typeof steps[number]) > steps.indexOf(s);
    const active = g.step === s && !done;
    // The video step holds 65 of the run's 100 points, after 25 (weights in engine.flow_steps);
    // its share moves while Kling works.
    const p = done ? 100 : active ? (s === "video" ? Math.max(5, ((g.progress - 25) * 100) / 65) : 30) : 0;
    const took = done ? ` ${stepSeconds(events, s).toFixed(1)} s` : "";
    return `  ${LABELS[s].padEnd(26)} [${bar(p)}] ${done ? "done" + took : active ? g.status : ""}`;
  });
  if (tty && printed) console.log(`\x1b[${printed}A\x1b[J` + lines.join("\n"));
  else if (tty || g.status === "completed" || g.status === "failed") console.log(lines.join("\n"));
  printed = lines.length;
}

let g = created;
let events: Event[] = [];
let lastLine = "";
// Every change Realtime announces (a read on each join, polls only while it is not joined).
await api(() =>
  client.wait(created.id, {
    onProgress: (p) => {
      g = { ...g, status: p.status as Generation["status"], step: p.phase, progress: p.progress };
      if (tty) render(g, events);
      else if (`${g.status} ${g.step}` !== lastLine) console.log(`  ${(lastLine = `${g.status} ${g.step}`)} ${g.progress}%`);
    },
  })
);
({ generation: g, events } = await api(() => client.request<{ generation: Generation; events: Event[] }>("GET", `generations/${created.id}`)));
render(g, events);
if (g.status !== "completed") fail(g.error?.code ?? "TASK_FAILED", g.error?.message ?? `generation ${g.status}`);

const outDir = `${Deno.cwd()}/out/${g.id}`;
await Deno.mkdir(outDir, { recursive: true });

async function download(url: string | null | undefined, name: string) {
  if (!url) return null;
  const res = await fetch(url);
  if (!res.ok) fail("SERVICE_UNAVAILABLE", `could not download ${name} (HTTP ${res.status})`);
  const bytes = new Uint8Array(await res.arrayBuffer());
  await Deno.writeFile(`${outDir}/${name}`, bytes);
  return bytes;
}

/**
 * What the simulators made for this video, oldest first: the report whose output is the
 * video, then the one that made its first frame, and so on back to the base image. Empty
 * when real providers made it.
 */
async function simulatorReports(video: Uint8Array<ArrayBuffer>): Promise<MediaReport[]> {
  const res = await fetch(`${env.NOVITA_SIM_URL}/_sim/media`).catch(() => null);
  if (!res?.ok) return [];
  const { media } = await res.json() as { media: MediaReport[] };
  const chain: MediaReport[] = [];
  const madeFrom = (hash: string) => media.findLast((r) => r.output === hash);
  let report = madeFrom(await contentHash(video));
  while (report && chain.length < STEPS.length) {
    chain.unshift(report);
    report = madeFrom(report.inputs[0]);
  }
  return chain;
}

const video = (await download(g.video_url, "video.mp4"))!;
const files = ["video.mp4", "script.json"];
await Deno.writeTextFile(`${outDir}/script.json`, JSON.stringify(g.script, null, 2) + "\n");
if (await download(g.base_image_url, "base.jpg")) files.push("base.jpg");
if (await download(g.merged_image_url, "merged.png")) files.push("merged.png");

const script = g.script as { t2i_prompt?: string; motion_prompt?: string } | null;
const made: Record<string, string> = {
  script: `image prompt "${script?.t2i_prompt}", motion prompt "${script?.motion_prompt}"`,
  store_output: "the provider's video copied into the outputs bucket",
};
const reports = await simulatorReports(video);
const STEP_OF_REPORT: Record<string, string> = { "text-to-image": "base_image", "merge-face": "face_merge", "image-to-video": "video" };
for (const r of reports) made[STEP_OF_REPORT[r.step]] = `simulator: ${r.did}`;

console.log(`\ncompleted in ${((Date.now() - t0) / 1000).toFixed(1)} s, ${g.credits.charged} MC charged`);
console.log(`\nwhat each step made${reports.length ? " (local simulators)" : ""}:`);
for (const s of steps) if (made[s]) console.log(`  ${LABELS[s].padEnd(26)} ${made[s]}`);
console.log("\nfiles:");
for (const f of files) console.log(`  ${outDir}/${f}`);
