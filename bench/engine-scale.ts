// The engine's SQL at scale, on the stack's own database: what one claim costs with no
// runs in flight and with 100k tasks in flight, and what one estimate_waits tick costs with
// 33k tasks waiting on providers. Rows are written directly (triggers off) under a handler
// no function owns, measured in transactions that are rolled back, and removed afterwards.
//   deno run -A bench/engine-scale.ts   (or as part of npm run bench)
import postgres from "postgres";
import { signUp } from "../stack/control.ts";
import { stackEnv } from "../stack/env.ts";

const HANDLER = "bench-scale";
const REPS = 15;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const r2 = (x: number) => Math.round(x * 100) / 100;

/** Median milliseconds of `statement` in a transaction that is rolled back. */
async function timed(sql: postgres.Sql, statement: string, reps = REPS): Promise<number> {
  const ms: number[] = [];
  for (let i = 0; i < reps; i++) {
    await sql.begin(async (tx) => {
      const t = performance.now();
      await tx.unsafe(statement);
      ms.push(performance.now() - t);
      throw new Rollback();
    }).catch((e) => {
      if (!(e instanceof Rollback)) throw e;
    });
  }
  return r2(median(ms));
}
class Rollback extends Error {}

/** One running movie run per user, with `inFlight` segment tasks waiting on a provider and
 * `queued` due scene-image tasks, all under HANDLER. */
async function seedClaims(sql: postgres.Sql, users: string[], opts: { inFlight: number; queued: number }) {
  await sql.begin(async (tx) => {
    await tx`set local session_replication_role = replica`;
    for (const user of users) {
      const [g] = await tx`insert into public.generations (user_id, pipeline, status, inputs, price_plan, credits_reserved)
        values (${user}, 'movie', 'running', '{}', '{}', 0) returning id`;
      await tx`insert into engine.tasks (generation_id, user_id, pipeline, step, task_index, handler, status, provider, provider_task_id)
        select ${g.id}, ${user}, 'movie', 'segment', i, ${HANDLER}, 'waiting', 'volcengine', 'p' || i
        from generate_series(0, ${opts.inFlight - 1}) i`;
      await tx`insert into engine.tasks (generation_id, user_id, pipeline, step, task_index, handler, next_attempt_at)
        select ${g.id}, ${user}, 'movie', 'scene_image', i, ${HANDLER}, now() - interval '1 second'
        from generate_series(0, ${opts.queued - 1}) i`;
    }
  });
  await sql`vacuum analyze engine.tasks`; // the steady state autovacuum keeps: hint bits set, visibility map current
}

/** `runs` cinematic runs of one user, each with its video task waiting on Kling for up to 5 minutes. */
async function seedWaits(sql: postgres.Sql, user: string, runs: number) {
  await sql.begin(async (tx) => {
    await tx`set local session_replication_role = replica`;
    await tx`
      with g as (
        insert into public.generations (user_id, pipeline, status, inputs, price_plan, credits_reserved)
        select ${user}, 'cinematic', 'running', '{}', '{}', 0 from generate_series(1, ${runs}) returning id
      ), s as (
        insert into engine.step_states (generation_id, step, status, remaining_deps, task_count, remaining_tasks)
        select id, 'video', 'started', 0, 1, 1 from g
      )
      insert into engine.tasks (generation_id, user_id, pipeline, step, handler, status, provider, provider_task_id, waiting_since)
      select id, ${user}, 'cinematic', 'video', ${HANDLER}, 'waiting', 'novita', id::text, now() - random() * interval '5 minutes' from g`;
  });
  await sql`vacuum analyze engine.tasks`; // the steady state autovacuum keeps: hint bits set, visibility map current
}

async function clear(sql: postgres.Sql) {
  await sql.begin(async (tx) => {
    await tx`set local session_replication_role = replica`;
    const runs = [...new Set((await tx`delete from engine.tasks where handler = ${HANDLER} returning generation_id`).map((r) => r.generation_id))];
    await tx`delete from engine.step_states where generation_id = any(${runs})`;
    await tx`delete from public.generations where id = any(${runs})`;
  });
}

export async function benchEngineScale(sql: postgres.Sql, env: Record<string, string>) {
  const users = await Promise.all(Array.from({ length: 4 }, async () => (await signUp(env, "scale")).id));
  const claim = `select count(*) from engine.start_tasks('${HANDLER}', 10)`;
  try {
    await seedClaims(sql, users, { inFlight: 0, queued: 5 });
    const inflight0 = await timed(sql, claim);
    await clear(sql);
    await seedClaims(sql, users, { inFlight: 25_000, queued: 5 });
    const inflight100k = await timed(sql, claim);
    await clear(sql);
    await seedWaits(sql, users[0], 33_000);
    const estimate33k = await timed(sql, "select engine.estimate_waits()", 3);
    return { claim_ms: { inflight_0: inflight0, inflight_100k: inflight100k }, estimate_waits_ms_33k: estimate33k };
  } finally {
    await clear(sql);
  }
}

if (import.meta.main) {
  const env = await stackEnv();
  const sql = postgres(env.DB_URL, { max: 2, onnotice: () => {} });
  console.log(JSON.stringify(await benchEngineScale(sql, env)));
  await sql.end();
}
