// The cinematic pipeline end to end against the local stack and the simulators.
import { mkdtempSync } from "node:fs";
import { beforeEach, describe, expect, it } from "vitest";
import {
  call, ffprobe, ledger, newUser, resetSims, row, simKnobs, simStats, sql, type TestUser, uploadSelfie, waitFor,
  waitForStatus, waitForTask, writeFile,
} from "./helpers";

async function create(user: TestUser, body: Record<string, unknown>) {
  const res = await call(user.token, "POST", "generations", body);
  expect(res.status).toBe(201);
  return res.body.generation.id as string;
}

async function finalVideo(user: TestUser, id: string) {
  const res = await call(user.token, "GET", `generations/${id}`);
  expect(res.status).toBe(200);
  const video = await fetch(res.body.generation.video_url);
  expect(video.status).toBe(200);
  const file = `${mkdtempSync("/tmp/reelforge-")}/video.mp4`;
  writeFile(file, new Uint8Array(await video.arrayBuffer()));
  return { file, view: res.body };
}

beforeEach(async () => {
  await resetSims();
});

describe("cinematic generation", () => {
  it("turns an idea into a stored 9:16 MP4 of the requested length, charging the quote", async () => {
    const user = await newUser(1000);
    const quote = await call(user.token, "POST", "quote", { duration: 10 });
    const id = await create(user, { idea: "a lighthouse keeper befriends a whale", duration: 10 });
    const done = await waitForStatus(id, ["completed", "failed"]);
    expect(done.status).toBe("completed");

    const { file, view } = await finalVideo(user, id);
    expect(ffprobe(file)).toMatchObject({ width: 720, height: 1280, codec: "h264" });
    expect(ffprobe(file).duration).toBeCloseTo(10, 0);
    expect(view.generation.script).toMatchObject({ t2i_prompt: expect.any(String), motion_prompt: expect.any(String) });
    expect(view.generation.credits).toEqual({ reserved: 0, charged: quote.body.estimated_credits, refunded: 0 });
    // Metered: each task captures its own price when its paid work starts.
    expect(await ledger(id)).toEqual([`1:reserve:${quote.body.estimated_credits}`, "1:capture:5", "1:capture:20", "1:capture:320"]);
    expect(view.events.map((e: { step: string }) => e.step)).not.toContain("face_merge");
    const [{ balance }] = await sql`select balance::int from public.credit_accounts where user_id = ${user.id}`;
    expect(balance).toBe(1000 - quote.body.estimated_credits);
  });

  it("merges the user's selfie when one is given", async () => {
    const user = await newUser();
    const selfie = await uploadSelfie(user);
    const id = await create(user, { idea: "me as a samurai in the rain", selfie_path: selfie });
    expect((await waitForStatus(id, ["completed", "failed"])).status).toBe("completed");
    const { file, view } = await finalVideo(user, id);
    expect(view.events.filter((e: { step: string }) => e.step === "face_merge").length).toBeGreaterThan(0);
    expect(view.generation.merged_image_url).toMatch(/^http/);
    expect(ffprobe(file)).toMatchObject({ width: 720, height: 1280 });
    expect(ffprobe(file).duration).toBeCloseTo(5, 0);
  });

  it("completes by polling alone when every webhook is lost", async () => {
    await simKnobs({ webhook_drop_rate: 1 });
    const user = await newUser();
    const id = await create(user, { idea: "a paper boat crossing an ocean" });
    expect((await waitForStatus(id, ["completed", "failed"], 100_000)).status).toBe("completed");
    expect((await simStats()).stats.webhooks_dropped).toBeGreaterThan(0);
    expect((await simStats()).stats.webhooks_delivered ?? 0).toBe(0);
  });

  it("ignores duplicate, late and mismatched webhooks", async () => {
    await simKnobs({ webhook_duplicate_rate: 1 });
    const user = await newUser();
    const id = await create(user, { idea: "fireflies over a mountain lake" });
    expect((await waitForStatus(id, ["completed"])).status).toBe("completed");
    const events = await sql`select count(*)::int as n from public.generation_events where generation_id = ${id}`;
    expect((await simStats()).stats.webhooks_delivered).toBe(2);

    const r = await row(id);
    const late = await call(null, "POST", `handle-novita-webhook?token=${r.webhook_token}`, {
      event_type: "ASYNC_TASK_RESULT",
      payload: { task: { task_id: r.provider_task_id, status: "TASK_STATUS_FAILED", reason: "forged" } },
    });
    expect(late.status).toBe(200);
    const wrongTask = await call(null, "POST", `handle-novita-webhook?token=${r.webhook_token}`, {
      event_type: "ASYNC_TASK_RESULT", payload: { task: { task_id: "someone-elses-task", status: "TASK_STATUS_SUCCEED" } },
    });
    expect(wrongTask.status).toBe(200);
    const after = await row(id);
    expect(after.status).toBe("completed");
    expect(after.updated_at).toEqual(r.updated_at);
    expect((await sql`select count(*)::int as n from public.generation_events where generation_id = ${id}`)[0].n).toBe(events[0].n);
  });

  it("a webhook claiming failure is checked against the provider before it is believed", async () => {
    await simKnobs({ webhook_drop_rate: 1, latency_ms: { kling: 4000 } });
    const user = await newUser();
    const id = await create(user, { idea: "a forged failure must not stick" });
    const waiting = await waitForTask(id, "video", ["waiting"]);
    const forged = await call(null, "POST", `handle-novita-webhook?token=${waiting.webhook_token}`, {
      event_type: "ASYNC_TASK_RESULT",
      payload: { task: { task_id: waiting.provider_task_id, status: "TASK_STATUS_FAILED", reason: "forged" } },
    });
    expect(forged.status).toBe(200);
    expect((await waitForStatus(id, ["completed", "failed"], 100_000)).status).toBe("completed");
  });
});

describe("cinematic failures end failed with a mapped code, the failed task refunded", () => {
  // Metered: work that succeeded before the failure stays charged (and is kept for a retry);
  // the failed task's capture is refunded; what never started is released.
  const cases: [string, Record<string, unknown>, string, boolean, string[], number][] = [
    ["no face in the selfie", { no_face: true }, "INVALID_REQUEST", true,
      ["1:reserve:200", "1:capture:5", "1:capture:20", "1:capture:15", "1:refund:15", "1:release:160"], 25],
    ["a blocked prompt", { block_prompt: true }, "CONTENT_VIOLATION", false,
      ["1:reserve:185", "1:capture:5", "1:refund:5", "1:release:180"], 0],
    ["a FAILED provider task", { task_fail_rate: 1 }, "TASK_FAILED", false,
      ["1:reserve:185", "1:capture:5", "1:capture:20", "1:capture:160", "1:refund:160"], 25],
  ];
  for (const [what, knobs, code, withSelfie, expectedLedger, charged] of cases) {
    it(what, async () => {
      await simKnobs(knobs);
      const user = await newUser(1000);
      const selfie = withSelfie ? await uploadSelfie(user) : undefined;
      const id = await create(user, { idea: "this one will fail", ...(selfie ? { selfie_path: selfie } : {}) });
      const failed = await waitForStatus(id, ["failed", "completed"]);
      expect(failed.status).toBe("failed");
      expect(failed.error_code).toBe(code);
      const view = await call(user.token, "GET", `generations/${id}`);
      expect(view.body.generation.error).toMatchObject({ code, message: expect.any(String) });
      expect(await ledger(id)).toEqual(expectedLedger);
      expect(failed.credits_charged).toBe(charged);
      const [{ balance }] = await sql`select balance::int from public.credit_accounts where user_id = ${user.id}`;
      expect(balance).toBe(1000 - charged);
    });
  }

  it("a provider outage is retried with backoff and the generation still completes", async () => {
    await simKnobs({ fail_next_requests: 2 });
    const user = await newUser();
    const id = await create(user, { idea: "flaky provider, steady product" });
    expect((await waitForStatus(id, ["completed", "failed"], 110_000)).status).toBe("completed");
    expect((await simStats()).stats.injected_500).toBe(2);
    const attempts = await sql`select max(attempt)::int as n from public.generation_events where generation_id = ${id} and step = 'script'`;
    expect(attempts[0].n).toBe(3);
  });

  it("a provider that stays down fails the step after its attempts, with a refund", async () => {
    await simKnobs({ fail_next_requests: 1000 });
    const user = await newUser(1000);
    const id = await create(user, { idea: "the provider never comes back" });
    const failed = await waitForStatus(id, ["completed", "failed"], 110_000);
    expect(failed).toMatchObject({ status: "failed", error_code: "SERVICE_UNAVAILABLE", step: "script", attempt: 4 });
    expect(failed.error_message).toContain("gave up after 4 attempts");
    expect(await ledger(id)).toEqual(["1:reserve:185", "1:capture:5", "1:refund:5", "1:release:180"]);
  });
});

describe("cancel and retry", () => {
  it("cancel mid-flight stops the chain, makes no further provider calls and charges only the work started", async () => {
    await simKnobs({ latency_ms: { kling: 3000 } });
    const user = await newUser(1000);
    const id = await create(user, { idea: "cancel me while the video renders" });
    await waitForTask(id, "video", ["waiting"]);
    const before = (await simStats()).stats;
    const res = await call(user.token, "POST", `generations/${id}/cancel`);
    expect(res).toMatchObject({ status: 200, body: { generation: { status: "canceled" } } });
    await waitFor("the provider task to finish", async () => ((await simStats()).stats.kling_tasks_succeeded ?? 0) > (before.kling_tasks_succeeded ?? 0));
    await sql`select engine.reconcile()`;
    const after = (await simStats()).stats;
    expect(after.kling_submissions).toBe(before.kling_submissions);
    expect(after.seedream_images).toBe(before.seedream_images);
    expect((await row(id)).status).toBe("canceled");
    // Script, image and the submitted video task had started: charged; nothing else was reserved.
    expect(await ledger(id)).toEqual(["1:reserve:185", "1:capture:5", "1:capture:20", "1:capture:160"]);
    expect((await call(user.token, "POST", `generations/${id}/cancel`)).body.error.code).toBe("INVALID_REQUEST");
  });

  it("retry runs a failed generation again from its failed step", async () => {
    await simKnobs({ task_fail_rate: 1 });
    const user = await newUser(1000);
    const id = await create(user, { idea: "second time lucky" });
    expect((await waitForStatus(id, ["failed"])).step).toBe("video");
    await simKnobs({ task_fail_rate: 0 });
    const before = (await simStats()).stats;
    const res = await call(user.token, "POST", `generations/${id}/retry`);
    expect(res).toMatchObject({ status: 200, body: { generation: { status: "processing", step: "video" } } });
    expect((await waitForStatus(id, ["completed", "failed"])).status).toBe("completed");
    const after = (await simStats()).stats;
    expect(after.gemini_requests ?? 0).toBe(before.gemini_requests ?? 0);
    // Round 2 reserves and charges only the re-run video task.
    expect(await ledger(id)).toEqual(["1:reserve:185", "1:capture:5", "1:capture:20", "1:capture:160", "1:refund:160",
      "2:reserve:160", "2:capture:160"]);
  });
});

describe("the client API", () => {
  it("refuses bad input with the envelope and changes nothing", async () => {
    const user = await newUser(1000);
    const bad = [
      [{}, "idea"],
      [{ idea: "ok idea", duration: 7 }, "duration"],
      [{ idea: "ok idea", aspect_ratio: "4:3" }, "aspect_ratio"],
      [{ idea: "ok idea", surprise: true }, ""],
      [{ idea: "ok idea", selfie_path: `${crypto.randomUUID()}/x.jpg` }, ""],
      ["{not json", ""],
    ] as const;
    for (const [body, field] of bad) {
      const res = await call(user.token, "POST", "generations", body);
      expect([400, 403]).toContain(res.status);
      expect(res.body.error.message).toContain(field);
    }
    const poor = await newUser(100);
    const quota = await call(poor.token, "POST", "generations", { idea: "too expensive for me" });
    expect(quota).toMatchObject({ status: 402, body: { error: { code: "QUOTA_EXCEEDED" } } });
    const rows = await sql`select count(*)::int as n from public.generations where user_id in (${user.id}, ${poor.id})`;
    expect(rows[0].n).toBe(0);
  });

  it("an Idempotency-Key makes a repeated create return the same generation, charged once", async () => {
    const user = await newUser(1000);
    const key = { "idempotency-key": `key-${crypto.randomUUID()}` };
    const a = await call(user.token, "POST", "generations", { idea: "only once please" }, key);
    const b = await call(user.token, "POST", "generations", { idea: "only once please" }, key);
    expect(b.body.generation.id).toBe(a.body.generation.id);
    const [{ balance }] = await sql`select balance::int from public.credit_accounts where user_id = ${user.id}`;
    expect(balance).toBe(815);
    await call(user.token, "POST", `generations/${a.body.generation.id}/cancel`);
  });

  it("a user cannot read, cancel or retry another user's generation through any endpoint", async () => {
    const alice = await newUser();
    const bob = await newUser();
    const id = await create(alice, { idea: "alice's private video" });
    for (const [method, path] of [["GET", `generations/${id}`], ["POST", `generations/${id}/cancel`], ["POST", `generations/${id}/retry`]]) {
      const res = await call(bob.token, method, path);
      expect(res).toMatchObject({ status: 404, body: { error: { code: "NOT_FOUND" } } });
    }
    const list = await call(bob.token, "GET", "generations");
    expect(list.body.generations.map((g: { id: string }) => g.id)).not.toContain(id);
    const mine = await call(alice.token, "GET", "generations");
    expect(mine.body.generations.map((g: { id: string }) => g.id)).toContain(id);
    await call(alice.token, "POST", `generations/${id}/cancel`);
  });
});
