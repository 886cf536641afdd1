// The gateway's JWT check, internal endpoints, and one claim per step.
import { describe, expect, it } from "vitest";
import { signJwt } from "../packages/shared/src/jwt";
import { call, env, newUser, resetSims, row, setNetDropRate, simStats, sql, waitFor } from "./helpers";

describe("gateway JWT verification", () => {
  it("refuses a missing, forged or expired JWT and accepts a valid one", async () => {
    const user = await newUser();
    const forged = await signJwt({ sub: user.id, role: "authenticated", exp: 4102444800 }, "not-the-secret-not-the-secret-not-the-secret");
    const expired = await signJwt({ sub: user.id, role: "authenticated", exp: Math.floor(Date.now() / 1000) - 60 }, env.JWT_SECRET);

    // The gateway, in front of a function with verify_jwt = true (an internal step)...
    expect((await call(null, "POST", "generate-script", {})).status).toBe(401);
    expect(await call(forged, "POST", "generate-script", {})).toMatchObject({ status: 401, body: { error: { code: "UNAUTHORIZED", message: "Invalid JWT" } } });
    expect(await call(expired, "POST", "generate-script", {})).toMatchObject({ status: 401, body: { error: { code: "UNAUTHORIZED", message: "Invalid JWT" } } });
    // ...and a public function (verify_jwt = false: it also takes API keys) checking it itself.
    for (const token of [null, forged, expired]) {
      expect(await call(token, "POST", "quote", {})).toMatchObject({ status: 401, body: { error: { code: "UNAUTHORIZED" } } });
    }
    expect(await call(user.token, "POST", "quote", { duration: 5 })).toMatchObject({ status: 200, body: { estimated_credits: 185 } });
  });

  it("passes the webhook through without a JWT, where its own token check applies", async () => {
    const res = await call(null, "POST", "handle-novita-webhook?token=nope", { event_type: "ASYNC_TASK_RESULT", payload: { task: { task_id: "x" } } });
    expect(res.status).toBe(401);
    expect(res.body.error).toMatchObject({ code: "UNAUTHORIZED", requestId: expect.any(String), timestamp: expect.any(String) });
  });

  it("internal step functions refuse the anon key and user JWTs", async () => {
    const user = await newUser();
    const body = { generation_id: crypto.randomUUID(), step: "script" };
    for (const token of [env.ANON_KEY, user.token]) {
      const res = await call(token, "POST", "generate-script", body);
      expect(res).toMatchObject({ status: 403, body: { error: { code: "FORBIDDEN" } } });
    }
  });
});

describe("step functions", () => {
  it("a step claimed twice does its work once", async () => {
    await resetSims();
    setNetDropRate(1); // no pg_net wake-up: the test delivers the two competing ones itself
    try {
      const user = await newUser();
      const created = await call(user.token, "POST", "generations", { idea: "two workers race for one step" });
      const id = created.body.generation.id;
      const before = (await simStats()).stats.gemini_requests ?? 0;
      const wake = { handler: "generate-script" };
      const [a, b] = await Promise.all([
        call(env.SERVICE_ROLE_KEY, "POST", "generate-script", wake),
        call(env.SERVICE_ROLE_KEY, "POST", "generate-script", wake),
      ]);
      expect([a.status, b.status]).toEqual([202, 202]);
      await waitFor("the script step to finish", async () => (await row(id)).step === "base_image");
      expect((await simStats()).stats.gemini_requests - before).toBe(1);
      const runs = await sql`select count(*)::int as n from public.generation_events where generation_id = ${id} and status = 'running' and step = 'script'`;
      expect(runs[0].n).toBe(1);
      await sql`update engine.tasks set status = 'canceled' where generation_id = ${id} and status <> 'completed'`;
      await sql`update public.generations set status = 'canceled' where id = ${id}`;
    } finally {
      setNetDropRate(0);
    }
  });
});
