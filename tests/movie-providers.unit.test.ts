// The movie pipeline's provider clients (Jimeng video, speech synthesis, Gemini image) against
// payloads copied from the published contracts (/work/shared/providers/volcengine.md,
// volcengine-tts.md, gemini-image.md), served by a tiny stand-in HTTP server.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe, expect, it, vi } from "vitest";
import { failure, standInProvider } from "./stand-in-provider";
import { generateSceneImage } from "../packages/shared/src/providers/gemini-image";
import { getJimengResult, jimengReqKey, signVolcengine, submitJimeng } from "../packages/shared/src/providers/volcengine";
import { synthesize, TTS_MAX_TEXT_BYTES, VOICE_NAMES, VOICES } from "../packages/shared/src/providers/volcengine-tts";

const ROOT = new URL("..", import.meta.url).pathname;

const provider = standInProvider();
const { answer, requests } = provider;

// ---------------------------------------------------------------- Jimeng (volcengine.md)
const volc = () => ({ baseUrl: provider.base(), accessKey: "AKTEST", secretKey: "SKTEST" });
const t2v = { mode: "t2v" as const, hd: true, prompt: "千军万马", frames: 241 as const, aspectRatio: "9:16" };

// Section 3, submit response; section 4, the success and the error examples.
const SUBMIT_OK = { code: 10000, data: { task_id: "7392616336519610409" }, message: "Success", request_id: "20240720103939AF0029465CF6A74E51EC", time_elapsed: "104.852309ms" };
const RESULT_DONE = {
  code: 10000, data: { aigc_meta_tagged: true, status: "done", video_url: "https://xxxx" }, message: "Success", status: 10000,
  request_id: "20250805144938F6E5264E9D24EB0C4E0A", time_elapsed: "57.354545ms",
};
const business = (code: number, message: string) => ({ code, data: null, message, request_id: "202511281418218670D408837A9B0EB58F", status: code, time_elapsed: "36.799829ms" });
// Section 5, the generic gateway shape.
const gateway = (code: string) => ({
  ResponseMetadata: { RequestId: "r", Action: "CVSync2AsyncSubmitTask", Version: "2022-08-31", Service: "cv", Region: "cn-north-1", Error: { Code: code, Message: "The request signature we calculated does not match" } },
});

describe("Volcengine request signing (contract section 6)", () => {
  it("reproduces the published test vector of section 6.3", async () => {
    const headers = await signVolcengine({
      method: "POST", host: "visual.volcengineapi.com", path: "/",
      query: { Action: "CVSync2AsyncGetResult", Version: "2022-08-31" }, contentType: "application/json",
      body: '{"req_key":"jimeng_vgfm_t2v_l20","task_id":"abc"}', accessKey: "AKTEST", secretKey: "SKTEST", xDate: "20240115T120000Z",
    });
    expect(headers).toEqual({
      Host: "visual.volcengineapi.com",
      "X-Date": "20240115T120000Z",
      "X-Content-Sha256": "2e83d6a6ed2aef0fb0dd7125abe5bad97718ec9bd6be63d52418921ea3133955",
      "Content-Type": "application/json",
      Authorization: "HMAC-SHA256 Credential=AKTEST/20240115/cn-north-1/cv/request, SignedHeaders=content-type;host;x-content-sha256;x-date, " +
        "Signature=5cbe194cc35a9fe8a0dcf34cbfc8f10d2c989caa3059aa6fe4f186977c0fef7a",
    });
  });

  it("sorts and RFC 3986-encodes the query: a different order signs the same, a different value does not", async () => {
    const sign = (query: Record<string, string>) => signVolcengine({
      method: "POST", host: "h", path: "/", query, contentType: "application/json", body: "{}", accessKey: "A", secretKey: "S", xDate: "20240115T120000Z",
    });
    const a = await sign({ Version: "2022-08-31", Action: "X" });
    expect((await sign({ Action: "X", Version: "2022-08-31" })).Authorization).toBe(a.Authorization);
    expect((await sign({ Action: "X y*", Version: "2022-08-31" })).Authorization).not.toBe(a.Authorization);
  });
});

describe("Jimeng req_key (contract section 2)", () => {
  it("spells the 1080P keys with their odd suffixes", () => {
    expect([jimengReqKey("t2v", false), jimengReqKey("t2v", true)]).toEqual(["jimeng_t2v_v30", "jimeng_t2v_v30_1080p"]);
    expect([jimengReqKey("i2v_first", false), jimengReqKey("i2v_first", true)]).toEqual(["jimeng_i2v_first_v30", "jimeng_i2v_first_v30_1080"]);
    expect([jimengReqKey("i2v_first_tail", false), jimengReqKey("i2v_first_tail", true)])
      .toEqual(["jimeng_i2v_first_tail_v30", "jimeng_i2v_first_tail_v30_1080"]);
  });
});

describe("Jimeng submit (contract sections 1, 3 and 5)", () => {
  it("signs the call, sends aspect_ratio for t2v only and images as binary_data_base64, and answers a <req_key>:<task_id> reference", async () => {
    answer("/", { status: 200, body: SUBMIT_OK });
    expect(await submitJimeng(volc(), t2v)).toEqual({ taskId: "jimeng_t2v_v30_1080p:7392616336519610409" });
    expect(await submitJimeng(volc(), { mode: "i2v_first_tail", hd: false, prompt: "p", frames: 121, aspectRatio: "9:16", imagesBase64: ["AAA", "BBB"] }))
      .toEqual({ taskId: "jimeng_i2v_first_tail_v30:7392616336519610409" });
    const [first, second] = requests;
    expect(first.query).toBe("Action=CVSync2AsyncSubmitTask&Version=2022-08-31");
    expect(first.body).toEqual({ req_key: "jimeng_t2v_v30_1080p", prompt: "千军万马", seed: -1, frames: 241, aspect_ratio: "9:16" });
    expect(second.body).toEqual({ req_key: "jimeng_i2v_first_tail_v30", prompt: "p", seed: -1, frames: 121, binary_data_base64: ["AAA", "BBB"] });
    expect(first.headers.authorization).toMatch(
      /^HMAC-SHA256 Credential=AKTEST\/\d{8}\/cn-north-1\/cv\/request, SignedHeaders=content-type;host;x-content-sha256;x-date, Signature=[0-9a-f]{64}$/,
    );
    expect(first.headers["x-date"]).toMatch(/^\d{8}T\d{6}Z$/);
    // The signed host is the base URL's, port included, so a simulator can check the same signature.
    const again = await signVolcengine({
      method: "POST", host: new URL(provider.base()).host, path: "/", query: { Action: "CVSync2AsyncSubmitTask", Version: "2022-08-31" },
      contentType: "application/json", body: JSON.stringify(first.body), accessKey: "AKTEST", secretKey: "SKTEST", xDate: String(first.headers["x-date"]),
    });
    expect(first.headers.authorization).toBe(again.Authorization);
    expect(first.headers["x-content-sha256"]).toBe(again["X-Content-Sha256"]);
  });

  it("refuses a wrong number of images before calling", async () => {
    expect(await failure(submitJimeng(volc(), { ...t2v, mode: "i2v_first" }))).toMatchObject({ code: "INVALID_REQUEST", retryable: false });
    expect(requests).toHaveLength(0);
  });

  it("maps the business codes: refusals final, 50511-type retryable, 50429/50430 rate limits, 50500/50501 retryable", async () => {
    const cases: [number, number, string, string, boolean][] = [
      [400, 50411, "Pre Img Risk Not Pass", "CONTENT_VIOLATION", false],
      [400, 50412, "Text Risk Not Pass", "CONTENT_VIOLATION", false],
      [400, 50413, "Post Text Risk Not Pass", "CONTENT_VIOLATION", false],
      [400, 50512, "Post Text Risk Not Pass", "CONTENT_VIOLATION", false],
      [400, 50518, "Pre Img Risk Not Pass: Copyright", "CONTENT_VIOLATION", false],
      [400, 50599, "Some New Risk Not Pass", "CONTENT_VIOLATION", false],
      [400, 50511, "Post Img Risk Not Pass", "CONTENT_VIOLATION", true],
      [400, 50516, "Post Video Risk Not Pass", "CONTENT_VIOLATION", true],
      [400, 50517, "Post Audio Risk Not Pass", "CONTENT_VIOLATION", true],
      [400, 50519, "Post Img Risk Not Pass: Copyright", "CONTENT_VIOLATION", true],
      [429, 50429, "Request Has Reached API Limit, Please Try Later", "RATE_LIMIT_EXCEEDED", true],
      [429, 50430, "Request Has Reached API Concurrent Limit, Please Try Later", "RATE_LIMIT_EXCEEDED", true],
      [500, 50500, "Internal Error", "SERVICE_UNAVAILABLE", true],
      [500, 50501, "Internal RPC Error", "SERVICE_UNAVAILABLE", true],
      [400, 30404, "FeatNotFound", "INTERNAL_ERROR", false],
      [400, 50400, "Access Denied", "INTERNAL_ERROR", false],
    ];
    for (const [status, code, message, catalog, retryable] of cases) {
      answer("/", { status, body: business(code, message) });
      const err = await failure(submitJimeng(volc(), t2v));
      expect({ code: err.code, retryable: err.retryable }, `${code}`).toEqual({ code: catalog, retryable });
      expect(err.message).toContain(message);
    }
  });

  it("a gateway refusal (bad signature) is INTERNAL_ERROR naming the Volcengine code; while polling it does not fail the task", async () => {
    for (const status of [401, 403]) {
      answer("/", { status, body: gateway("SignatureDoesNotMatch") });
      expect(await failure(submitJimeng(volc(), t2v))).toMatchObject({ code: "INTERNAL_ERROR", retryable: false, kind: "final", message: expect.stringContaining("SignatureDoesNotMatch") });
      expect(await failure(getJimengResult(volc(), "jimeng_t2v_v30:1"))).toMatchObject({ code: "INTERNAL_ERROR", kind: "poll_transient", failsTask: false });
    }
    answer("/", { status: 404, body: gateway("InvalidActionOrVersion") });
    expect(await failure(submitJimeng(volc(), t2v))).toMatchObject({ code: "INTERNAL_ERROR", kind: "final", message: expect.stringContaining("InvalidActionOrVersion") });
  });

  it("a reset, a gateway timeout or code 10000 without task_id is outcome_unknown: never resubmitted", async () => {
    for (const a of [{ status: 200, body: {}, hang: "reset" as const }, { status: 504, body: "" }, { status: 200, body: { code: 10000, data: {}, message: "Success" } }]) {
      answer("/", a);
      expect(await failure(submitJimeng(volc(), t2v)), JSON.stringify(a)).toMatchObject({ kind: "outcome_unknown", retryable: false });
    }
  });
});

describe("Jimeng get-result (contract section 4)", () => {
  it("reads the success example; sends the req_key and task_id of the reference", async () => {
    answer("/", { status: 200, body: RESULT_DONE });
    expect(await getJimengResult(volc(), "jimeng_i2v_first_v30_1080:7491596536074305586")).toEqual({
      taskId: "jimeng_i2v_first_v30_1080:7491596536074305586", state: "succeeded", progress: 100, reason: "", videoUrl: "https://xxxx",
    });
    expect(requests[0].query).toBe("Action=CVSync2AsyncGetResult&Version=2022-08-31");
    expect(requests[0].body).toEqual({ req_key: "jimeng_i2v_first_v30_1080", task_id: "7491596536074305586" });
  });

  it("in_queue, generating, processing and unknown statuses are pending; not_found and expired fail with a clear reason", async () => {
    for (const status of ["in_queue", "generating", "processing", "something_new"]) {
      answer("/", { status: 200, body: { ...RESULT_DONE, data: { status, video_url: "" } } });
      expect((await getJimengResult(volc(), "jimeng_t2v_v30:1")).state, status).toBe("pending");
    }
    answer("/", { status: 200, body: { ...RESULT_DONE, data: { status: "not_found" } } });
    expect(await getJimengResult(volc(), "jimeng_t2v_v30:1")).toMatchObject({ state: "failed", code: "TASK_FAILED", reason: expect.stringMatching(/not_found.*12 h/) });
    answer("/", { status: 200, body: { ...RESULT_DONE, data: { status: "expired" } } });
    expect(await getJimengResult(volc(), "jimeng_t2v_v30:1")).toMatchObject({ state: "failed", reason: expect.stringMatching(/expired/) });
  });

  it("`done` refused (code != 10000, data null) is a failed task carrying the code and the provider's message", async () => {
    answer("/", { status: 400, body: business(50413, "Post Text Risk Not Pass") });
    expect(await getJimengResult(volc(), "jimeng_t2v_v30:1")).toMatchObject({
      taskId: "jimeng_t2v_v30:1", state: "failed", code: "CONTENT_VIOLATION", reason: expect.stringContaining("Post Text Risk Not Pass"),
    });
    answer("/", { status: 400, body: business(50511, "Post Img Risk Not Pass") });
    expect(await getJimengResult(volc(), "jimeng_t2v_v30:1")).toMatchObject({ state: "failed", code: "CONTENT_VIOLATION", reason: expect.stringContaining("retryable") });
  });

  it("a rate limit or an internal error while polling is retried, not a failed task", async () => {
    answer("/", { status: 429, body: business(50429, "Request Has Reached API Limit, Please Try Later") });
    expect(await failure(getJimengResult(volc(), "jimeng_t2v_v30:1"))).toMatchObject({ code: "RATE_LIMIT_EXCEEDED", retryable: true, failsTask: false });
    answer("/", { status: 500, body: business(50501, "Internal RPC Error") });
    expect(await failure(getJimengResult(volc(), "jimeng_t2v_v30:1"))).toMatchObject({ code: "SERVICE_UNAVAILABLE", retryable: true, failsTask: false });
  });
});

// ---------------------------------------------------------------- speech (volcengine-tts.md)
const tts = () => ({ baseUrl: provider.base(), appId: "app1", token: "tok1", cluster: "volcano_tts" });
const TTS_PATH = "/api/v1/tts";
const ttsOk = (duration: unknown = "1960") => ({
  status: 200, headers: { "X-Tt-Logid": "20250101abc" },
  body: { reqid: "r", code: 3000, operation: "query", message: "Success", sequence: -1, data: Buffer.from("ID3fake-mp3").toString("base64"), addition: { duration } },
});
// Voice ids listed in section 6 of the contract, by family.
const CONTRACT_VOICES = readFileSync("/work/shared/providers/volcengine-tts.md", "utf8");

describe("speech voices (contract sections 6 and 7)", () => {
  it("maps every product voice to a V1 voice of the contract, with its family", () => {
    expect(VOICE_NAMES).toEqual(expect.arrayContaining(["male_soft", "male_deep", "male_bright", "female_soft", "female_bright", "narrator", "tang_monk"]));
    for (const name of VOICE_NAMES) {
      const v = VOICES[name];
      expect(CONTRACT_VOICES, name).toContain(`\`${v.voiceType}\``);
      expect(v.family, name).toBe(v.voiceType.endsWith("_bigtts") ? "bigtts" : "classic");
      // 2.0 voices are V3-only: never on V1.
      expect(v.voiceType, name).not.toMatch(/uranus/);
    }
  });

  it("sends humble as neutral on a multi-emotion voice (section 7), no emotion where a voice has none, and never fails on an unknown emotion", async () => {
    answer(TTS_PATH, ttsOk());
    await synthesize(tts(), { text: "贫僧刚从西天取经回来", voice: "tang_monk", emotion: "humble" });
    await synthesize(tts(), { text: "你好", voice: "narrator", emotion: "happy" });
    await synthesize(tts(), { text: "你好", voice: "male_soft", emotion: "wistful" });
    await synthesize(tts(), { text: "你好", voice: "male_bright", emotion: "sad" });
    const audio = requests.map((r) => r.body.audio);
    expect(audio[0]).toMatchObject({ voice_type: "zh_male_ruyayichen_emo_v2_mars_bigtts", enable_emotion: true, emotion: "neutral" });
    expect(audio[1]).not.toHaveProperty("emotion");
    expect(audio[2]).not.toHaveProperty("emotion");
    expect(audio[3]).toMatchObject({ enable_emotion: true, emotion: "sad" });
    for (const name of VOICE_NAMES) {
      for (const emotion of Object.values(VOICES[name].emotions)) {
        // Only emotions the section 6 list names for big-model voices.
        expect(["happy", "sad", "angry", "surprised", "fear", "excited", "coldness", "neutral"]).toContain(emotion);
      }
    }
  });

  it("an unknown voice is INVALID_REQUEST listing the allowed ones, before any call", async () => {
    const err = await failure(synthesize(tts(), { text: "你好", voice: "robot" }));
    expect(err).toMatchObject({ code: "INVALID_REQUEST", retryable: false });
    for (const name of VOICE_NAMES) expect(err.message).toContain(name);
    expect(requests).toHaveLength(0);
  });
});

describe("speech synthesis (contract sections 1-5 and 10)", () => {
  it("sends Bearer;token, mp3 at 24000 Hz, operation query, a fresh reqid per call, and a speed clamped to the voice's family", async () => {
    answer(TTS_PATH, ttsOk());
    const a = await synthesize(tts(), { text: "你好", voice: "male_soft", speedRatio: 3 });
    const b = await synthesize(tts(), { text: "你好", voice: "narrator", speedRatio: 0.1 });
    expect(requests[0].headers.authorization).toBe("Bearer;tok1");
    expect(requests[0].body).toMatchObject({
      app: { appid: "app1", cluster: "volcano_tts" }, user: { uid: expect.any(String) },
      audio: { encoding: "mp3", rate: 24000, speed_ratio: 2 }, request: { text: "你好", text_type: "plain", operation: "query" },
    });
    expect(requests[1].body.audio.speed_ratio).toBe(0.2);
    expect(a.reqid).toMatch(/^[0-9a-f-]{36}$/);
    expect(a.reqid).not.toBe(b.reqid);
    expect(requests.map((r) => r.body.request.reqid)).toEqual([a.reqid, b.reqid]);
  });

  it("answers the decoded audio, addition.duration as a string or a number, and the X-Tt-Logid", async () => {
    answer(TTS_PATH, ttsOk("1960"));
    expect(await synthesize(tts(), { text: "你好", voice: "narrator" })).toMatchObject({ bytes: new Uint8Array(Buffer.from("ID3fake-mp3")), durationMs: 1960, logId: "20250101abc" });
    answer(TTS_PATH, ttsOk(1500));
    expect((await synthesize(tts(), { text: "你好", voice: "narrator" })).durationMs).toBe(1500);
  });

  it(`refuses text over ${TTS_MAX_TEXT_BYTES} UTF-8 bytes before calling (3010 is not retryable)`, async () => {
    answer(TTS_PATH, ttsOk());
    const text = "好".repeat(341) + "a".repeat(2); // 1023 + 2 = 1025 bytes
    expect(await failure(synthesize(tts(), { text, voice: "narrator" }))).toMatchObject({ code: "INVALID_REQUEST", retryable: false });
    expect(requests).toHaveLength(0);
    await synthesize(tts(), { text: "好".repeat(341), voice: "narrator" });
    expect(requests).toHaveLength(1);
  });

  it("maps the codes and messages, whatever the HTTP status", async () => {
    const cases: [number, Record<string, unknown>, string, boolean, RegExp?][] = [
      [200, { code: 3003, message: "concurrency limit exceeded" }, "RATE_LIMIT_EXCEEDED", true],
      [429, { code: 3001, message: "quota exceeded for types: concurrency" }, "RATE_LIMIT_EXCEEDED", true],
      ...[3005, 3030, 3031, 3032, 3040].map((code): [number, Record<string, unknown>, string, boolean] => [500, { code, message: "backend" }, "SERVICE_UNAVAILABLE", true]),
      [400, { code: 3001, message: "invalid request" }, "INTERNAL_ERROR", false],
      [400, { code: 3006, message: "service interrupted" }, "INTERNAL_ERROR", false],
      [400, { code: 3010, message: "text too long" }, "INVALID_REQUEST", false],
      [400, { code: 3011, message: "illegal input text!" }, "INVALID_REQUEST", false, /not speakable/],
      [400, { code: 3050, message: "voice does not exist" }, "INTERNAL_ERROR", false],
      [403, { code: 3001, message: "quota exceeded for types: 2101234567_lifetime" }, "INTERNAL_ERROR", false, /trial quota/],
      [401, { code: 3001, message: "authenticate request: load grant: requested grant not found" }, "INTERNAL_ERROR", false, /appid or token/],
      [403, { code: 403, backend_code: 0, message: "extract request resource id: get resource id: access denied" }, "INTERNAL_ERROR", false, /not authorised/],
      [403, { code: 3001, message: "[resource_id=volc.tts.default] requested resource not granted" }, "INTERNAL_ERROR", false],
      [200, { code: 3000, message: "Success", data: "" }, "SERVICE_UNAVAILABLE", true],
    ];
    for (const [status, body, code, retryable, message] of cases) {
      answer(TTS_PATH, { status, body: { reqid: "r", ...body } });
      const err = await failure(synthesize(tts(), { text: "你好", voice: "narrator" }));
      expect({ code: err.code, retryable: err.retryable }, JSON.stringify(body)).toEqual({ code, retryable });
      if (message) expect(err.message).toMatch(message);
    }
  });
});

// ---------------------------------------------------------------- Gemini image (gemini-image.md)
const image = (model = "gemini-2.5-flash-image") => ({ baseUrl: provider.base(), apiKey: "k", model });
const IMAGE_PATH = "/v1beta/models/gemini-2.5-flash-image:generateContent";
const png = (w: number, h: number) =>
  execFileSync("ffmpeg", ["-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", `color=c=red:s=${w}x${h}`, "-frames:v", "1", "-f", "image2", "-c:v", "png", "pipe:1"]);
const PNG_9_16 = png(768, 1344);
// Section 5's success shape.
const imageOk = (parts: unknown[]) => ({
  status: 200,
  body: { candidates: [{ content: { role: "model", parts }, finishReason: "STOP", index: 0 }], usageMetadata: { promptTokenCount: 9 }, modelVersion: "gemini-2.5-flash-image" },
});
const inline = (bytes: Buffer) => ({ inlineData: { mimeType: "image/png", data: bytes.toString("base64") } });

describe("Gemini scene images (contract sections 3-5)", () => {
  it("calls generateContent with TEXT+IMAGE, imageConfig.aspectRatio, the no-text rule in the prompt and the reference images; reads the first non-thought image", async () => {
    answer(IMAGE_PATH, imageOk([{ text: "Here is the image: " }, { ...inline(png(320, 320)), thought: true }, inline(PNG_9_16)]));
    const ref = new Uint8Array(png(400, 400));
    const out = await generateSceneImage(image(), { prompt: "Q版唐僧站在寺庙前，温馨卡通风格", aspectRatio: "9:16", referenceImages: [{ bytes: ref, mimeType: "image/png" }] });
    expect(out).toMatchObject({ mimeType: "image/png", width: 768, height: 1344 });
    expect(Buffer.from(out.bytes).equals(PNG_9_16)).toBe(true);
    const [r] = requests;
    expect(r.headers["x-goog-api-key"]).toBe("k");
    expect(r.body.generationConfig).toEqual({ responseModalities: ["TEXT", "IMAGE"], imageConfig: { aspectRatio: "9:16" } });
    const parts = r.body.contents[0].parts;
    expect(parts[0].text).toMatch(/^Q版唐僧站在寺庙前，温馨卡通风格\n.*no?t? .*text/i);
    expect(parts[1]).toEqual({ inlineData: { mimeType: "image/png", data: Buffer.from(ref).toString("base64") } });
  });

  it("a blocked prompt and the content finish reasons are CONTENT_VIOLATION, final", async () => {
    answer(IMAGE_PATH, { status: 200, body: { promptFeedback: { blockReason: "PROHIBITED_CONTENT" } } });
    expect(await failure(generateSceneImage(image(), { prompt: "p", aspectRatio: "9:16" }))).toMatchObject({ code: "CONTENT_VIOLATION", retryable: false });
    for (const reason of ["IMAGE_SAFETY", "IMAGE_PROHIBITED_CONTENT", "IMAGE_RECITATION", "PROHIBITED_CONTENT", "SAFETY", "BLOCKLIST", "SPII"]) {
      answer(IMAGE_PATH, { status: 200, body: { candidates: [{ content: { role: "model", parts: [] }, finishReason: reason, index: 0 }] } });
      expect(await failure(generateSceneImage(image(), { prompt: "p", aspectRatio: "9:16" })), reason).toMatchObject({ code: "CONTENT_VIOLATION", retryable: false });
    }
  });

  it("no image (NO_IMAGE, IMAGE_OTHER, OTHER, text-only STOP, a candidate without content, bytes that are no image) is retryable", async () => {
    const bodies = [
      ...["NO_IMAGE", "IMAGE_OTHER", "OTHER"].map((finishReason) => ({ candidates: [{ content: { role: "model", parts: [] }, finishReason, index: 0 }] })),
      { candidates: [{ content: { role: "model", parts: [{ text: "Could you describe the scene differently?" }] }, finishReason: "STOP", index: 0 }] },
      { candidates: [{ finishReason: "IMAGE_OTHER", index: 0 }] },
      imageOk([{ inlineData: { mimeType: "image/png", data: Buffer.from("not an image").toString("base64") } }]).body,
    ];
    for (const body of bodies) {
      answer(IMAGE_PATH, { status: 200, body });
      expect(await failure(generateSceneImage(image(), { prompt: "p", aspectRatio: "9:16" })), JSON.stringify(body)).toMatchObject({ retryable: true });
    }
  });

  it("429 with RetryInfo waits its delay (bare or array-wrapped); 429 with limit: 0 asks for billing, final; 5xx is retryable", async () => {
    // Section 7's real 429 body, with and without `limit: 0`.
    const quota = (message: string) => ({
      error: { code: 429, status: "RESOURCE_EXHAUSTED", message, details: [
        { "@type": "type.googleapis.com/google.rpc.QuotaFailure", violations: [{ quotaMetric: "generativelanguage.googleapis.com/generate_content_free_tier_requests", quotaId: "GenerateRequestsPerMinutePerProjectPerModel-FreeTier" }] },
        { "@type": "type.googleapis.com/google.rpc.RetryInfo", retryDelay: "44s" },
      ] },
    });
    answer(IMAGE_PATH, { status: 429, body: quota("You exceeded your current quota, please retry in 44s.") });
    expect(await failure(generateSceneImage(image(), { prompt: "p", aspectRatio: "9:16" }))).toMatchObject({ code: "RATE_LIMIT_EXCEEDED", retryable: true, retryAfterMs: 44_000 });
    answer(IMAGE_PATH, { status: 429, body: [quota("You exceeded your current quota, please retry in 44s.")] });
    expect(await failure(generateSceneImage(image(), { prompt: "p", aspectRatio: "9:16" }))).toMatchObject({ code: "RATE_LIMIT_EXCEEDED", retryAfterMs: 44_000 });
    answer(IMAGE_PATH, { status: 429, body: quota("You exceeded your current quota, … * Quota exceeded for metric: generativelanguage.googleapis.com/generate_content_free_tier_requests, limit: 0, model: gemini-2.5-flash-preview-image") });
    expect(await failure(generateSceneImage(image(), { prompt: "p", aspectRatio: "9:16" }))).toMatchObject({ code: "INTERNAL_ERROR", retryable: false, message: expect.stringMatching(/enable billing/) });
    for (const [status, name] of [[500, "INTERNAL"], [503, "UNAVAILABLE"], [504, "DEADLINE_EXCEEDED"]] as const) {
      answer(IMAGE_PATH, { status, body: { error: { code: status, status: name, message: "try later" } } });
      expect(await failure(generateSceneImage(image(), { prompt: "p", aspectRatio: "9:16" }))).toMatchObject({ code: "SERVICE_UNAVAILABLE", retryable: true });
    }
  });
});

// ---------------------------------------------------------------- configuration
describe("movie configuration", () => {
  it("each movie provider needs its own keys, failing with the variable's name; the defaults are the real hosts", async () => {
    vi.resetModules();
    const saved = { ...process.env };
    try {
      for (const k of Object.keys(process.env).filter((k) => /^(VOLC_|GEMINI_)/.test(k))) delete process.env[k];
      Object.assign(process.env, {
        SUPABASE_URL: "https://abc.supabase.co", SUPABASE_SERVICE_ROLE_KEY: "x".repeat(40), SUPABASE_DB_URL: "postgresql://u:p@h/db", JWT_SECRET: "s".repeat(40),
        VOLC_ACCESS_KEY: "AK", VOLC_TTS_TOKEN: "tok", GEMINI_API_KEY: "g",
      });
      const { volcengineConfig, ttsConfig, geminiImageConfig } = await import("../packages/shared/src/providers/index");
      expect(() => volcengineConfig()).toThrow(/VOLC_SECRET_KEY/);
      expect(() => ttsConfig()).toThrow(/VOLC_TTS_APPID/);
      expect(geminiImageConfig()).toEqual({ baseUrl: "https://generativelanguage.googleapis.com", apiKey: "g", model: "gemini-2.5-flash-image" });
      process.env.VOLC_SECRET_KEY = "SK";
      process.env.VOLC_TTS_APPID = "app";
      vi.resetModules();
      const fresh = await import("../packages/shared/src/providers/index");
      expect(fresh.volcengineConfig()).toEqual({ baseUrl: "https://visual.volcengineapi.com", accessKey: "AK", secretKey: "SK" });
      expect(fresh.ttsConfig()).toEqual({ baseUrl: "https://openspeech.bytedance.com", appId: "app", token: "tok", cluster: "volcano_tts" });
    } finally {
      process.env = saved;
      vi.resetModules();
    }
  });

  it("the stack points the movie providers at their simulators unless real keys are set", () => {
    const envOf = (vars: Record<string, string>) => JSON.parse(execFileSync(`${ROOT}node_modules/.bin/deno`,
      ["eval", "-q", `import { functionsEnv } from "./stack/env.ts"; console.log(JSON.stringify(await functionsEnv()))`],
      { cwd: ROOT, encoding: "utf8", env: { PATH: process.env.PATH, HOME: process.env.HOME, ...vars } }));
    expect(envOf({})).toMatchObject({
      VOLC_BASE_URL: "http://127.0.0.1:54343", VOLC_ACCESS_KEY: "AKSIMVOLC", VOLC_SECRET_KEY: "sim-volc-secret",
      VOLC_TTS_BASE_URL: "http://127.0.0.1:54344", VOLC_TTS_APPID: "sim-appid", VOLC_TTS_TOKEN: "sim-tts-token",
    });
    const real = envOf({ VOLC_ACCESS_KEY: "AKreal", VOLC_SECRET_KEY: "SKreal", VOLC_TTS_APPID: "1234", VOLC_TTS_TOKEN: "realtok" });
    expect(real).toMatchObject({
      VOLC_BASE_URL: "https://visual.volcengineapi.com", VOLC_ACCESS_KEY: "AKreal", VOLC_SECRET_KEY: "SKreal",
      VOLC_TTS_BASE_URL: "https://openspeech.bytedance.com", VOLC_TTS_APPID: "1234", VOLC_TTS_TOKEN: "realtok",
    });
    // Half a real key pair is not completed with the simulator's secret.
    expect(envOf({ VOLC_ACCESS_KEY: "AKreal" })).not.toHaveProperty("VOLC_SECRET_KEY");
  });
});
