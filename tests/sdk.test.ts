// A test app that uses only the SDK (packages/client) and supabase-js: signs in, runs a
// cinematic, a model-direct and a movie generation with live progress from Realtime (polls
// all but switched off), and gets typed errors.
import { createClient } from "@supabase/supabase-js";
import ws from "ws";
import { afterEach, describe, expect, it } from "vitest";
import { type Progress, ReelforgeClient, ReelforgeError } from "../packages/client/src/index";
import { env, newUser, resetSims, type TestUser } from "./helpers";
import { scene, spoken } from "./movie-helpers";

const clients: ReelforgeClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.supabase.removeAllChannels();
});

/** The app's start: supabase-js signed in, the SDK on top. Polls only once a minute. */
async function app(user: TestUser) {
  const supabase = createClient(env.API_URL, env.ANON_KEY, { auth: { persistSession: false }, realtime: { transport: ws as never } });
  const { error } = await supabase.auth.signInWithPassword({ email: user.email, password: "correct-horse" });
  if (error) throw error;
  const client = new ReelforgeClient(supabase, { pollIntervalMs: 60_000, safetyPollMs: 60_000 });
  clients.push(client);
  return client;
}

/** Progress reported from broadcasts, in order: it must move and end once. */
function expectLive(seen: Progress[], end = "completed") {
  const live = seen.filter((p) => p.source === "realtime");
  expect(live.length, JSON.stringify(seen)).toBeGreaterThanOrEqual(3);
  expect(seen.at(-1)!.status).toBe(end);
  expect(seen.filter((p) => p.status === end).length).toBe(1);
  expect(new Set(seen.map((p) => p.progress)).size).toBeGreaterThanOrEqual(3);
}

describe("the SDK", () => {
  it("pages through lists, the ledger and the gallery", async () => {
    await resetSims();
    const user = await newUser(2000);
    const client = await app(user);
    const ids = [];
    for (const idea of ["a red kite", "a blue kite", "a green kite"]) ids.push((await client.generations.create({ idea, visibility: "public" })).id);
    for (const id of ids) await client.wait(id, { timeoutMs: 120_000 });
    const first = await client.generations.list({ limit: 2, status: ["completed"], pipeline: ["cinematic"] });
    const second = await client.generations.list({ limit: 2, cursor: first.nextCursor!, status: ["completed"] });
    expect([...first.items, ...second.items].map((g) => g.id)).toEqual([...ids].reverse());
    expect(second.nextCursor).toBeNull();
    const credits = await client.credits.get({ limit: 3 });
    expect(credits).toMatchObject({ balance: 2000 - 3 * 185, reserved: 0 });
    expect(credits.ledger.items.map((e) => e.kind)).toEqual(["capture", "capture", "capture"]);
    expect(credits.ledger.nextCursor).not.toBeNull();
    const gallery = await client.gallery.list({ limit: 3, pipeline: "cinematic" });
    // The newest public cinematic videos are these three (in the order they completed).
    expect(gallery.items.map((g) => g.uuid).sort()).toEqual([...ids].sort());
    const bad = await client.generations.list({ status: ["running" as never] }).catch((e) => e);
    expect(bad).toBeInstanceOf(ReelforgeError);
    expect(bad).toMatchObject({ code: "INVALID_REQUEST", status: 400 });
  });

  it("runs a cinematic generation, following it live", async () => {
    await resetSims();
    const client = await app(await newUser());
    const g = await client.generations.create({ idea: "a lighthouse keeper befriends a whale", duration: 5 });
    const seen: Progress[] = [];
    const end = await client.wait(g.id, { onProgress: (p) => seen.push(p), timeoutMs: 120_000 });
    expect(end.status).toBe("completed");
    // The simulators finish in about a second: at least the end came from a broadcast.
    expect(seen.some((p) => p.source === "realtime"), JSON.stringify(seen)).toBe(true);
    expect(seen.filter((p) => p.status === "completed").length).toBe(1);
    const done = await client.generations.get(g.id);
    expect(done.video_url).toMatch(/^http/);
    expect(done.credits.charged).toBe(g.credits.reserved);
  });

  it("runs a model-direct generation, following it live", async () => {
    await resetSims();
    const client = await app(await newUser());
    const input = { prompt: "a fox spirit dancing under lanterns", model_id: "kling/video-v2.5", duration_seconds: 5 };
    const quote = await client.modelDirect.quote(input);
    const created = await client.modelDirect.create(input);
    expect(created.credits_cost).toBe(quote.estimated_credits);
    const seen: Progress[] = [];
    await client.wait(created.generation_uuid, { onProgress: (p) => seen.push(p), timeoutMs: 120_000 });
    expect(seen.at(-1)!.status).toBe("completed");
    expect(seen.some((p) => p.source === "realtime")).toBe(true);
    expect((await client.modelDirect.status(created.generation_uuid)).results[0].video_url).toMatch(/^http/);
  });

  it("makes a movie as the seed's MovieFlowClient does, with per-scene progress", async () => {
    await resetSims();
    const client = await app(await newUser());
    const task = await client.generateVideo({ projectName: "sdk", scenes: [scene("s1", { duration: 5, ...spoken("Dawn.") }), scene("s2", { duration: 5 })] });
    const seen: Progress[] = [];
    const t = await task.wait({ onProgress: (p) => seen.push(p), timeoutMs: 180_000 });
    expect(t.videoUrl).toMatch(/^http/);
    expect(t.segments.map((s) => s.status)).toEqual(["completed", "completed"]);
    expectLive(seen);
    const perScene = seen.filter((p) => p.segments && Object.keys(p.segments).length === 2);
    expect(perScene.some((p) => p.segments!.s1 < 100 || p.segments!.s2 < 100)).toBe(true);
  });

  it("throws typed errors with the catalog code and requestId", async () => {
    const poor = await app(await newUser(0));
    const err = await poor.generations.create({ idea: "x" }).catch((e) => e);
    expect(err).toBeInstanceOf(ReelforgeError);
    expect(err).toMatchObject({ code: "INVALID_REQUEST", status: 400, requestId: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    const broke = await poor.generations.create({ idea: "a quiet harbour at dawn" }).catch((e) => e);
    expect(broke).toMatchObject({ code: "QUOTA_EXCEEDED", status: 402 });
    const missing = await poor.movies.get(crypto.randomUUID()).catch((e) => e);
    expect(missing).toMatchObject({ code: "NOT_FOUND", status: 404 });
  });
});
