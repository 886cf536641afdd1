// The chaos run: many concurrent cinematic generations under lost, duplicated and
// reordered webhooks, 429 bursts and 5xx, lost pg_net wake-ups, a killed functions
// process and a crashed database. Then it checks that nothing was lost, stuck, charged
// wrong, done twice or leaked.
// Provider limits are the documented ones (scaled by --limits-scale on both sides: the
// simulators and our capacity rows), and the simulators add the providers' quirks.
//   npm run chaos -- [--generations 200] [--bound-seconds 600] [--limits-scale 1] [--json]
import postgres from "postgres";
import { parseArgs } from "node:util";
import { resetSimulators, setNetDropRate, signUp } from "../stack/control.ts";
import { ROOT, STACK_DIR, stackEnv } from "../stack/env.ts";

const { values: args } = parseArgs({
  args: Deno.args,
  options: {
    generations: { type: "string", default: "200" },
    "bound-seconds": { type: "string", default: "600" },
    "limits-scale": { type: "string", default: "1" },
    json: { type: "boolean", default: false },
  },
});
const N = Number(args.generations);
const LIMITS_SCALE = Number(args["limits-scale"]);
const BOUND_S = Number(args["bound-seconds"]);
const say = (line: string) => args.json || console.log(line);

async function stack(cmd: string) {
  const out = await new Deno.Command(Deno.execPath(), { args: ["run", "-A", "--quiet", `${ROOT}/stack/cli.ts`, cmd], stdout: "null", stderr: "piped" }).output();
  if (!out.success) throw new Error(`stack ${cmd}: ${new TextDecoder().decode(out.stderr)}`);
}

await stack("start");
const env = await stackEnv();
const sql = postgres(env.DB_URL, { max: 4, onnotice: () => {} });
const responses: string[] = [];

async function api(token: string, method: string, path: string, body?: unknown) {
  for (;;) {
    try {
      const res = await fetch(`${env.API_URL}/functions/v1/${path}`, {
        method,
        headers: { Authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      responses.push(text);
      // A user's requests are rate-limited (selfie uploads count too): wait as a client would.
      if (res.status === 429) {
        await new Promise((r) => setTimeout(r, 1000 * Number(res.headers.get("retry-after") ?? 1)));
        continue;
      }
      return { status: res.status, body: JSON.parse(text) };
    } catch {
      await new Promise((r) => setTimeout(r, 500)); // the gateway is being restarted
    }
  }
}

// --- faults on -------------------------------------------------------------------------
await resetSimulators(env.NOVITA_SIM_URL, {
  latency_ms: { gemini: 50, seedream: 100, merge_face: 100, kling: 1500 },
  webhook_drop_rate: 0.3, webhook_duplicate_rate: 0.2, webhook_delay_ms: 3000, webhook_retry_delay_ms: 500,
  error_429_rate: 0.05, error_5xx_rate: 0.1,
  limits_scale: LIMITS_SCALE,
  // What real providers do now and then (none of these should fail a generation).
  quirks: { task_status_unknown: 0.2, odd_ttl: 0.2, string_numbers: 0.2, other_events: 0.2, spellings: 0.2,
    retry_after_header: 0.5, array_errors: 0.5, thinking_tokens: 3000 },
});
// A submission whose answer died with the functions process waits this long for the
// provider's callback to name its task: simulated Kling ends in seconds (its callbacks within
// ~10 s, retries included), real Kling in minutes.
await sql`update engine.settings set capacity_scale = ${LIMITS_SCALE}, submission_adopt_window = '20 seconds'`;
setNetDropRate(STACK_DIR, 0.1);

// --- users and generations ---------------------------------------------------------------
const selfie = await new Deno.Command("ffmpeg", {
  args: ["-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", "color=c=0xd2a07a:s=512x512", "-frames:v", "1", "-f", "mjpeg", "pipe:1"],
  stdout: "piped",
}).output();

const users = await Promise.all(Array.from({ length: Math.ceil(N / 10) }, async () => {
  const user = await signUp(env, "chaos");
  await sql`select public.grant_credits(${user.id}, 5000)`;
  return user;
}));

const started = Date.now();
const ids: string[] = [];
const queue = Array.from({ length: N }, (_, i) => i);
await Promise.all(Array.from({ length: 16 }, async () => {
  for (let i = queue.shift(); i !== undefined; i = queue.shift()) {
    const user = users[i % users.length];
    let selfiePath: string | undefined;
    if (i % 4 === 0) {
      selfiePath = `${user.id}/chaos-${i}.jpg`;
      const up = await fetch(`${env.API_URL}/storage/v1/object/selfies/${selfiePath}`, {
        method: "POST", headers: { Authorization: `Bearer ${user.token}`, "content-type": "image/jpeg" }, body: selfie.stdout,
      });
      await up.body?.cancel();
    }
    const res = await api(user.token, "POST", "generations", { idea: `chaos scene number ${i % 7}`, ...(selfiePath ? { selfie_path: selfiePath } : {}) });
    if (res.status !== 201) throw new Error(`create failed: ${JSON.stringify(res.body)}`);
    ids.push(res.body.generation.id);
  }
}));
say(`created ${ids.length} generations in ${((Date.now() - started) / 1000).toFixed(1)} s`);

// --- run, killing the functions process and crashing Postgres along the way ---------------
const faults: string[] = [];
/** The tasks a killed function was running, to time how soon they were claimed again. */
let orphaned: postgres.RowList<postgres.Row[]> | [] = [];
let terminal = 0;
let sampled = 0;
while (Date.now() - started < BOUND_S * 1000) {
  try {
    const [{ done }] = await sql`select count(*)::int as done from public.generations
      where id = any(${ids}) and status in ('completed', 'failed', 'canceled')`;
    terminal = done;
  } catch {
    // the database is restarting
  }
  if (terminal === N) break;
  if (!faults.includes("functions killed") && terminal >= N * 0.2) {
    const pid = Number(await Deno.readTextFile(`${STACK_DIR}/gateway.pid`));
    // The kill lands while the functions run tasks, so that recovery is measured.
    const until = Date.now() + 30_000;
    do {
      orphaned = await sql`select generation_id, step, task_index, attempt, clock_timestamp() as killed_at
        from engine.tasks where generation_id = any(${ids}) and status = 'running' and handler <> 'media-worker'`;
    } while (!orphaned.length && Date.now() < until && await new Promise((r) => setTimeout(r, 10, true)));
    Deno.kill(-pid, "SIGKILL");
    faults.push("functions killed");
    say(`killed the functions process at ${terminal}/${N} done`);
    await new Promise((r) => setTimeout(r, 2000));
    await stack("start");
  } else if (!faults.includes("postgres crashed") && terminal >= N * 0.5) {
    await stack("crash-postgres");
    faults.push("postgres crashed");
    say(`crashed and restarted PostgreSQL at ${terminal}/${N} done`);
  }
  // Clients keep reading their status meanwhile (their responses are scanned for secrets).
  const user = users[sampled % users.length];
  await api(user.token, "GET", `generations/${ids[sampled++ % ids.length]}`);
  await new Promise((r) => setTimeout(r, 1000));
}
const elapsedS = (Date.now() - started) / 1000;
setNetDropRate(STACK_DIR, 0);
await sql`update engine.settings set capacity_scale = 1, submission_adopt_window = default`;

// --- checks ------------------------------------------------------------------------------
// Recovery: from the kill to the moment each task the dead process held moved on: claimed
// again, waiting on the provider task it had submitted (never sent again), or ended. A task
// whose own commit landed as the process died has no later event and is not counted.
const recoveries = await Promise.all(orphaned.map(async (o) => {
  const [r] = await sql`select extract(epoch from (min(created_at) - ${o.killed_at}::timestamptz))::float as s
    from public.generation_events where generation_id = ${o.generation_id} and step = ${o.step}
      and task_index = ${o.task_index} and created_at > ${o.killed_at}::timestamptz
      and (status <> 'running' or attempt > ${o.attempt})`;
  return r.s as number | null;
}));
const measured = recoveries.filter((s): s is number => s !== null);
const recoveryS = measured.length ? Math.max(...measured) : null;
const stats = await (await fetch(`${env.NOVITA_SIM_URL}/_sim/stats`)).json();
const rows = await sql`select g.id, g.status, g.error_code, g.outputs ->> 'video_path' as video_path,
    (select array_agg(t.webhook_token) from engine.tasks t where t.generation_id = g.id) as webhook_tokens
  from public.generations g where g.id = any(${ids})`;
const byStatus: Record<string, number> = {};
for (const r of rows) byStatus[r.status] = (byStatus[r.status] ?? 0) + 1;

// Metered credits: every round's reservation is captured or released in full, the charge is
// captures less refunds, and a completed run was charged exactly its quote.
const unbalanced = await sql`
  select g.id from public.generations g
  cross join lateral (
    select coalesce(sum(amount) filter (where kind = 'reserve'), 0) as reserved,
           coalesce(sum(amount) filter (where kind in ('capture', 'release')), 0) as settled,
           coalesce(sum(amount) filter (where kind = 'capture'), 0) - coalesce(sum(amount) filter (where kind = 'refund'), 0) as charged
    from public.credit_ledger l where l.generation_id = g.id) x
  where g.id = any(${ids}) and (x.reserved <> x.settled or x.charged <> g.credits_charged
    or (g.status = 'completed' and g.credits_charged <> (select sum(v::integer) from jsonb_each_text(g.price_plan) p (k, v))))`;

const doubleLogged = await sql`
  select count(*)::int as n from (
    select status, attempt, lag(status) over w as ps, lag(attempt) over w as pa
    from public.generation_events where generation_id = any(${ids})
    window w as (partition by generation_id, step, task_index order by id)) e
  where status = ps and attempt = pa`;

let missingVideos = 0;
for (const r of rows.filter((r) => r.status === "completed")) {
  const res = await fetch(`${env.API_URL}/storage/v1/object/authenticated/outputs/${r.video_path}`, {
    headers: { Authorization: `Bearer ${env.SERVICE_ROLE_KEY}` },
  });
  const bytes = new Uint8Array(await res.arrayBuffer());
  if (!res.ok || new TextDecoder().decode(bytes.slice(4, 8)) !== "ftyp") missingVideos++;
}

const secrets = [env.SERVICE_ROLE_KEY, env.JWT_SECRET, "sim-gemini-key", "sk_sim_novita_key", "sim-kie-key", "sim-kie-hmac-key",
  ...rows.flatMap((r) => r.webhook_tokens ?? [])];
const events = await sql`select coalesce(message, '') as m from public.generation_events where generation_id = any(${ids})`;
const broadcasts = await sql`select payload::text as p from realtime.messages`;
const logs: string[] = [];
for (const name of ["gateway.log", "worker.log", "simulators.log", "pgdata/server.log"]) {
  logs.push(await Deno.readTextFile(`${STACK_DIR}/${name}`).catch(() => ""));
}
const haystacks = [...responses, ...events.map((e) => e.m), ...broadcasts.map((b) => b.p), ...logs];
const leaks = secrets.filter((s) => haystacks.some((h) => h.includes(s))).length;

const checks = {
  all_terminal: rows.every((r) => ["completed", "failed", "canceled"].includes(r.status)),
  credits_balanced: unbalanced.length === 0,
  no_duplicate_provider_task: stats.duplicate_submissions === 0,
  no_transition_logged_twice: doubleLogged[0].n === 0,
  completed_have_video: missingVideos === 0,
  no_secret_leaked: leaks === 0,
  faults_injected: faults.length === 2,
};
const result = {
  generations: N, elapsed_s: Number(elapsedS.toFixed(1)), bound_s: BOUND_S, by_status: byStatus, faults,
  orphaned_tasks: orphaned.length, recovery_s: recoveryS === null ? null : Number(recoveryS.toFixed(1)),
  webhooks: { dropped: stats.stats.webhooks_dropped ?? 0, delivered: stats.stats.webhooks_delivered ?? 0 },
  injected_errors: { "429": stats.stats.injected_429 ?? 0, "5xx": stats.stats.injected_500 ?? 0 },
  scanned: { responses: responses.length, events: events.length, broadcasts: broadcasts.length, log_bytes: logs.join("").length, secrets: secrets.length },
  unbalanced_generations: unbalanced.length, double_logged_events: doubleLogged[0].n, completed_without_video: missingVideos, leaks, checks,
};
await resetSimulators(env.NOVITA_SIM_URL);
await sql.end();

if (args.json) {
  console.log(JSON.stringify(result));
} else {
  console.log(`\n| check | result |\n|---|---|`);
  console.log(`| generations | ${N}: ${Object.entries(byStatus).map(([k, v]) => `${v} ${k}`).join(", ")} in ${result.elapsed_s} s (bound ${BOUND_S} s) |`);
  console.log(`| faults | ${faults.join(", ")}; webhooks dropped ${result.webhooks.dropped}, delivered ${result.webhooks.delivered}; injected 429 ${result.injected_errors["429"]}, 5xx ${result.injected_errors["5xx"]}; 10% of pg_net wake-ups dropped |`);
  console.log(result.orphaned_tasks
    ? `| recovery after the kill | ${result.orphaned_tasks} tasks the dead process held, ${measured.length} of them moved on (claimed again, waiting on their provider task, or ended) within ${result.recovery_s} s; the rest had committed as it died |`
    : "| recovery after the kill | no task was running at the moment of the kill |");
  for (const [name, ok] of Object.entries(checks)) console.log(`| ${name.replaceAll("_", " ")} | ${ok ? "pass" : "FAIL"} |`);
  console.log(`| scanned for secrets | ${result.scanned.responses} responses, ${result.scanned.events} events, ${result.scanned.broadcasts} broadcasts, ${result.scanned.log_bytes} log bytes, ${result.scanned.secrets} secrets |`);
}
if (!args.json && !Object.values(checks).every(Boolean)) Deno.exit(1);
