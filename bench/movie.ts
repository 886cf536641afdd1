// Movie benchmark (part of npm run bench): a 6-scene movie of 10 s scenes with narration
// through the whole stack, with the Jimeng simulator taking L seconds per segment and c
// segments in flight. Prints the wall time against the bound ceil(6/c) x L + 10 s, and the
// time from the last segment stored to the final video. Writes bench/movie-results.json.
import postgres from "postgres";
import { resetSimulators, signUp } from "../stack/control.ts";
import { ROOT, stackEnv } from "../stack/env.ts";

const LATENCY_S = Number(Deno.env.get("MOVIE_BENCH_LATENCY_S")) || 20;
const CAPACITIES = [2, 3, 6];
const SCENES = 6;

const started = await new Deno.Command(Deno.execPath(), { args: ["run", "-A", "--quiet", `${ROOT}/stack/cli.ts`, "start"], stdout: "null" }).output();
if (!started.success) throw new Error("the local stack did not start");
const env = await stackEnv();
const sql = postgres(env.DB_URL, { max: 2, onnotice: () => {} });
const user = await signUp(env, "movie-bench");
await sql`select public.grant_credits(${user.id}, 100000)`;
await sql`update engine.settings set api_requests_per_minute = 1000000, api_burst = 1000000`;
const [{ max_in_flight: original }] = await sql`select max_in_flight from engine.provider_capacity where key = 'volcengine:jimeng'`;
const r1 = (x: number) => Math.round(x * 10) / 10;

async function movie(): Promise<string> {
  const res = await fetch(`${env.API_URL}/functions/v1/video/generate`, {
    method: "POST",
    headers: { authorization: `Bearer ${user.token}`, "content-type": "application/json" },
    body: JSON.stringify({
      projectName: "bench",
      scenes: Array.from({ length: SCENES }, (_, i) => ({
        id: `s${i + 1}`, prompt: `bench scene ${i + 1}, a lighthouse in a storm`, duration: 10,
        audio: { text: `Scene ${i + 1}.`, voice: "narrator" },
      })),
    }),
  });
  const body = await res.json();
  if (res.status !== 201) throw new Error(JSON.stringify(body));
  return body.taskId;
}

async function finished(id: string) {
  for (;;) {
    const [g] = await sql`select status from public.generations where id = ${id}`;
    if (["completed", "failed", "canceled"].includes(g.status)) return g.status;
    await new Promise((r) => setTimeout(r, 200));
  }
}

const rows = [];
for (const c of CAPACITIES) {
  await resetSimulators(env.NOVITA_SIM_URL, { latency_ms: { jimeng: LATENCY_S * 1000, gemini: 0 }, limits_scale: 1000 });
  await sql`update engine.provider_capacity set max_in_flight = ${c}, paused_until = null, recent = '{}' where key = 'volcengine:jimeng'`;
  const t0 = performance.now();
  const id = await movie();
  const status = await finished(id);
  const wall = (performance.now() - t0) / 1000;
  const [times] = await sql`
    select extract(epoch from max(created_at) filter (where step = 'segment' and status = 'completed')) as last_segment,
           extract(epoch from max(created_at) filter (where step is null and status = 'completed')) as done
    from public.generation_events where generation_id = ${id}`;
  const bound = Math.ceil(SCENES / c) * LATENCY_S + 10;
  rows.push({ capacity: c, status, wall_s: r1(wall), bound_s: bound, met: status === "completed" && wall <= bound, last_segment_to_video_s: r1(times.done - times.last_segment) });
}
await sql`update engine.provider_capacity set max_in_flight = ${original} where key = 'volcengine:jimeng'`;
await sql`update engine.settings set api_requests_per_minute = 60, api_burst = 10`;
await resetSimulators(env.NOVITA_SIM_URL);

console.log(`\n6-scene movie (6 x 10 s, narration), Jimeng latency L = ${LATENCY_S} s`);
console.log("| capacity c | wall time | bound ceil(6/c) x L + 10 s | met | last segment stored -> final video (target <= 5 s) |\n|---|---|---|---|---|");
for (const r of rows) console.log(`| ${r.capacity} | ${r.wall_s} s (${r.status}) | ${r.bound_s} s | ${r.met ? "yes" : "no"} | ${r.last_segment_to_video_s} s |`);
await Deno.writeTextFile(`${ROOT}/bench/movie-results.json`, JSON.stringify({ at: new Date().toISOString(), latency_s: LATENCY_S, rows }, null, 2) + "\n");
await sql.end();
