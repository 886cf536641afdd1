// Failover: Kling v2.1 master image-to-video is offered by Novita and by kie with the same
// fields. With Novita's video endpoint down, its circuit opens and the engine moves the
// video tasks to kie at no extra charge; a setting turns that off.
import { afterEach, describe, expect, it } from "vitest";
import { call, ledger, newUser, resetSims, simStats, sql, waitFor } from "./helpers";

afterEach(async () => {
  await sql`update engine.settings set failover = true, capacity_scale = 1, circuit_open_for = '30 seconds'`;
  await sql`update engine.provider_capacity set failures = 0, circuit_open_until = null, paused_until = null`;
});

const finished = (ids: string[]) => async () =>
  (await sql`select count(*)::int as n from public.generations where id = any(${ids}) and status in ('completed', 'failed')`)[0].n === ids.length;

describe("failover between providers", () => {
  it("with Novita's video endpoint down for the whole run, 20 cinematic generations complete through kie", async () => {
    await resetSims({ down_endpoints: ["kling-i2v"] });
    await sql`update engine.settings set capacity_scale = 1000`;
    const users = await Promise.all(Array.from({ length: 7 }, () => newUser()));
    const ids = await Promise.all(Array.from({ length: 20 }, async (_, i) =>
      (await call(users[i % 7].token, "POST", "generations", { idea: "the show must go on" })).body.generation.id as string));
    await waitFor("all 20 to finish", finished(ids), 180_000);
    const rows = await sql`
      select g.status::text, t.provider, g.credits_charged from public.generations g
      join engine.tasks t on t.generation_id = g.id and t.step = 'video' where g.id = any(${ids})`;
    expect(rows.filter((r) => r.status === "completed").length).toBe(20);
    expect(rows.every((r) => r.provider === "kie")).toBe(true);
    expect(rows.every((r) => r.credits_charged === 185)).toBe(true);
    expect(await ledger(ids[0])).toEqual(["1:reserve:185", "1:capture:5", "1:capture:20", "1:capture:160"]);
    const stats = (await simStats()).stats;
    expect(stats["outage_kling-i2v"]).toBeGreaterThan(0);
    // Each video task met the outage at most once: once the circuit opened, its retry (and every
    // later task) went straight to kie.
    expect(stats["outage_kling-i2v"]).toBeLessThanOrEqual(20);
  }, 240_000);

  it("with failover off, the same outage fails the video step after its attempts, refunded", async () => {
    await resetSims({ down_endpoints: ["kling-i2v"] });
    // A short open circuit: the attempts, not the 30 s pauses between them, are what is tested.
    await sql`update engine.settings set failover = false, circuit_open_for = '2 seconds'`;
    const user = await newUser(1000);
    const id = (await call(user.token, "POST", "generations", { idea: "no plan b" })).body.generation.id as string;
    await waitFor("it to finish", finished([id]), 120_000);
    const [g] = await sql`select status::text, error_code, credits_charged from public.generations where id = ${id}`;
    expect(g).toEqual({ status: "failed", error_code: "SERVICE_UNAVAILABLE", credits_charged: 25 });
    const [t] = await sql`select provider from engine.tasks where generation_id = ${id} and step = 'video'`;
    expect(t.provider).toBeNull();
  }, 150_000);
});
