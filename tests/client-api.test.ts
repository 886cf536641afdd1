// What a web or mobile client meets: CORS on every function, credits and the ledger, lists in
// pages with filters, signed URLs that stay put, one status vocabulary, progress that moves
// while a provider works.
import { readFileSync } from "node:fs";
import { parse } from "smol-toml";
import { beforeEach, describe, expect, it } from "vitest";
import { call, confirmByMail, env, FUNCTIONS, newUser, resetSims, ROOT, simKnobs, sql, supabaseClient, type TestUser, waitFor, waitForStatus, waitForTask } from "./helpers";

const ORIGIN = "https://app.example.com";
const STATUSES = ["queued", "processing", "completed", "failed", "canceled"];

async function createCinematic(user: TestUser, idea = "a paper boat sails a rain gutter") {
  const res = await call(user.token, "POST", "generations", { idea });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.generation.id as string;
}

async function createSora(user: TestUser, visibility = "private") {
  const res = await call(user.token, "POST", "anime-video/create-task", { prompt: "a lantern festival", model_id: "sora-2", visibility_level: visibility });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.data.generation_uuid as string;
}

/** A cinematic run created while its owner may run nothing (so it stays queued), then canceled. */
async function queuedThenCanceled(user: TestUser, whileQueued: (id: string) => Promise<void> = async () => {}) {
  await sql`update engine.settings set max_active_generations_per_user = 0`;
  try {
    const id = await createCinematic(user);
    await whileQueued(id);
    expect((await call(user.token, "POST", `generations/${id}/cancel`)).status).toBe(200);
    return id;
  } finally {
    await sql`update engine.settings set max_active_generations_per_user = 3`;
  }
}

/** Every page of a list, following next_cursor. */
async function allPages(user: TestUser, path: string, key: string) {
  const pages: string[][] = [];
  let cursor: string | null = null;
  do {
    const res = await call(user.token, "GET", `${path}${path.includes("?") ? "&" : "?"}${cursor ? `cursor=${cursor}` : ""}`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    pages.push(res.body[key].map((r: { id?: string; uuid?: string }) => r.id ?? r.uuid));
    cursor = res.body.next_cursor;
  } while (cursor && pages.length < 50);
  return pages;
}

beforeEach(async () => {
  await resetSims();
});

describe("CORS", () => {
  const functions = Object.keys((parse(readFileSync(`${ROOT}supabase/config.toml`, "utf8")) as { functions: Record<string, unknown> }).functions);

  it("every function answers a browser's preflight, without a token", async () => {
    expect(functions.length).toBeGreaterThan(15);
    for (const name of functions) {
      const res = await fetch(`${FUNCTIONS}/${name}/anything`, {
        method: "OPTIONS",
        headers: { Origin: ORIGIN, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization, content-type, x-client-info, apikey" },
      });
      await res.body?.cancel();
      expect(res.status, name).toBe(204);
      expect(res.headers.get("access-control-allow-origin"), name).toBe("*");
      expect(res.headers.get("access-control-allow-headers")?.split(",").map((h) => h.trim()), name)
        .toEqual(expect.arrayContaining(["authorization", "content-type", "x-client-info", "apikey", "idempotency-key"]));
      expect(res.headers.get("access-control-allow-methods"), name).toContain("DELETE");
    }
  });

  it("answers and errors carry CORS headers, so a browser can read the envelope", async () => {
    const user = await newUser(0);
    const refused = await fetch(`${FUNCTIONS}/generations`, { headers: { Origin: ORIGIN } });
    expect(refused.status).toBe(401);
    expect(refused.headers.get("access-control-allow-origin")).toBe("*");
    expect((await refused.json()).error.code).toBe("UNAUTHORIZED");
    const invalid = await fetch(`${FUNCTIONS}/generations`, {
      method: "POST", headers: { Origin: ORIGIN, Authorization: `Bearer ${user.token}`, "content-type": "application/json" }, body: "{}",
    });
    expect(invalid.status).toBe(400);
    expect(invalid.headers.get("access-control-allow-origin")).toBe("*");
    expect(invalid.headers.get("access-control-expose-headers")).toContain("Retry-After");
    expect((await invalid.json()).error.code).toBe("INVALID_REQUEST");
  });
});

describe("the OpenAPI document and the reference page", () => {
  it("are served without a token, for this project's URL", async () => {
    const doc = await (await fetch(`${FUNCTIONS}/openapi`)).json();
    const checkedIn = JSON.parse(readFileSync(`${ROOT}docs/openapi.json`, "utf8"));
    expect(doc).toEqual({ ...checkedIn, servers: [{ url: FUNCTIONS }] });
    const page = await fetch(`${FUNCTIONS}/openapi/docs`);
    expect(page.headers.get("content-type")).toMatch(/^text\/html/);
    const html = await page.text();
    expect(html).toContain(`"${FUNCTIONS}/openapi"`);
    const script = await fetch(html.match(/<script src="([^"]+)"/)![1]);
    expect(script.status).toBe(200);
    expect((await script.text()).length).toBeGreaterThan(1_000_000);
  });
});

describe("credits", () => {
  it("a new user starts with the welcome grant and sees it in GET credits", async () => {
    await sql`update engine.settings set welcome_credits = 500`;
    let user: TestUser;
    try {
      const email = `w-${crypto.randomUUID()}@test.local`;
      const { data, error } = await supabaseClient().auth.signUp({ email, password: "correct-horse" });
      if (error || !data.user) throw error ?? new Error("no user");
      // Nothing to spend before the address is confirmed (issue 26.7).
      expect((await sql`select balance::int from public.credit_accounts where user_id = ${data.user.id}`)[0].balance).toBe(0);
      user = { id: data.user.id, token: (await confirmByMail(env.MAILPIT_URL, email)).access_token, email };
    } finally {
      await sql`update engine.settings set welcome_credits = 0`;
    }
    const res = await call(user.token, "GET", "credits");
    expect(res).toMatchObject({ status: 200, body: { balance: 500, reserved: 0, next_cursor: null } });
    expect(res.body.ledger).toEqual([expect.objectContaining({ kind: "grant", amount: 500, reason: "welcome", generation_id: null })]);
    // The grant pays for a first video: no 402.
    expect((await call(user.token, "POST", "generations", { idea: "my very first video" })).status).toBe(201);
  });

  it("shows the balance, what running work holds, and the ledger in pages", async () => {
    await simKnobs({ latency_ms: { kling: 60_000 } });
    const user = await newUser(1000);
    const id = await createCinematic(user);
    await waitForTask(id, "video", ["waiting"]);
    const running = await call(user.token, "GET", "credits");
    // 185 reserved at create; script, image and video captured as they started.
    expect(running.body).toMatchObject({ balance: 815, reserved: 0 });
    const view = (await call(user.token, "GET", `generations/${id}`)).body.generation;
    expect(view.credits).toEqual({ reserved: 0, charged: 185, refunded: 0 });

    const queuedUser = await newUser(1000);
    await queuedThenCanceled(queuedUser, async (queued) => {
      expect((await call(queuedUser.token, "GET", "credits")).body).toMatchObject({ balance: 815, reserved: 185 });
      expect((await call(queuedUser.token, "GET", `generations/${queued}`)).body.generation).toMatchObject({ status: "queued", credits: { reserved: 185 } });
    });
    // Canceled: the reservation went back, and the run says so.
    expect((await call(queuedUser.token, "GET", "generations")).body.generations[0]).toMatchObject({
      status: "canceled", credits: { reserved: 0, charged: 0, refunded: 0 },
    });
    expect((await call(queuedUser.token, "GET", "credits")).body).toMatchObject({ balance: 1000, reserved: 0 });
    await call(user.token, "POST", `generations/${id}/cancel`);

    const pages = await allPages(user, "credits?limit=2", "ledger");
    const whole = (await call(user.token, "GET", "credits?limit=100")).body.ledger;
    // Newest first: everything started was captured, so cancel released nothing.
    expect(whole.map((e: { kind: string }) => e.kind)).toEqual(["capture", "capture", "capture", "reserve", "grant"]);
    expect(pages.flat()).toEqual(whole.map((e: { id: string }) => e.id));
    expect(pages.map((p) => p.length)).toEqual([2, 2, 1]);
    expect((await call(user.token, "GET", "credits?kind=capture")).body.ledger.map((e: { step: string }) => e.step).sort())
      .toEqual(["base_image", "script", "video"]);
    for (const bad of ["credits?cursor=nonsense", "credits?limit=0", "credits?kind=gift", "credits?offset=10"]) {
      expect((await call(user.token, "GET", bad)).body.error.code, bad).toBe("INVALID_REQUEST");
    }
  });
});

describe("movie credits", () => {
  it("a canceled movie task holds nothing", async () => {
    const user = await newUser(1000);
    await sql`update engine.settings set max_active_generations_per_user = 0`;
    try {
      const created = await call(user.token, "POST", "video/generate", { projectName: "held", scenes: [{ id: "s1", prompt: "a paper lantern", duration: 5 }] });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      expect((await call(user.token, "GET", `task/${created.body.taskId}`)).body.credits).toMatchObject({ reserved: created.body.credits });
      const canceled = await call(user.token, "DELETE", `task/${created.body.taskId}`);
      expect(canceled.body).toMatchObject({ status: "canceled", credits: { reserved: 0, charged: 0 } });
    } finally {
      await sql`update engine.settings set max_active_generations_per_user = 3`;
    }
    expect((await call(user.token, "GET", "credits")).body).toMatchObject({ balance: 1000, reserved: 0 });
  });
});

describe("lists", () => {
  it("my generations come in pages, filtered by status and pipeline, never another's", async () => {
    const user = await newUser(5000);
    const other = await newUser(5000);
    const cinematic = [await createCinematic(user), await createCinematic(user)];
    const sora = [await createSora(user), await createSora(user), await createSora(user)];
    await createSora(other);
    for (const id of [...cinematic, ...sora]) await waitForStatus(id, ["completed"]);
    const failed = await queuedThenCanceled(user);

    const newestFirst = [...cinematic, ...sora, failed].reverse();
    const pages = await allPages(user, "generations?limit=2", "generations");
    expect(pages.flat()).toEqual(newestFirst);
    expect(pages.map((p) => p.length)).toEqual([2, 2, 2]);
    expect((await allPages(user, "generations?limit=2&pipeline=model_direct", "generations")).flat()).toEqual([...sora].reverse());
    expect((await allPages(user, "generations?status=completed&pipeline=cinematic", "generations")).flat()).toEqual([...cinematic].reverse());
    expect((await allPages(user, "generations?status=canceled,failed", "generations")).flat()).toEqual([failed]);

    for (const [bad, says] of [["status=running", "status"], ["pipeline=film", "pipeline"], ["limit=101", "limit"], ["cursor=zzz", "cursor"], ["offset=2", "offset"]]) {
      const res = await call(user.token, "GET", `generations?${bad}`);
      expect(res.body.error, bad).toMatchObject({ code: "INVALID_REQUEST", message: expect.stringContaining(says) });
    }
  });

  it("the public gallery comes in pages too, filtered by pipeline", async () => {
    const owner = await newUser(5000);
    const viewer = await newUser(0);
    const mine = [await createSora(owner, "public"), await createSora(owner, "public"), await createSora(owner, "public")];
    for (const id of mine) await waitForStatus(id, ["completed"]);
    const pages = await allPages(viewer, "generation/gallery?limit=2&pipeline=model_direct", "data");
    const seen = pages.flat();
    expect(new Set(seen).size).toBe(seen.length);
    // Newest first: ours are the latest model-direct ones, in completion order.
    const done = await sql`select id from public.generations where id = any(${mine}) order by completed_at desc, id desc`;
    expect(seen.slice(0, 3)).toEqual(done.map((r) => r.id));
    const cinematicOnly = (await call(viewer.token, "GET", "generation/gallery?pipeline=cinematic&limit=100")).body.data;
    expect(cinematicOnly.every((g: { pipeline: string }) => g.pipeline === "cinematic")).toBe(true);
    expect((await call(viewer.token, "GET", "generation/gallery?limit=500")).body.error.code).toBe("INVALID_REQUEST");
  });
});

describe("signed URLs and statuses", () => {
  it("a completed video keeps its signed URL across reads, and result fields hold what they name", async () => {
    const user = await newUser(1000);
    const id = await createCinematic(user);
    await waitForStatus(id, ["completed"]);
    const first = (await call(user.token, "GET", `generations/${id}`)).body.generation;
    // Tokens carry their issue second: a URL minted again now would differ.
    const second = Math.floor(Date.now() / 1000);
    await waitFor("the next second", async () => Math.floor(Date.now() / 1000) > second);
    const again = (await call(user.token, "GET", `generations/${id}`)).body.generation;
    expect(again.video_url).toBe(first.video_url);
    expect(again.base_image_url).toBe(first.base_image_url);

    const status = (await call(user.token, "GET", `generation/status/${id}`)).body;
    expect(status).toMatchObject({ status: "completed", state: "completed", results: [{ video_url: first.video_url, poster_url: expect.stringMatching(/^http/) }] });
    expect(Object.keys(status.results[0]).sort()).toEqual(["poster_url", "video_url"]);
    expect((await fetch(status.results[0].poster_url)).headers.get("content-type")).toMatch(/^image\//);
  });

  it("one vocabulary: runs and steps are queued, processing, completed, failed or canceled", async () => {
    await simKnobs({ latency_ms: { kling: 60_000 } });
    const user = await newUser(1000);
    const id = await createCinematic(user);
    await waitForTask(id, "video", ["waiting"]);
    const view = (await call(user.token, "GET", `generations/${id}`)).body;
    expect(view.generation.status).toBe("processing");
    expect(view.generation.tasks.find((t: { step: string }) => t.step === "video").status).toBe("processing");
    for (const s of [view.generation.status, ...view.generation.tasks.map((t: { status: string }) => t.status), ...view.events.map((e: { status: string }) => e.status)]) {
      expect([...STATUSES, "skipped"]).toContain(s);
    }
    const list = (await call(user.token, "GET", "generations?status=processing")).body.generations;
    expect(list.map((g: { id: string }) => g.id)).toEqual([id]);
    await call(user.token, "POST", `generations/${id}/cancel`);
    // The contract's four words keep canceled as failed; state says which.
    expect((await call(user.token, "GET", `generation/status/${id}`)).body).toMatchObject({ status: "failed", state: "canceled", error_message: "Canceled by the user" });
  });

  it("progress moves while the provider works, though it reports no percent", async () => {
    await simKnobs({ latency_ms: { kie: 120_000 } });
    const user = await newUser(1000);
    const id = await createSora(user);
    await waitForTask(id, "video", ["waiting"]);
    const at = async () => (await call(user.token, "GET", `generation/status/${id}`)).body.progress as number;
    const start = await at();
    const moved = await waitFor("progress to move during the kie wait", async () => ((await at()) > start ? await at() : null), 40_000);
    expect(moved).toBeGreaterThan(start);
    expect(moved).toBeLessThan(100);
    expect((await sql`select status from engine.tasks where generation_id = ${id} and step = 'video'`)[0].status).toBe("waiting");
    await call(user.token, "POST", `generations/${id}/cancel`);
  });
});
