// A paid submission is sent at most once: the functions process dies after the provider said
// yes and before the engine recorded the provider task (the chaos run's duplicate Kling task).
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { beforeEach, expect, it } from "vitest";
import { call, newUser, resetSims, ROOT, simKnobs, simStats, sql, waitFor, waitForStatus } from "./helpers";
import { finished, generate, scene } from "./movie-helpers";

beforeEach(() => resetSims());

/** Waits for the provider to accept a submission, then kills the functions process (as a
 * crash would) and starts it again. */
async function crashAfterSubmission(counter: string) {
  await waitFor(`a ${counter} reply to be stalled`, async () => (await simStats()).stats.stalled_submit_replies === 1);
  expect((await simStats()).stats[counter]).toBe(1);
  process.kill(-Number(readFileSync(`${ROOT}.stack/gateway.pid`, "utf8")), "SIGKILL");
  execFileSync(`${ROOT}node_modules/.bin/deno`, ["run", "-A", "--quiet", "stack/cli.ts", "start"], { cwd: ROOT, stdio: "ignore" });
}

/** The dead process's lease runs out (it cannot renew it: expiring it now only skips the
 * wait), then the engine's reconcile runs. */
async function reconcileAfterLease(generationId: string, step: string) {
  const expired = await sql`update engine.tasks set lease_until = now() - interval '1 second'
    where generation_id = ${generationId} and step = ${step} and status = 'running' returning id`;
  expect(expired.length).toBe(1);
  await sql`select engine.reconcile()`;
}

it("adopts a Kling task whose answer died with the functions process, through its callback, and never sends it again", async () => {
  const user = await newUser();
  await simKnobs({ stall_next_submit_replies: 1, latency_ms: { kling: 4000 } });
  const created = await call(user.token, "POST", "generations", { idea: "a lighthouse in a storm" });
  expect(created.status).toBe(201);
  const id = created.body.generation.id;

  await crashAfterSubmission("kling_submissions");
  await reconcileAfterLease(id, "video");
  const done = await waitForStatus(id, ["completed", "failed"]);

  expect(done.status).toBe("completed");
  const stats = await simStats();
  expect(stats.stats.kling_submissions).toBe(1);
  expect(stats.duplicate_submissions).toBe(0);
  const [g] = await sql`select credits_charged, (select sum(v::integer) from jsonb_each_text(price_plan) p (k, v))::int as quoted
                        from public.generations where id = ${id}`;
  expect(g.credits_charged).toBe(g.quoted);
}, 120_000);

it("fails and refunds a Kling task whose answer died with the functions process when no callback names it in time", async () => {
  const user = await newUser();
  await simKnobs({ stall_next_submit_replies: 1, webhook_drop_rate: 1 });
  await sql`update engine.settings set submission_adopt_window = '1 second'`;
  try {
    const created = await call(user.token, "POST", "generations", { idea: "a lighthouse in a storm" });
    const id = created.body.generation.id;
    await crashAfterSubmission("kling_submissions");
    await reconcileAfterLease(id, "video");
    await waitFor("the adoption window to pass", async () => (await sql`select engine.reconcile()`) &&
      (await sql`select status from engine.tasks where generation_id = ${id} and step = 'video'`)[0].status === "failed");
    const done = await waitForStatus(id, ["failed"]);
    expect(done.error_message).toContain("never named the task");
    expect((await simStats()).stats.kling_submissions).toBe(1);
    const [g] = await sql`select credits_charged from public.generations where id = ${id}`;
    expect(g.credits_charged).toBe((await sql`select coalesce(sum(amount), 0)::int as n from public.credit_ledger
      where generation_id = ${id} and kind = 'capture' and step <> 'video'`)[0].n);
  } finally {
    await sql`update engine.settings set submission_adopt_window = default`;
  }
}, 120_000);

it("fails and refunds a Jimeng segment whose answer died with the functions process (Jimeng never calls back): never sent again", async () => {
  const user = await newUser(5_000);
  const balance = async () => (await sql`select balance::int from public.credit_accounts where user_id = ${user.id}`)[0].balance;
  const before = await balance();
  await simKnobs({ stall_next_submit_replies: 1 });
  const movie = await generate(user, { scenes: [scene("s1", { duration: 5 })] });

  await crashAfterSubmission("jimeng_submissions");
  await reconcileAfterLease(movie.taskId, "segment");
  const t = await finished(user, movie.taskId);

  expect(t.status).toBe("failed");
  expect(JSON.stringify(t)).toContain("interrupted while submitting to volcengine");
  expect((await simStats()).stats.jimeng_submissions).toBe(1);
  expect(await balance()).toBe(before);
}, 120_000);
