// The movie pipeline's adapters against the live simulators: signed Jimeng tasks that end in
// real MP4s of the promised frames and sizes, speech whose mp3 lasts what the answer says,
// and scene images at the model's ratio sizes; and the refusals and limits of each contract.
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { beforeEach, describe, expect, it } from "vitest";
import { generateSceneImage } from "../packages/shared/src/providers/gemini-image";
import type { TaskResult } from "../packages/shared/src/providers/http";
import { getJimengResult, type JimengMode, signVolcengine, submitJimeng } from "../packages/shared/src/providers/volcengine";
import { synthesize } from "../packages/shared/src/providers/volcengine-tts";
import { env, resetSims, simKnobs, waitFor } from "./helpers";
import { failure } from "./stand-in-provider";

const volc = (secretKey = "sim-volc-secret") => ({ baseUrl: env.VOLC_SIM_URL, accessKey: "AKSIMVOLC", secretKey });
const tts = () => ({ baseUrl: env.TTS_SIM_URL, appId: "sim-appid", token: "sim-tts-token", cluster: "volcano_tts" });
const gemini = () => ({ baseUrl: env.GEMINI_SIM_URL, apiKey: "sim-gemini-key", model: "gemini-2.5-flash-image" });
const dir = mkdtempSync("/tmp/reelforge-movie-");

beforeEach(async () => {
  await resetSims({ latency_ms: { jimeng: 600, tts: 0, gemini_image: 0 } });
});

function save(name: string, bytes: Uint8Array) {
  const file = `${dir}/${name}`;
  writeFileSync(file, bytes);
  return file;
}

/** Frames (decoded and counted), frame rate, size and pixel format of a video file. */
function probeVideo(file: string) {
  const out = JSON.parse(execFileSync("ffprobe", [
    "-v", "error", "-count_frames", "-select_streams", "v:0", "-show_entries", "stream=codec_name,width,height,r_frame_rate,pix_fmt,nb_read_frames",
    "-of", "json", file,
  ], { encoding: "utf8" })).streams[0];
  return { codec: out.codec_name, width: out.width, height: out.height, fps: out.r_frame_rate, pixFmt: out.pix_fmt, frames: Number(out.nb_read_frames) };
}

/** The mean colour of the first or last frame (the frame scaled to one pixel). */
function frameColour(file: string, which: "first" | "last"): number[] {
  const raw = execFileSync("ffmpeg", [
    "-hide_banner", "-loglevel", "error", ...(which === "last" ? ["-sseof", "-0.2"] : []), "-i", file,
    "-vf", "scale=1:1", "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1",
  ]);
  return [...raw.subarray(0, 3)];
}

/** A solid PNG of the given size and colour, as base64. */
function pngBase64(width: number, height: number, colour: string): string {
  return execFileSync("ffmpeg", [
    "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", `color=c=${colour}:s=${width}x${height}`, "-frames:v", "1", "-f", "image2", "-c:v", "png", "pipe:1",
  ]).toString("base64");
}

/** Polls a Jimeng task to its end, recording the states seen on the way. */
async function finish(ref: string): Promise<{ result: TaskResult; seen: string[] }> {
  const seen: string[] = [];
  const result = await waitFor(`Jimeng task ${ref}`, async () => {
    const r = await getJimengResult(volc(), ref);
    seen.push(r.state);
    return r.state === "pending" ? null : r;
  });
  return { result, seen };
}

async function download(url: string, name: string) {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  return save(name, new Uint8Array(await res.arrayBuffer()));
}

async function jimengClip(req: { mode: JimengMode; hd: boolean; frames: 121 | 241; aspectRatio?: string; imagesBase64?: string[] }, name: string) {
  const { taskId } = await submitJimeng(volc(), { prompt: `a lantern festival over the river (${name})`, ...req });
  const { result, seen } = await finish(taskId);
  expect(result).toMatchObject({ taskId, state: "succeeded", videoUrl: expect.stringMatching(/^http/) });
  expect(seen[0]).toBe("pending");
  return await download(result.videoUrl!, `${name}.mp4`);
}

describe("Jimeng simulator (volcengine.md)", () => {
  it("a signed 1080P 9:16 t2v of 241 frames polls to done and is an H.264 MP4 of 241 frames at 24 fps, 1088x1920", async () => {
    const file = await jimengClip({ mode: "t2v", hd: true, frames: 241, aspectRatio: "9:16" }, "t2v-1080");
    expect(probeVideo(file)).toEqual({ codec: "h264", width: 1088, height: 1920, fps: "24/1", pixFmt: "yuv420p", frames: 241 });
  });

  it("a 720P 9:16 t2v of 121 frames is 121 frames of 720x1280", async () => {
    const file = await jimengClip({ mode: "t2v", hd: false, frames: 121, aspectRatio: "9:16" }, "t2v-720");
    expect(probeVideo(file)).toMatchObject({ width: 720, height: 1280, fps: "24/1", frames: 121 });
  });

  it("i2v starts on the given PNG; first+tail ends on the tail frame; the output follows the image's shape", async () => {
    const red = pngBase64(768, 1344, "red");
    const blue = pngBase64(768, 1344, "blue");
    const first = await jimengClip({ mode: "i2v_first", hd: false, frames: 121, imagesBase64: [red] }, "i2v-first");
    expect(probeVideo(first)).toMatchObject({ width: 720, height: 1280, frames: 121 });
    const [r, , b] = frameColour(first, "first");
    expect(r).toBeGreaterThan(180);
    expect(b).toBeLessThan(80);
    const tail = await jimengClip({ mode: "i2v_first_tail", hd: true, frames: 121, imagesBase64: [red, blue] }, "i2v-first-tail");
    expect(probeVideo(tail)).toMatchObject({ width: 1088, height: 1920, frames: 121 });
    expect(frameColour(tail, "first")[0]).toBeGreaterThan(180);
    const end = frameColour(tail, "last");
    expect(end[2]).toBeGreaterThan(180);
    expect(end[0]).toBeLessThan(80);
  });

  it("refuses images the contract refuses: too small a short side, too many images for the mode, aspect_ratio on i2v", async () => {
    const small = pngBase64(300, 600, "red");
    const send = (body: Record<string, unknown>) => signedFetch("CVSync2AsyncSubmitTask", body);
    expect((await send({ req_key: "jimeng_i2v_first_v30", prompt: "p", frames: 121, binary_data_base64: [small] })).json.message).toMatch(/short side/);
    const ok = pngBase64(512, 512, "red");
    expect((await send({ req_key: "jimeng_i2v_first_v30", prompt: "p", frames: 121, binary_data_base64: [ok, ok] })).json.message).toMatch(/exactly 1/);
    expect((await send({ req_key: "jimeng_i2v_first_v30", prompt: "p", frames: 121, aspect_ratio: "9:16", binary_data_base64: [ok] })).json.message).toMatch(/aspect_ratio/);
    expect((await send({ req_key: "jimeng_t2v_v30", prompt: "p", frames: 120 })).json.message).toMatch(/121 or 241/);
    expect((await send({ req_key: "jimeng_i2v_first_v30_1080p", prompt: "p", frames: 121 })).json).toMatchObject({ code: 30404, data: null });
  });

  it("a bad signature gets the gateway's ResponseMetadata.Error (401/403) and the adapter's INTERNAL_ERROR naming it", async () => {
    const err = await failure(submitJimeng(volc("wrong-secret"), { mode: "t2v", hd: false, prompt: "p", frames: 121 }));
    expect(err).toMatchObject({ code: "INTERNAL_ERROR", retryable: false, message: expect.stringContaining("SignatureDoesNotMatch") });
    const forged = await signedFetch("CVSync2AsyncSubmitTask", { req_key: "jimeng_t2v_v30", prompt: "p", frames: 121 }, "wrong-secret");
    expect(forged.status).toBe(403);
    expect(forged.json).toMatchObject({ ResponseMetadata: { Service: "cv", Region: "cn-north-1", Error: { Code: "SignatureDoesNotMatch" } } });
    expect(forged.json).not.toHaveProperty("code");
    const unsigned = await fetch(`${env.VOLC_SIM_URL}/?Action=CVSync2AsyncSubmitTask&Version=2022-08-31`, { method: "POST", body: "{}" });
    expect(unsigned.status).toBe(401);
    expect((await unsigned.json()).ResponseMetadata.Error.Code).toBeTruthy();
    const unknownAction = await signedFetch("CVSync2AsyncSubmitTaskX", {});
    expect(unknownAction.status).toBe(404);
    expect(unknownAction.json.ResponseMetadata.Error.Code).toBe("InvalidActionOrVersion");
  });

  it("a blocked word in the prompt is 50413 at submit: CONTENT_VIOLATION, final", async () => {
    const err = await failure(submitJimeng(volc(), { mode: "t2v", hd: false, prompt: "a forbidden scene", frames: 121 }));
    expect(err).toMatchObject({ code: "CONTENT_VIOLATION", retryable: false, message: expect.stringContaining("50413") });
  });

  it("a task refused after generation ends `done` with a 5051x code: a failed task with CONTENT_VIOLATION and the provider's message", async () => {
    await simKnobs({ jimeng_fail_code: 50511 });
    const { taskId } = await submitJimeng(volc(), { mode: "t2v", hd: false, prompt: "a quiet harbour", frames: 121 });
    const { result } = await finish(taskId);
    expect(result).toMatchObject({ state: "failed", code: "CONTENT_VIOLATION", reason: expect.stringContaining("Post Img Risk Not Pass") });
  });

  it("over the QPS limit is 50429 and over the concurrency limit 50430: RATE_LIMIT_EXCEEDED, retryable", async () => {
    await simKnobs({ limits_scale: 1, jimeng_qps: 2, jimeng_concurrency: 100 });
    const submit = () => submitJimeng(volc(), { mode: "t2v", hd: false, prompt: "a paper boat", frames: 121 });
    const results = await Promise.allSettled([submit(), submit(), submit()]);
    const limited = results.filter((r) => r.status === "rejected").map((r) => (r as PromiseRejectedResult).reason);
    expect(limited.length).toBeGreaterThan(0);
    expect(limited[0]).toMatchObject({ code: "RATE_LIMIT_EXCEEDED", retryable: true, message: expect.stringContaining("50429") });
    // The accepted tasks end first, so they do not count against the concurrency limit below.
    await simKnobs({ jimeng_qps: 100 });
    for (const r of results) if (r.status === "fulfilled") await finish(r.value.taskId);

    await simKnobs({ jimeng_concurrency: 1, latency_ms: { jimeng: 60_000 } });
    await submit();
    expect(await failure(submit())).toMatchObject({ code: "RATE_LIMIT_EXCEEDED", retryable: true, message: expect.stringContaining("50430") });
  });

  it("an unknown task is not_found: failed with a clear reason", async () => {
    expect(await getJimengResult(volc(), "jimeng_t2v_v30:123")).toMatchObject({ state: "failed", reason: expect.stringContaining("not_found") });
  });
});

/** A signed call with any body (the adapter only sends valid ones). */
async function signedFetch(action: string, body: unknown, secretKey = "sim-volc-secret") {
  const url = new URL(env.VOLC_SIM_URL);
  const text = JSON.stringify(body);
  const headers = await signVolcengine({
    method: "POST", host: url.host, path: "/", query: { Action: action, Version: "2022-08-31" }, contentType: "application/json", body: text,
    accessKey: "AKSIMVOLC", secretKey, xDate: new Date().toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, ""),
  });
  delete headers.Host;
  const res = await fetch(`${url.origin}/?Action=${action}&Version=2022-08-31`, { method: "POST", headers, body: text });
  return { status: res.status, json: await res.json() };
}

describe("speech simulator (volcengine-tts.md)", () => {
  it("speaks a decodable 24000 Hz mp3 whose duration is addition.duration within 100 ms", async () => {
    const speech = await synthesize(tts(), { text: "贫僧刚从西天取经回来，一路上历经九九八十一难。", voice: "tang_monk", emotion: "humble" });
    const file = save("speech.mp3", speech.bytes);
    const probe = JSON.parse(execFileSync("ffprobe", ["-v", "error", "-show_entries", "stream=codec_name,sample_rate:format=duration", "-of", "json", file], { encoding: "utf8" }));
    expect(probe.streams[0]).toMatchObject({ codec_name: "mp3", sample_rate: "24000" });
    expect(speech.durationMs).toBeGreaterThan(1000);
    expect(Math.abs(Number(probe.format.duration) * 1000 - speech.durationMs)).toBeLessThan(100);
    expect(speech.logId).toBeTruthy();
    // Faster speech is shorter.
    const fast = await synthesize(tts(), { text: "贫僧刚从西天取经回来，一路上历经九九八十一难。", voice: "narrator", speedRatio: 2 });
    expect(fast.durationMs).toBeLessThan(speech.durationMs * 0.8);
  });

  it("1025 bytes of text are refused by the adapter before calling; the simulator answers 3010 to them", async () => {
    const text = "好".repeat(341) + "ab";
    expect(await failure(synthesize(tts(), { text, voice: "narrator" }))).toMatchObject({ code: "INVALID_REQUEST", retryable: false });
    const raw = await ttsFetch({ text });
    expect(raw.json).toMatchObject({ code: 3010 });
  });

  it("a reused reqid is 3006; punctuation only is 3011; an unknown voice_type is 3050; a wrong token is the grant error", async () => {
    const reqid = crypto.randomUUID();
    expect((await ttsFetch({ reqid })).json).toMatchObject({ code: 3000, addition: { duration: expect.stringMatching(/^\d+$/) } });
    expect((await ttsFetch({ reqid })).json).toMatchObject({ code: 3006 });
    expect((await ttsFetch({ text: "。。！" })).json).toMatchObject({ code: 3011, message: "illegal input text!" });
    expect((await ttsFetch({ voice_type: "zh_male_nobody_bigtts" })).json).toMatchObject({ code: 3050 });
    const wrong = await ttsFetch({}, "Bearer wrong");
    expect(wrong.json.message).toMatch(/grant not found/);
    expect(await failure(synthesize({ ...tts(), token: "nope" }, { text: "你好", voice: "narrator" }))).toMatchObject({ code: "INTERNAL_ERROR", retryable: false });
  });

  it("over the concurrency cap is 3003 (RATE_LIMIT_EXCEEDED); injected 3031 is retryable and a 403 grant error final", async () => {
    await simKnobs({ limits_scale: 1, tts_concurrency: 1, latency_ms: { tts: 800 } });
    const results = await Promise.allSettled([1, 2].map(() => synthesize(tts(), { text: "你好", voice: "narrator" })));
    const limited = results.filter((r) => r.status === "rejected").map((r) => (r as PromiseRejectedResult).reason);
    expect(limited).toHaveLength(1);
    expect(limited[0]).toMatchObject({ code: "RATE_LIMIT_EXCEEDED", retryable: true });
    await simKnobs({ latency_ms: { tts: 0 }, tts_faults: ["3031", "grant"] });
    expect(await failure(synthesize(tts(), { text: "你好", voice: "narrator" }))).toMatchObject({ code: "SERVICE_UNAVAILABLE", retryable: true });
    expect(await failure(synthesize(tts(), { text: "你好", voice: "narrator" }))).toMatchObject({ code: "INTERNAL_ERROR", retryable: false });
    expect((await synthesize(tts(), { text: "你好", voice: "narrator" })).durationMs).toBeGreaterThan(0);
  });
});

async function ttsFetch(over: { text?: string; reqid?: string; voice_type?: string }, auth = "Bearer;sim-tts-token") {
  const res = await fetch(`${env.TTS_SIM_URL}/api/v1/tts`, {
    method: "POST",
    headers: { Authorization: auth, "content-type": "application/json" },
    body: JSON.stringify({
      app: { appid: "sim-appid", token: "x", cluster: "volcano_tts" }, user: { uid: "test" },
      audio: { voice_type: over.voice_type ?? "BV001_streaming", encoding: "mp3", rate: 24000 },
      request: { reqid: over.reqid ?? crypto.randomUUID(), text: over.text ?? "你好", text_type: "plain", operation: "query" },
    }),
  });
  return { status: res.status, json: await res.json() };
}

describe("Gemini image simulator (gemini-image.md)", () => {
  it("answers a 768x1344 PNG for 9:16, and the input image's shape without a ratio", async () => {
    const out = await generateSceneImage(gemini(), { prompt: "Q版唐僧站在寺庙前，温馨卡通风格", aspectRatio: "9:16" });
    expect(out).toMatchObject({ mimeType: "image/png", width: 768, height: 1344 });
    const probe = JSON.parse(execFileSync("ffprobe", ["-v", "error", "-show_entries", "stream=codec_name,width,height", "-of", "json", save("scene.png", out.bytes)], { encoding: "utf8" }));
    expect(probe.streams[0]).toMatchObject({ codec_name: "png", width: 768, height: 1344 });
    const edit = await imageFetch({
      contents: [{ parts: [{ text: "make it night" }, { inlineData: { mimeType: "image/png", data: pngBase64(640, 480, "red") } }] }],
      generationConfig: { responseModalities: ["IMAGE"] },
    });
    const data = edit.json.candidates[0].content.parts.find((p: any) => p.inlineData).inlineData.data;
    const size = JSON.parse(execFileSync("ffprobe", ["-v", "error", "-show_entries", "stream=width,height", "-of", "json", save("edit.png", Buffer.from(data, "base64"))], { encoding: "utf8" }));
    expect(size.streams[0]).toEqual({ width: 640, height: 480 });
  });

  it("a blocked prompt is CONTENT_VIOLATION; NO_IMAGE is retryable; the seed's numberOfImages is 400 and :generateImage 404", async () => {
    expect(await failure(generateSceneImage(gemini(), { prompt: "a forbidden temple", aspectRatio: "9:16" }))).toMatchObject({ code: "CONTENT_VIOLATION", retryable: false });
    await simKnobs({ image_faults: ["NO_IMAGE", "IMAGE_SAFETY"] });
    expect(await failure(generateSceneImage(gemini(), { prompt: "a temple", aspectRatio: "9:16" }))).toMatchObject({ retryable: true });
    expect(await failure(generateSceneImage(gemini(), { prompt: "a temple", aspectRatio: "9:16" }))).toMatchObject({ code: "CONTENT_VIOLATION", retryable: false });
    const seed = await imageFetch({ contents: [{ parts: [{ text: "a temple" }] }], generationConfig: { numberOfImages: 1, aspectRatio: "9:16" } });
    expect(seed.status).toBe(400);
    expect(seed.json.error).toMatchObject({ status: "INVALID_ARGUMENT", message: expect.stringContaining("numberOfImages") });
    const generateImage = await imageFetch({ prompt: { text: "a temple" } }, "generateImage");
    expect(generateImage.status).toBe(404);
  });
});

async function imageFetch(body: unknown, method = "generateContent") {
  const res = await fetch(`${env.GEMINI_SIM_URL}/v1beta/models/gemini-2.5-flash-image:${method}`, {
    method: "POST",
    headers: { "x-goog-api-key": "sim-gemini-key", "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: await res.json() };
}
