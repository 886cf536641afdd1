// Cross-tenant and internal-endpoint attempts through the functions.
import { describe, expect, it } from "vitest";
import { call, env, FUNCTIONS, newUser, sql, waitForStatus } from "./helpers";

const INTERNAL = ["generate-script", "txt2img", "merge-face", "kling-i2v", "kie-video", "store-output", "poll-task"];

describe("internal step functions", () => {
  it("refuse the anon key, user JWTs and no key at all", async () => {
    const user = await newUser();
    for (const name of INTERNAL) {
      for (const token of [env.ANON_KEY, user.token]) {
        const res = await call(token, "POST", name, { generation_id: crypto.randomUUID(), step: "script", generation_ids: [crypto.randomUUID()] });
        expect(res, `${name}`).toMatchObject({ status: 403, body: { error: { code: "FORBIDDEN" } } });
      }
      expect((await call(null, "POST", name, {})).status, name).toBe(401);
    }
  });
});

describe("another user's things", () => {
  it("are not reachable through any function", async () => {
    const alice = await newUser();
    const bob = await newUser();
    const created = await call(alice.token, "POST", "anime-video/create-task", { prompt: "alice only", model_id: "sora-2" });
    const id = created.body.data.generation_uuid;
    for (const [method, path] of [["GET", `generations/${id}`], ["POST", `generations/${id}/cancel`], ["POST", `generations/${id}/retry`],
      ["GET", `generation/status/${id}`]]) {
      expect((await call(bob.token, method, path)).status, path).toBe(404);
    }
    expect((await call(bob.token, "GET", "anime-video/characters")).body.data).toEqual([]);
    await call(alice.token, "POST", `generations/${id}/cancel`);
  });
});

describe("per-user limits", () => {
  it("answers 429 RATE_LIMIT_EXCEEDED with the limit, the reset and Retry-After past 10 quick requests (60/min)", async () => {
    const user = await newUser();
    const other = await newUser();
    await sql`update engine.settings set api_requests_per_minute = 60, api_burst = 10`;
    try {
      const statuses: number[] = [];
      let limited: Response | undefined;
      for (let i = 0; i < 11; i++) {
        const res = await fetch(`${FUNCTIONS}/generations`, { headers: { Authorization: `Bearer ${user.token}` } });
        statuses.push(res.status);
        if (res.status === 429) limited = res;
        else await res.body?.cancel();
      }
      expect(statuses.slice(0, 10).every((s) => s === 200)).toBe(true);
      expect(statuses[10]).toBe(429);
      expect(Number(limited!.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
      const body = await limited!.json();
      expect(body.error).toMatchObject({ code: "RATE_LIMIT_EXCEEDED", details: { limit: 60, burst: 10, reset: expect.any(String) } });
      expect((await call(other.token, "GET", "generations")).status).toBe(200);
    } finally {
      await sql`update engine.settings set api_requests_per_minute = 1000000, api_burst = 1000000`;
    }
  });

  it("optimize-prompt (a free call to a paid provider) needs a positive balance", async () => {
    const broke = await newUser(0);
    expect(await call(broke.token, "POST", "anime-video/optimize-prompt", { prompt: "cat samurai" }))
      .toMatchObject({ status: 402, body: { error: { code: "QUOTA_EXCEEDED" } } });
  });
});

describe("idempotency, as Stripe does it", () => {
  it("20 concurrent repeats of one key return one generation, charged once", async () => {
    const user = await newUser(1000);
    const key = { "idempotency-key": `k-${crypto.randomUUID()}` };
    const answers = await Promise.all(Array.from({ length: 20 }, () => call(user.token, "POST", "generations", { idea: "exactly once" }, key)));
    expect(answers.map((a) => a.status).filter((s) => s !== 201)).toEqual([]);
    expect(new Set(answers.map((a) => a.body.generation.id)).size).toBe(1);
    expect((await sql`select balance::int from public.credit_accounts where user_id = ${user.id}`)[0].balance).toBe(815);
    await call(user.token, "POST", `generations/${answers[0].body.generation.id}/cancel`);
  });

  it("the same key with another request is 422, and keys are at most 255 characters", async () => {
    const user = await newUser(1000);
    const key = { "idempotency-key": `k-${crypto.randomUUID()}` };
    const first = await call(user.token, "POST", "generations", { idea: "the first request" }, key);
    expect(first.status).toBe(201);
    expect(await call(user.token, "POST", "generations", { idea: "a different request" }, key))
      .toMatchObject({ status: 422, body: { error: { code: "IDEMPOTENCY_KEY_REUSED" } } });
    expect(await call(user.token, "POST", "generations", { idea: "long key" }, { "idempotency-key": "k".repeat(255) }))
      .toMatchObject({ status: 201 });
    expect(await call(user.token, "POST", "generations", { idea: "too long" }, { "idempotency-key": "k".repeat(256) }))
      .toMatchObject({ status: 400, body: { error: { code: "INVALID_REQUEST" } } });
    await call(user.token, "POST", `generations/${first.body.generation.id}/cancel`);
  });
});

describe("the public gallery", () => {
  it("carries no user id, not even inside a signed URL", async () => {
    const owner = await newUser();
    const created = await call(owner.token, "POST", "anime-video/create-task", { prompt: "public work", model_id: "sora-2", visibility_level: "public" });
    const id = created.body.data.generation_uuid;
    await waitForStatus(id, ["completed"]);
    const viewer = await newUser();
    const gallery = await call(viewer.token, "GET", "generation/gallery?limit=100");
    const entry = gallery.body.data.find((e: { uuid: string }) => e.uuid === id);
    expect(entry.video_url).toMatch(/^http/);
    expect(JSON.stringify(gallery.body)).not.toContain(owner.id);
  });
});
