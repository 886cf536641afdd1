// Provider calls made while the user waits are paid like tasks (issue 26.6): a spec draft
// and image edits are priced, reserved, then captured or refunded once; the prompt optimizer
// is free but needs a positive balance and has a daily quota. Nothing reaches a provider unpaid.
import { beforeEach, describe, expect, it } from "vitest";
import { call, FUNCTIONS, newUser, resetSims, simKnobs, simStats, sql, type TestUser } from "./helpers";
import { avatar, finished, generate, scene, uploadFrame } from "./movie-helpers";

const geminiCalls = async () => (await simStats()).stats.gemini_requests ?? 0;
const balance = async (user: TestUser) => (await call(user.token, "GET", "credits")).body.balance as number;
/** The user's ledger rows of synchronous calls, oldest first: "kind:amount:sku". */
const callLedger = async (user: TestUser) => ((await call(user.token, "GET", "credits")).body.ledger as any[])
  .filter((l) => l.generation_id === null && l.kind !== "grant").reverse().map((l) => `${l.kind}:${l.amount}:${l.step}`);

/** A user holding an image asset and a finished movie whose scene s1 starts from a frame
 * (made once: both tests below use it, each setting the balance it needs). */
let owner: Promise<{ user: TestUser; assetId: string; taskId: string }> | undefined;
async function userWithImages(credits: number) {
  owner ??= (async () => {
    const user = await newUser(1000);
    const asset = await avatar(user);
    const movie = await generate(user, { scenes: [scene("s1", { duration: 5, firstFrame: await uploadFrame(user, "0x336699") })] });
    expect((await finished(user, movie.taskId)).status).toBe("completed");
    return { user, assetId: asset.id, taskId: movie.taskId };
  })();
  const fixture = await owner;
  await sql`update public.credit_accounts set balance = ${credits} where user_id = ${fixture.user.id}`;
  return fixture;
}

beforeEach(async () => {
  await resetSims();
});

describe("paid provider calls", () => {
  it("at a zero balance, a spec draft and both image edits are refused with QUOTA_EXCEEDED and Gemini is never called", async () => {
    const { user, assetId, taskId } = await userWithImages(0);
    const before = await geminiCalls();
    const answers = [
      await call(user.token, "POST", "video/specify", { description: "a cat samurai at dawn", duration: 10 }),
      await call(user.token, "POST", `task/${taskId}/scenes/s1/edit`, { instruction: "make the sky red" }),
      await call(user.token, "POST", `assets/${assetId}/edit`, { instruction: "add a moon" }),
    ];
    expect(answers.map((a) => `${a.status} ${a.body?.error?.code}`)).toEqual(Array(3).fill("402 QUOTA_EXCEEDED"));
    expect(answers[0].body.error.message).toBe("The spec draft costs 5 MC and your balance is 0 MC");
    expect(await geminiCalls()).toBe(before);
    expect(await callLedger(user)).toEqual([]);
  });

  it("with credits, a spec draft and both image edits are reserved then captured, once each", async () => {
    const { user, assetId, taskId } = await userWithImages(100);
    const spec = await call(user.token, "POST", "video/specify", { description: "a cat samurai at dawn", duration: 10 });
    expect(spec.status, JSON.stringify(spec.body)).toBe(200);
    const edit = await call(user.token, "POST", `assets/${assetId}/edit`, { instruction: "add a moon" });
    expect(edit.status, JSON.stringify(edit.body)).toBe(201);
    const sceneEdit = await call(user.token, "POST", `task/${taskId}/scenes/s1/edit`, { instruction: "make the sky red" });
    expect(sceneEdit.status, JSON.stringify(sceneEdit.body)).toBe(201);
    expect(await callLedger(user)).toEqual([
      "reserve:5:spec_draft", "capture:5:spec_draft", "reserve:20:image_edit", "capture:20:image_edit", "reserve:20:image_edit", "capture:20:image_edit",
    ]);
    expect(await balance(user)).toBe(55);
  });

  it("a provider failure refunds the reserve: the balance is whole again", async () => {
    const user = await newUser(100);
    await simKnobs({ error_5xx_rate: 1 });
    const spec = await call(user.token, "POST", "video/specify", { description: "a cat samurai at dawn", duration: 10 });
    expect(spec).toMatchObject({ status: 503, body: { error: { code: "SERVICE_UNAVAILABLE" } } });
    expect(await callLedger(user)).toEqual(["reserve:5:spec_draft", "refund:5:spec_draft"]);
    expect(await balance(user)).toBe(100);
  });

  it("the free prompt optimizer has a daily quota per user: the next call is 429 with Retry-After, another user is not held", async () => {
    const [user, other] = [await newUser(10), await newUser(10)];
    const optimize = (u: TestUser) => fetch(`${FUNCTIONS}/anime-video/optimize-prompt`, {
      method: "POST", headers: { Authorization: `Bearer ${u.token}`, "content-type": "application/json" }, body: JSON.stringify({ prompt: "cat samurai" }),
    });
    await sql`update engine.settings set free_calls_per_day = 2`;
    try {
      for (let i = 0; i < 2; i++) expect((await optimize(user)).status).toBe(200);
      const before = await geminiCalls();
      const res = await optimize(user);
      expect(res.status).toBe(429);
      expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(86_000);
      expect((await res.json()).error).toMatchObject({ code: "RATE_LIMIT_EXCEEDED", message: "At most 2 prompt optimizations a day; try again later" });
      expect(await geminiCalls()).toBe(before);
      expect((await optimize(other)).status).toBe(200);
      expect(await balance(user)).toBe(10);
    } finally {
      await sql`update engine.settings set free_calls_per_day = 50`;
    }
  });
});
