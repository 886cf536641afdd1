// The simulators behave like the providers now and then do (quirks as rates, documented
// limits) and can replay any payload (scripted answers); the backend copes with each.
import { beforeEach, describe, expect, it } from "vitest";
import { scriptResponses } from "../stack/control.ts";
import { call, env, ledger, newUser, resetSims, simKnobs, simStats, waitForStatus } from "./helpers";

beforeEach(async () => {
  await resetSims();
});

const GEMINI_429 = {
  error: {
    code: 429, status: "RESOURCE_EXHAUSTED",
    message: "You exceeded your current quota, please check your plan and billing details.\nPlease retry in 44.2s.",
    details: [
      { "@type": "type.googleapis.com/google.rpc.QuotaFailure",
        violations: [{ quotaId: "GenerateRequestsPerMinutePerProjectPerModel-FreeTier" }] },
      { "@type": "type.googleapis.com/google.rpc.RetryInfo", retryDelay: "44s" },
    ],
  },
};

async function optimize(token: string) {
  const res = await fetch(`${env.API_URL}/functions/v1/anime-video/optimize-prompt`, {
    method: "POST",
    headers: { Authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({ prompt: "cat samurai", style: "anime" }),
  });
  return { status: res.status, retryAfter: res.headers.get("retry-after"), body: await res.json() };
}

describe("scripted answers", () => {
  it("optimize-prompt answers Gemini's 429 as 429 RATE_LIMIT_EXCEEDED with its RetryInfo delay as Retry-After", async () => {
    const user = await newUser();
    await scriptResponses(env.GEMINI_SIM_URL, "generateContent", [{ status: 429, body: GEMINI_429 }]);
    const limited = await optimize(user.token);
    expect(limited).toMatchObject({ status: 429, retryAfter: "44", body: { error: { code: "RATE_LIMIT_EXCEEDED" } } });
    // The script is used up: the next answer is the simulator's own.
    expect((await optimize(user.token)).status).toBe(200);
  });

  it("replays a Novita FAILED task with a contract reason code; the generation fails with it and is refunded", async () => {
    await simKnobs({ webhook_drop_rate: 1 });
    await scriptResponses(env.NOVITA_SIM_URL, "task-result", [{
      status: 200,
      body: { task: { task_id: "{{task_id}}", status: "TASK_STATUS_FAILED", reason: "ILLEGAL_IMAGE_CONTENT", eta: 0, progress_percent: 0 },
        images: [], videos: [], audios: [] },
    }], 50);
    const user = await newUser(1000);
    const res = await call(user.token, "POST", "generations", { idea: "a replayed refusal" });
    const failed = await waitForStatus(res.body.generation.id, ["failed", "completed"]);
    expect(failed.status).toBe("failed");
    expect(failed.error_code).toBe("CONTENT_VIOLATION");
    expect(failed.error_message).toContain("ILLEGAL_IMAGE_CONTENT");
    // Metered: the refused video task is refunded; the script and image before it stay charged.
    expect(await ledger(failed.id)).toEqual(["1:reserve:185", "1:capture:5", "1:capture:20", "1:capture:160", "1:refund:160"]);
    expect((await simStats()).stats["scripted_task-result"]).toBeGreaterThan(0);
  });

  it("a 401 or 404 while polling (a key rotation, a lagging index) does not fail a task the provider still runs", async () => {
    await simKnobs({ webhook_drop_rate: 1 });
    await scriptResponses(env.NOVITA_SIM_URL, "task-result", [
      { status: 401, body: { code: 401, reason: "INVALID_API_KEY", message: "invalid api key" } },
      { status: 404, body: { code: 404, reason: "TASK_NOT_FOUND", message: "task not found" } },
    ], 1);
    const user = await newUser(1000);
    const res = await call(user.token, "POST", "generations", { idea: "keys rotate, the task lives on" });
    const done = await waitForStatus(res.body.generation.id, ["failed", "completed"], 100_000);
    expect(done.status).toBe("completed");
    expect((await simStats()).stats["scripted_task-result"]).toBe(2);
  });

  it("refuses an unknown endpoint", async () => {
    await expect(scriptResponses(env.NOVITA_SIM_URL, "no-such-endpoint", [{ status: 200, body: {} }])).rejects.toThrow(/endpoint must be one of/);
  });
});

describe("provider quirks produced by the simulators", () => {
  it("Gemini thinking tokens beyond the old 2048-token budget no longer end in MAX_TOKENS", async () => {
    await simKnobs({ quirks: { thinking_tokens: 3000 } });
    const user = await newUser();
    expect((await optimize(user.token)).status).toBe(200);
  });

  it("Gemini SAFETY/RECITATION finishes are content violations, and array-wrapped errors are read", async () => {
    const user = await newUser();
    await simKnobs({ quirks: { content_finish: 1 } });
    expect(await optimize(user.token)).toMatchObject({ status: 422, body: { error: { code: "CONTENT_VIOLATION" } } });
    await simKnobs({ quirks: { content_finish: 0, array_errors: 1 } });
    await scriptResponses(env.GEMINI_SIM_URL, "generateContent", [{ status: 429, body: [GEMINI_429] }]);
    expect(await optimize(user.token)).toMatchObject({ status: 429, retryAfter: "44" });
  });

  it("cinematic completes through TASK_STATUS_UNKNOWN, string eta/progress, odd TTLs, taskId spelling and ignored events", async () => {
    await simKnobs({ quirks: { task_status_unknown: 1, string_numbers: 1, odd_ttl: 1, spellings: 1, other_events: 1 } });
    const user = await newUser();
    const res = await call(user.token, "POST", "generations", { idea: "a quirky provider day" });
    expect((await waitForStatus(res.body.generation.id, ["completed", "failed"], 60_000)).status).toBe("completed");
    const { stats } = await simStats();
    // The ignored events (another type, no payload.task) were acknowledged, not retried to exhaustion.
    expect(stats.webhooks_delivered).toBeGreaterThanOrEqual(3);
    expect(stats.webhooks_given_up ?? 0).toBe(0);
  });

  it("model-direct completes through kie's message/task_id/object-resultJson spellings and unsigned callbacks", async () => {
    await simKnobs({ quirks: { spellings: 1, unsigned_callbacks: 1 } });
    const user = await newUser();
    const res = await call(user.token, "POST", "anime-video/create-task", { prompt: "a fox spirit", model_id: "wan/2.5", duration_seconds: 5 });
    expect(res.status).toBe(201);
    expect((await waitForStatus(res.body.data.generation_uuid, ["completed", "failed"], 60_000)).status).toBe("completed");
  });

  it("the Novita webhook door acknowledges events it ignores (2xx), on both paths", async () => {
    const token = "ab".repeat(24);
    for (const body of [{ event_type: "ASYNC_TASK_RESULT", payload: {} }, { event_type: "ASYNC_TASK_RESULT" }, { event_type: "SOMETHING_NEW", payload: { x: 1 } }]) {
      expect((await call(null, "POST", `handle-novita-webhook?token=${token}`, body)).status, JSON.stringify(body)).toBe(200);
      expect((await call(null, "POST", `generation/webhook?token=${token}`, body)).status, JSON.stringify(body)).toBe(200);
    }
  });
});

describe("documented rate limits (limits_scale 1)", () => {
  it("kie refuses the 21st new task within 10 s with 429", async () => {
    // Tasks that fail and have no callback: nothing is rendered or delivered.
    await simKnobs({ limits_scale: 1, latency_ms: { kie: 0 } });
    const create = () => fetch(`${env.KIE_SIM_URL}/api/v1/jobs/createTask`, {
      method: "POST",
      headers: { Authorization: "Bearer sim-kie-key", "content-type": "application/json" },
      body: JSON.stringify({ model: "wan/2-5-text-to-video", input: { prompt: "[[task_fails]]" } }),
    }).then(async (r) => ({ status: r.status, body: await r.json() }));
    const answers = [];
    for (let i = 0; i < 21; i++) answers.push(await create());
    expect(answers.slice(0, 20).every((a) => a.body.code === 200)).toBe(true);
    expect(answers[20]).toMatchObject({ status: 429, body: { code: 429 } });
  });
});
