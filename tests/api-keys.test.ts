// API keys for servers (issue 25.8): made by a signed-in user and shown once, listed without
// the secret, revoked; a key acts as its owner (credits, rate limit) on every public function.
import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { call, newUser, ROOT, sql } from "./helpers";

describe("API keys", () => {
  it("a key is shown once, listed without its secret, acts as its owner, and is refused once revoked", async () => {
    const owner = await newUser(1000);
    const made = await call(owner.token, "POST", "api-keys", { name: "render server" });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    const key: string = made.body.key;
    expect(key).toMatch(/^rf_live_[A-Za-z0-9_-]{43}$/);
    expect(made.body).toMatchObject({ name: "render server", prefix: key.slice(0, 12), lastUsedAt: null });

    // The owner's credits and runs, through the key.
    expect((await call(key, "GET", "credits")).body.balance).toBe(1000);
    const created = await call(key, "POST", "generations", { idea: "a server-made video" });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect((await call(owner.token, "GET", `generations/${created.body.generation.id}`)).status).toBe(200);
    expect((await call(owner.token, "GET", "credits")).body.balance).toBe(1000 - created.body.generation.credits.reserved);
    await call(key, "POST", `generations/${created.body.generation.id}/cancel`);

    const listed = await call(owner.token, "GET", "api-keys");
    expect(listed.body.keys).toEqual([{ id: made.body.id, name: "render server", prefix: key.slice(0, 12), createdAt: expect.any(String), lastUsedAt: expect.any(String) }]);
    expect(JSON.stringify(listed.body)).not.toContain(key.slice(12));
    const [stored] = await sql`select secret_hash from engine.api_keys where id = ${made.body.id}`;
    expect(stored.secret_hash).not.toContain(key.slice(12));

    // Keys do not manage keys: a leaked one cannot make more or revoke the others.
    expect(await call(key, "POST", "api-keys", { name: "more" })).toMatchObject({ status: 403, body: { error: { code: "FORBIDDEN" } } });

    expect(await call(owner.token, "DELETE", `api-keys/${made.body.id}`)).toMatchObject({ status: 200, body: { revoked: made.body.id } });
    expect(await call(key, "GET", "credits")).toMatchObject({ status: 401, body: { error: { code: "UNAUTHORIZED", message: "This API key has been revoked" } } });
    expect(await call(`rf_live_${"x".repeat(43)}`, "GET", "credits")).toMatchObject({ status: 401, body: { error: { code: "UNAUTHORIZED", message: "This API key is not valid" } } });
    expect((await call(owner.token, "GET", "api-keys")).body.keys).toEqual([]);
    expect(await call(owner.token, "DELETE", `api-keys/${made.body.id}`)).toMatchObject({ status: 404, body: { error: { code: "NOT_FOUND" } } });

    // Never in a log of the stack.
    for (const log of readdirSync(`${ROOT}.stack`).filter((f) => f.endsWith(".log"))) {
      expect(readFileSync(`${ROOT}.stack/${log}`, "utf8").includes(key.slice(8)), log).toBe(false);
    }
  });

  it("a key shares its owner's rate limit, another user's key cannot reach the owner's runs, and keys are capped", async () => {
    const [owner, other] = [await newUser(1000), await newUser(0)];
    const key = (await call(owner.token, "POST", "api-keys", { name: "cron" })).body.key;
    const otherKey = (await call(other.token, "POST", "api-keys", { name: "theirs" })).body.key;
    const created = await call(owner.token, "POST", "generations", { idea: "mine" });
    expect((await call(otherKey, "GET", `generations/${created.body.generation.id}`)).status).toBe(404);
    await call(owner.token, "POST", `generations/${created.body.generation.id}/cancel`);

    await sql`update engine.settings set max_api_keys_per_user = 1`;
    try {
      expect(await call(owner.token, "POST", "api-keys", { name: "one too many" }))
        .toMatchObject({ status: 400, body: { error: { code: "INVALID_REQUEST", message: "At most 1 API keys: revoke one first" } } });
    } finally {
      await sql`update engine.settings set max_api_keys_per_user = 20`;
    }

    await sql`update engine.settings set api_requests_per_minute = 60, api_burst = 4`;
    try {
      const statuses = [];
      for (const token of [owner.token, key, owner.token, key, key]) statuses.push((await call(token, "GET", "credits")).status);
      expect(statuses).toEqual([200, 200, 200, 200, 429]);
    } finally {
      await sql`update engine.settings set api_requests_per_minute = 1000000, api_burst = 1000000`;
    }
  });
});
