// Provider clients against payloads copied from the published contracts
// (/work/shared/providers/*.md), served by a tiny stand-in HTTP server, not the simulators.
import { execFileSync } from "node:child_process";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it, vi } from "vitest";
import { type Answer, failure, standInProvider } from "./stand-in-provider";
import { generateScript, thinkingBudget } from "../packages/shared/src/providers/gemini";
import { parseRetryAfter, ProviderError } from "../packages/shared/src/providers/http";
import { createTask, parseRecord, recordInfo } from "../packages/shared/src/providers/kie";
import { getTaskResult, parseTaskResult, submitImageToVideo } from "../packages/shared/src/providers/novita";
import { kieTask, normalizeVideoRequest } from "../packages/shared/src/models";

const ROOT = new URL("..", import.meta.url).pathname;

const provider = standInProvider();
const { answer, requests } = provider;

const novita = () => ({ baseUrl: provider.base(), apiKey: "sk_test" });
const kie = () => ({ baseUrl: provider.base(), apiKey: "k" });
const gemini = (model = "gemini-2.5-flash") => ({ baseUrl: provider.base(), apiKey: "k", model });

// ---------------------------------------------------------------- Novita (novita.md)
// Section 5, official image-task example.
const NOVITA_IMAGE_EXAMPLE = {
  extra: { seed: "158881667", enable_nsfw_detection: false,
    debug_info: { request_info: "", submit_time_ms: "", execute_time_ms: "", complete_time_ms: "" } },
  task: { task_id: "830d9c90-d53f-4c5a-8009-xxx", status: "TASK_STATUS_SUCCEED", reason: "",
    task_type: "TXT_TO_IMG", eta: 0, progress_percent: 0 },
  images: [{ image_url: "https://faas-output-image.s3.ap-southeast-1.amazonaws.com/prod/xxx",
    image_url_ttl: 3600, image_type: "jpeg", nsfw_detection_result: {} }],
  videos: [],
  audios: [],
};
// Section 5, video example (official Wan/Hailuo pages).
const NOVITA_VIDEO_EXAMPLE = {
  task: { task_id: "{id}", task_type: "WAN_TXT_TO_VIDEO", status: "TASK_STATUS_SUCCEED", reason: "", eta: 0, progress_percent: 100 },
  images: [],
  videos: [{ video_url: "{url}", video_url_ttl: "3600", video_type: "mp4" }],
};
// Section 6, the webhook event's payload (TTL as a string, nsfw_detection_result null).
const NOVITA_WEBHOOK_PAYLOAD = {
  task: { eta: 0, progress_percent: 0, reason: "", status: "TASK_STATUS_SUCCEED",
    task_id: "f6aec953-2e81-4e8b-938e-2ceab54d6df9", task_type: "TXT_TO_IMG" },
  extra: { enable_nsfw_detection: false, webhook: { url: "https://your-webhook-endpoint-url" } },
  images: [{ image_type: "jpeg", image_url: "https://…X-Amz-Expires=3600…", image_url_ttl: "3600", nsfw_detection_result: null }],
  videos: [],
  audios: [],
};
const novitaTask = (task: Record<string, unknown>, videos: unknown[] = []) => ({ task: { task_id: "t1", reason: "", eta: 0, progress_percent: 0, ...task }, images: [], videos, audios: [] });

describe("Novita task-result (contract section 5)", () => {
  it("reads the contract's examples", () => {
    expect(parseTaskResult(NOVITA_IMAGE_EXAMPLE)).toMatchObject({ taskId: "830d9c90-d53f-4c5a-8009-xxx", state: "succeeded" });
    expect(parseTaskResult(NOVITA_VIDEO_EXAMPLE)).toMatchObject({ taskId: "{id}", state: "succeeded", videoUrl: "{url}", progress: 100 });
    expect(parseTaskResult(NOVITA_WEBHOOK_PAYLOAD)).toMatchObject({ state: "succeeded" });
  });

  it("a FAILED task with a content reason is a CONTENT_VIOLATION, other reasons TASK_FAILED", () => {
    for (const reason of ["ILLEGAL_IMAGE_CONTENT", "ILLEGAL_PROMPT", "task failed: ILLEGAL_IMAGE_CONTENT"]) {
      expect(parseTaskResult(novitaTask({ status: "TASK_STATUS_FAILED", reason })), reason)
        .toMatchObject({ state: "failed", code: "CONTENT_VIOLATION", reason: expect.stringContaining(reason.replace("task failed: ", "")) });
    }
    expect(parseTaskResult(novitaTask({ status: "TASK_STATUS_FAILED", reason: "IMAGE_NO_FACE_DETECTED" }))).toMatchObject({ code: "INVALID_REQUEST" });
    expect(parseTaskResult(novitaTask({ status: "TASK_STATUS_FAILED", reason: "TASK_FAILED" }))).toMatchObject({ code: "TASK_FAILED" });
    expect(parseTaskResult(novitaTask({ status: "TASK_STATUS_FAILED", reason: "" }))).toMatchObject({ code: "TASK_FAILED" });
  });

  it("tolerates what the code never relies on: string eta/progress, null or \"0\" TTLs, TASK_STATUS_UNKNOWN, null reason", () => {
    expect(parseTaskResult(novitaTask({ status: "TASK_STATUS_PROCESSING", eta: "12", progress_percent: "40" }))).toMatchObject({ state: "pending", progress: 40 });
    expect(parseTaskResult(novitaTask({ status: "TASK_STATUS_PROCESSING", eta: null, progress_percent: null }))).toMatchObject({ state: "pending", progress: 0 });
    expect(parseTaskResult(novitaTask({ status: "TASK_STATUS_UNKNOWN" }))).toMatchObject({ state: "pending" });
    for (const ttl of ["0", null, 3600, "3600", ""]) {
      expect(parseTaskResult(novitaTask({ status: "TASK_STATUS_SUCCEED" }, [{ video_url: "https://v", video_url_ttl: ttl, video_type: "mp4" }])), String(ttl))
        .toMatchObject({ state: "succeeded", videoUrl: "https://v" });
    }
    expect(parseTaskResult({ task: { taskId: "t2", status: "TASK_STATUS_QUEUED", reason: null } })).toMatchObject({ taskId: "t2", state: "pending" });
    expect(() => parseTaskResult({ tasks: [] })).toThrow(ProviderError);
  });

  it("a 401/403/404 while polling does not fail the task; a 429's Retry-After is read when sent", async () => {
    for (const [status, reason] of [[401, "MISSING_API_KEY"], [403, "INVALID_API_KEY"], [404, "TASK_NOT_FOUND"]] as const) {
      answer("/v3/async/task-result", { status, body: { code: status, reason, message: "x", metadata: {} } });
      const err = await failure(getTaskResult(novita(), "t1"));
      expect(err, reason).toMatchObject({ kind: "poll_transient", failsTask: false });
    }
    answer("/v3/async/task-result", { status: 429, body: { code: 429, reason: "RATE_LIMIT_EXCEEDED", message: "slow down", metadata: {} }, headers: { "retry-after": "7" } });
    expect(await failure(getTaskResult(novita(), "t1"))).toMatchObject({ code: "RATE_LIMIT_EXCEEDED", retryable: true, retryAfterMs: 7000 });
    answer("/v3/async/task-result", { status: 503, body: "<html>busy</html>", headers: { "retry-after": new Date(Date.now() + 30_000).toUTCString() } });
    const busy = await failure(getTaskResult(novita(), "t1"));
    expect(busy).toMatchObject({ code: "SERVICE_UNAVAILABLE", retryable: true });
    expect(busy.retryAfterMs).toBeGreaterThan(25_000);
  });
});

describe("Novita Kling submit (contract sections 4 and 6)", () => {
  const submit = () => submitImageToVideo({ ...novita(), webhookEndpoints: [] }, { imageBase64: "aGk=", prompt: "p", durationSeconds: 5, webhookUrl: "https://x/hook?token=t" });

  it("sends no extra.webhook to kling-v2.1-i2v-master (its page lists none: [UNCONFIRMED]) unless configured", async () => {
    answer("/v3/async/kling-v2.1-i2v-master", { status: 200, body: { task_id: "t1" } });
    expect(await submit()).toEqual({ taskId: "t1" });
    expect(requests[0].body).toEqual({ image: "aGk=", prompt: "p", duration: "5", guidance_scale: 0.5 });
    await submitImageToVideo({ ...novita(), webhookEndpoints: ["kling-v2.1-i2v-master"] }, { imageBase64: "aGk=", prompt: "p", durationSeconds: 5, webhookUrl: "https://x/hook" });
    expect(requests[1].body.extra).toEqual({ webhook: { url: "https://x/hook" } });
  });

  it("a timeout, reset, gateway timeout or a 200 without task_id is outcome_unknown: not retryable, never resubmitted", async () => {
    for (const a of [{ status: 200, body: {}, hang: "reset" }, { status: 504, body: {} }, { status: 200, body: { ok: true } }] as Answer[]) {
      answer("/v3/async/kling-v2.1-i2v-master", a);
      expect(await failure(submit()), JSON.stringify(a)).toMatchObject({ kind: "outcome_unknown", retryable: false, outcomeUnknown: true });
    }
    answer("/v3/async/kling-v2.1-i2v-master", { status: 500, body: { code: 500, reason: "CREATE_TASK_FAILED", message: "", metadata: {} } });
    expect(await failure(submit())).toMatchObject({ kind: "retry", retryable: true });
  });

  it("a submit that never answers times out as outcome_unknown; a refused connection is retryable", async () => {
    answer("/v3/async/kling-v2.1-i2v-master", { status: 200, body: {}, hang: "timeout" });
    const minute = AbortSignal.timeout;
    AbortSignal.timeout = () => minute.call(AbortSignal, 100); // the real limit is 60 s
    try {
      expect(await failure(submit())).toMatchObject({ kind: "outcome_unknown" });
    } finally {
      AbortSignal.timeout = minute;
    }
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", () => r()));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const refused = await failure(submitImageToVideo({ baseUrl: `http://127.0.0.1:${port}`, apiKey: "k" }, { imageBase64: "aGk=", prompt: "p", durationSeconds: 5 }));
    expect(refused).toMatchObject({ kind: "retry", retryable: true });
  });
});

// ---------------------------------------------------------------- kie (kie.md)
// Section 3, recordInfo example (note `message`, and JSON strings for param/resultJson).
const KIE_RECORD_EXAMPLE = {
  code: 200, message: "success",
  data: { taskId: "task_12345678", model: "grok-imagine/text-to-image", state: "success",
    param: "{\"model\":\"…\",\"callBackUrl\":\"…\",\"input\":{}}",
    resultJson: "{\"resultUrls\":[\"https://example.com/generated-content.jpg\"]}",
    failCode: "", failMsg: "", completeTime: 1698765432000, createTime: 1698765400000, updateTime: 1698765432000 },
};
// Section 4, callback bodies.
const KIE_CALLBACK_SUCCESS = {
  code: 200, msg: "Playground task completed successfully.",
  data: { taskId: "e989621f54392584b05867f87b160672", model: "sora-2-pro-storyboard", state: "success",
    param: "{\"callBackUrl\":\"…\",\"model\":\"…\",\"input\":{}}", resultJson: "{\"resultUrls\":[\"https://…\"]}",
    failCode: null, failMsg: null, costTime: 8, completeTime: 1755599644000, createTime: 1755599634000,
    updateTime: 1755599644000, consumeCredits: 0, remainedCredits: 2510330 },
};
const KIE_CALLBACK_FAILURE = {
  code: 501, msg: "Playground task failed.",
  data: { taskId: "bd3a…", model: "…", state: "fail", failCode: "500", failMsg: "Internal server error", resultJson: null,
    completeTime: 1755597081000, costTime: 0, createTime: 1755596341000 },
};

describe("kie recordInfo and callbacks (contract sections 3 and 4)", () => {
  it("reads the contract's examples through recordInfo and as callbacks", async () => {
    answer("/api/v1/jobs/recordInfo", { status: 200, body: KIE_RECORD_EXAMPLE });
    expect(await recordInfo(kie(), "task_12345678"))
      .toMatchObject({ taskId: "task_12345678", state: "succeeded", videoUrl: "https://example.com/generated-content.jpg" });
    expect(parseRecord(KIE_CALLBACK_SUCCESS.data)).toMatchObject({ state: "succeeded", videoUrl: "https://…" });
    expect(parseRecord(KIE_CALLBACK_FAILURE.data)).toMatchObject({ state: "failed", code: "TASK_FAILED", reason: "500 Internal server error" });
  });

  it("a failMsg naming a content refusal is a CONTENT_VIOLATION; failCode 422 an invalid request", () => {
    expect(parseRecord({ ...KIE_CALLBACK_FAILURE.data, failCode: "400", failMsg: "Your prompt was flagged by the content safety policy" }))
      .toMatchObject({ state: "failed", code: "CONTENT_VIOLATION" });
    expect(parseRecord({ ...KIE_CALLBACK_FAILURE.data, failCode: "422", failMsg: "image_url is invalid" })).toMatchObject({ code: "INVALID_REQUEST" });
  });

  it("takes resultJson as an object too, task_id for taskId, a string progress, and unknown states as pending", () => {
    expect(parseRecord({ task_id: "b", state: "success", resultJson: { resultUrls: ["https://x/v.mp4"] } }))
      .toMatchObject({ taskId: "b", state: "succeeded", videoUrl: "https://x/v.mp4" });
    expect(parseRecord({ taskId: "c", state: "generating", progress: "62" })).toMatchObject({ state: "pending", progress: 62 });
    expect(parseRecord({ taskId: "d", state: "paused" })).toMatchObject({ state: "pending" });
  });

  it("a body code 401/404 while polling (even inside HTTP 200) does not fail the task", async () => {
    for (const body of [{ code: 401, msg: "You do not have access permissions" }, { code: 404, message: "task not found" }]) {
      answer("/api/v1/jobs/recordInfo", { status: 200, body });
      expect(await failure(recordInfo(kie(), "t")), JSON.stringify(body)).toMatchObject({ kind: "poll_transient", failsTask: false });
    }
    answer("/api/v1/jobs/recordInfo", { status: 200, body: { code: 422, msg: "bad" } });
    expect(await failure(recordInfo(kie(), "t"))).toMatchObject({ kind: "final", failsTask: true });
  });

  it("createTask: a 429 reads Retry-After; a reset, 504 or code 200 without taskId is outcome_unknown", async () => {
    const create = () => createTask(kie(), { model: "kling-3.0", input: { prompt: "p" }, callBackUrl: "https://x/cb" });
    answer("/api/v1/jobs/createTask", { status: 200, body: { code: 200, msg: "success", data: { taskId: "task_wan_1765172522239" } } });
    expect(await create()).toEqual({ taskId: "task_wan_1765172522239" });
    answer("/api/v1/jobs/createTask", { status: 429, body: { code: 429, msg: "Rate limited" }, headers: { "retry-after": "3" } });
    expect(await failure(create())).toMatchObject({ code: "RATE_LIMIT_EXCEEDED", retryable: true, retryAfterMs: 3000 });
    for (const a of [{ status: 200, body: {}, hang: "reset" }, { status: 504, body: "gateway timeout" }, { status: 200, body: { code: 200, msg: "success", data: {} } }] as Answer[]) {
      answer("/api/v1/jobs/createTask", a);
      expect(await failure(create()), JSON.stringify(a)).toMatchObject({ kind: "outcome_unknown", retryable: false });
    }
  });
});

describe("kie request mapping", () => {
  it("sends Kling 2.5's resolution when the user gives one, and none by default", () => {
    const given = normalizeVideoRequest({ model_id: "kling/video-v2.5", prompt: "p", resolution: "1080p", multi_shots: false, visibility_level: "private" });
    expect(kieTask(given).input).toMatchObject({ resolution: "1080p" });
    const unset = normalizeVideoRequest({ model_id: "kling/video-v2.5", prompt: "p", multi_shots: false, visibility_level: "private" });
    expect(kieTask(unset).input).not.toHaveProperty("resolution");
  });
});

// ---------------------------------------------------------------- Gemini (gemini.md)
const path = "/v1beta/models/gemini-2.5-flash:generateContent";
const SCRIPT_JSON = JSON.stringify({ concept: "c", visual_script: "v", t2i_prompt: "t", motion_prompt: "m" });
// Section 3 response shape, with thinking tokens in usageMetadata.
const ok = (text = SCRIPT_JSON, finishReason = "STOP") => ({
  candidates: [{ content: { parts: [{ text }], role: "model" }, finishReason, index: 0,
    safetyRatings: [{ category: "HARM_CATEGORY_HARASSMENT", probability: "NEGLIGIBLE" }] }],
  usageMetadata: { promptTokenCount: 9, candidatesTokenCount: 12, totalTokenCount: 21, thoughtsTokenCount: 0,
    promptTokensDetails: [{ modality: "TEXT", tokenCount: 9 }], candidatesTokensDetails: [{ modality: "TEXT", tokenCount: 12 }] },
  modelVersion: "gemini-2.5-flash", responseId: "r",
});
// Section 4, the 429 body quoted from real responses.
const GEMINI_429 = {
  error: {
    code: 429,
    message: "You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.\n* Quota exceeded for metric: generativelanguage.googleapis.com/generate_content_free_tier_requests, limit: 20, model: gemini-2.5-flash\nPlease retry in 44.2s.",
    status: "RESOURCE_EXHAUSTED",
    details: [
      { "@type": "type.googleapis.com/google.rpc.QuotaFailure",
        violations: [{ quotaMetric: "generativelanguage.googleapis.com/generate_content_free_tier_requests",
          quotaId: "GenerateRequestsPerMinutePerProjectPerModel-FreeTier" }] },
      { "@type": "type.googleapis.com/google.rpc.RetryInfo", retryDelay: "44s" },
    ],
  },
};
const script = () => generateScript(gemini(), { idea: "x", durationSeconds: 5 });

describe("Gemini generateContent (contract sections 2-4)", () => {
  it("turns thinking off on Flash (thinking tokens count against maxOutputTokens) and keeps a budget on Pro", async () => {
    answer(path, { status: 200, body: ok() });
    await script();
    expect(requests[0].body.generationConfig).toMatchObject({ maxOutputTokens: 2048, thinkingConfig: { thinkingBudget: 0 } });
    expect(thinkingBudget("gemini-2.5-pro")).toBeGreaterThanOrEqual(128);
  });

  it("MAX_TOKENS with empty text asks once more with a larger budget, then fails clearly instead of repeating", async () => {
    const empty = { ...ok(), candidates: [{ content: { role: "model" }, finishReason: "MAX_TOKENS", index: 0 }] };
    answer(path, { status: 200, body: empty }, { status: 200, body: ok() });
    expect(await script()).toMatchObject({ concept: "c" });
    expect(requests.map((r) => r.body.generationConfig.maxOutputTokens)).toEqual([2048, 8192]);
    requests.length = 0;
    answer(path, { status: 200, body: empty });
    expect(await failure(script())).toMatchObject({ code: "INTERNAL_ERROR", retryable: false });
    expect(requests).toHaveLength(2);
  });

  it("no candidates is CONTENT_VIOLATION only with promptFeedback.blockReason; an error body in HTTP 200 is the error", async () => {
    answer(path, { status: 200, body: { promptFeedback: { blockReason: "SAFETY", safetyRatings: [] } } });
    expect(await failure(script())).toMatchObject({ code: "CONTENT_VIOLATION", retryable: false });
    answer(path, { status: 200, body: { candidates: [], usageMetadata: { promptTokenCount: 9 } } });
    expect(await failure(script())).toMatchObject({ code: "SERVICE_UNAVAILABLE", retryable: true });
    answer(path, { status: 200, body: [{ error: { code: 503, status: "UNAVAILABLE", message: "overloaded" } }] });
    expect(await failure(script())).toMatchObject({ code: "SERVICE_UNAVAILABLE", retryable: true });
  });

  it("SAFETY and RECITATION finish reasons are content refusals", async () => {
    for (const reason of ["SAFETY", "RECITATION", "PROHIBITED_CONTENT"]) {
      answer(path, { status: 200, body: { candidates: [{ content: { role: "model" }, finishReason: reason, index: 0 }] } });
      expect(await failure(script()), reason).toMatchObject({ code: "CONTENT_VIOLATION", retryable: false, message: expect.stringContaining(reason) });
    }
  });

  it("a 429 carries RetryInfo's delay (bare or array-wrapped); HTTP Retry-After when there is none", async () => {
    answer(path, { status: 429, body: GEMINI_429 });
    expect(await failure(script())).toMatchObject({ code: "RATE_LIMIT_EXCEEDED", retryable: true, retryAfterMs: 44_000 });
    answer(path, { status: 429, body: [GEMINI_429] });
    expect(await failure(script())).toMatchObject({ retryAfterMs: 44_000 });
    answer(path, { status: 503, body: { error: { code: 503, status: "UNAVAILABLE", message: "busy" } }, headers: { "retry-after": "12" } });
    expect(await failure(script())).toMatchObject({ code: "SERVICE_UNAVAILABLE", retryAfterMs: 12_000 });
  });
});

describe("Retry-After", () => {
  it("reads delay-seconds and HTTP-dates", () => {
    const now = Date.parse("Wed, 21 Oct 2015 07:28:00 GMT");
    expect(parseRetryAfter("120", now)).toBe(120_000);
    expect(parseRetryAfter("Wed, 21 Oct 2015 07:28:30 GMT", now)).toBe(30_000);
    expect(parseRetryAfter("Wed, 21 Oct 2015 07:27:00 GMT", now)).toBe(0);
    expect(parseRetryAfter("soon", now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });
});

// ---------------------------------------------------------------- configuration
describe("configuration", () => {
  const BASE = {
    SUPABASE_URL: "https://abc.supabase.co", SUPABASE_SERVICE_ROLE_KEY: "x".repeat(40),
    SUPABASE_DB_URL: "postgresql://u:p@h/db", JWT_SECRET: "s".repeat(40),
  };

  it("each pipeline needs only its own keys; a missing one fails naming the variable", async () => {
    vi.resetModules();
    const saved = { ...process.env };
    try {
      for (const k of ["GEMINI_API_KEY", "NOVITA_API_KEY", "KIE_API_KEY", "PUBLIC_FUNCTIONS_URL", "PUBLIC_STORAGE_URL"]) delete process.env[k];
      Object.assign(process.env, BASE, { KIE_API_KEY: "kie-real" });
      const { kieConfig, novitaConfig, geminiConfig } = await import("../packages/shared/src/providers/index");
      const { config } = await import("../packages/shared/src/config");
      expect(kieConfig().apiKey).toBe("kie-real");
      expect(() => novitaConfig()).toThrow(/NOVITA_API_KEY/);
      expect(() => geminiConfig()).toThrow(/GEMINI_API_KEY/);
      // On a hosted project the public URLs are SUPABASE_URL's.
      expect(config().PUBLIC_FUNCTIONS_URL).toBe("https://abc.supabase.co/functions/v1");
      expect(config().PUBLIC_STORAGE_URL).toBe("https://abc.supabase.co/storage/v1");
    } finally {
      process.env = saved;
      vi.resetModules();
    }
  });

  it("the stack keeps the simulator's kie HMAC key away from a real KIE_API_KEY", () => {
    const envOf = (vars: Record<string, string>) => JSON.parse(execFileSync(`${ROOT}node_modules/.bin/deno`,
      ["eval", "-q", `import { functionsEnv } from "./stack/env.ts"; console.log(JSON.stringify(await functionsEnv()))`],
      { cwd: ROOT, encoding: "utf8", env: { PATH: process.env.PATH, HOME: process.env.HOME, ...vars } }));
    const sim = envOf({});
    expect(sim).toMatchObject({ KIE_WEBHOOK_HMAC_KEY: "sim-kie-hmac-key", NOVITA_WEBHOOK_ENDPOINTS: "kling-v2.1-i2v-master" });
    const real = envOf({ KIE_API_KEY: "real-kie", NOVITA_API_KEY: "sk_real", PUBLIC_STORAGE_URL: "https://tunnel.example/storage/v1" });
    expect(real).toMatchObject({ KIE_API_KEY: "real-kie", KIE_BASE_URL: "https://api.kie.ai", NOVITA_WEBHOOK_ENDPOINTS: "", PUBLIC_STORAGE_URL: "https://tunnel.example/storage/v1" });
    expect(real).not.toHaveProperty("KIE_WEBHOOK_HMAC_KEY");
    expect(envOf({ KIE_API_KEY: "real-kie", KIE_WEBHOOK_HMAC_KEY: "mine" })).toMatchObject({ KIE_WEBHOOK_HMAC_KEY: "mine" });
  });
});
