// kie.ai Market API simulator (shared/providers/kie.md): createTask and recordInfo, states
// waiting -> queuing -> generating -> success|fail, callbacks (optionally HMAC-signed),
// 20 new tasks per 10 s, auth errors inside HTTP 200.
import { callbackSignature } from "../packages/shared/src/providers/kie.ts";
import {
  chance, count, deliverWebhook, injectedFault, knobs, overLimit, publishFile, quirk, rateLimitHeaders, type ScriptableEndpoint, scripted, sleep, submissionAccepted, submissionsByKey,
} from "./common.ts";
import { fillFrame, imageSize, makeImage, makeVideo } from "./media.ts";
import { logError } from "../packages/shared/src/log.ts";

export const KIE_KEY = "sim-kie-key";

type Check = (v: unknown) => string | null;
const str = (max = 10000, allowed?: string[]): Check => (v) =>
  typeof v !== "string" ? "must be a string" : v.length > max ? `must be at most ${max} characters` : allowed && !allowed.includes(v) ? `must be one of ${allowed.join(", ")}` : null;
const bool: Check = (v) => (typeof v === "boolean" ? null : "must be a boolean");
const num = (min: number, max: number): Check => (v) => (typeof v === "number" && v >= min && v <= max ? null : `must be a number in [${min}, ${max}]`);
const urls = (min: number, max: number): Check => (v) =>
  Array.isArray(v) && v.length >= min && v.length <= max && v.every((u) => typeof u === "string" && /^https?:\/\//.test(u)) ? null : `must be ${min}-${max} URLs`;
const url: Check = (v) => (typeof v === "string" && /^https?:\/\//.test(v) ? null : "must be a URL");
const shots: Check = (v) =>
  Array.isArray(v) && v.length >= 1 && v.length <= 5 && v.every((s) => typeof s?.prompt === "string" && s.prompt.length <= 500 && Number.isInteger(s.duration) && s.duration >= 1 && s.duration <= 12)
    ? null : "must be 1-5 shots of {prompt <= 500, duration 1-12}";

type Spec = { required: Record<string, Check>; optional: Record<string, Check> };
const klingDuration = str(2, Array.from({ length: 13 }, (_, i) => String(i + 3)));
const sora = (pro: boolean, i2v: boolean): Spec => ({
  required: { prompt: str(10000), ...(i2v ? { image_urls: urls(1, 1) } : {}) },
  optional: {
    aspect_ratio: str(16, ["portrait", "landscape"]), n_frames: str(2, ["10", "15"]), remove_watermark: bool,
    character_id_list: (v) => (Array.isArray(v) && v.length <= 5 ? null : "must have at most 5 entries"), upload_method: str(3, ["s3", "oss"]),
    ...(pro ? { size: str(8, ["standard", "high"]) } : {}),
  },
});
const kling3: Spec = {
  required: {},
  optional: {
    prompt: str(2500), image_urls: urls(1, 2), sound: bool, duration: klingDuration, aspect_ratio: str(4, ["16:9", "9:16", "1:1"]),
    mode: str(3, ["std", "pro", "4K"]), multi_shots: bool, multi_prompt: shots, kling_elements: (v) => (Array.isArray(v) && v.length <= 3 ? null : "at most 3"),
  },
};
const wan = (i2v: boolean): Spec => ({
  required: { prompt: str(2000), ...(i2v ? { image_url: url } : {}) },
  optional: {
    duration: str(2, ["5", "10"]), resolution: str(5, ["720p", "1080p"]), aspect_ratio: str(4, ["16:9", "9:16", "1:1"]),
    negative_prompt: str(500), enable_prompt_expansion: bool, seed: num(0, 2147483647),
  },
});
const kling25 = (i2v: boolean): Spec => ({
  required: { prompt: str(2500), ...(i2v ? { image_url: url } : {}) },
  optional: {
    // `resolution` is not in the contract's field list; the product contract offers 720p/1080p
    // for Kling 2.5 and the backend sends it only when asked. Accepted here as that assumption.
    duration: str(2, ["5", "10"]), negative_prompt: str(500), cfg_scale: num(0, 1), resolution: str(5, ["720p", "1080p"]),
    ...(i2v ? { tail_image_url: url } : { aspect_ratio: str(4, ["16:9", "9:16", "1:1"]) }),
  },
});

// Kling v2.1 master image-to-video: the same request Novita's kling-v2.1-i2v-master takes.
const kling21Master: Spec = {
  required: { prompt: str(5000), image_url: url },
  optional: { duration: str(2, ["5", "10"]), negative_prompt: str(500), cfg_scale: num(0, 1) },
};

const MODELS: Record<string, Spec> = {
  "kling/v2-1-master-image-to-video": kling21Master,
  "sora-2-text-to-video": sora(false, false), "sora-2-image-to-video": sora(false, true),
  "sora-2-pro-text-to-video": sora(true, false), "sora-2-pro-image-to-video": sora(true, true),
  "kling-3.0": kling3, "kling-3.0/video": kling3,
  "wan/2-5-text-to-video": wan(false), "wan/2-5-image-to-video": wan(true),
  "kling/v2-5-turbo-text-to-video-pro": kling25(false), "kling/v2-5-turbo-image-to-video-pro": kling25(true),
};

type Task = {
  taskId: string; model: string; param: string; callBackUrl?: string; created: number; updated: number;
  /** Rendered from the submit on, so the clip is ready when the simulated latency ends; null when the task fails. */
  video: Promise<Uint8Array<ArrayBuffer>> | null; contentFailure: boolean;
  done?: { state: "success" | "fail"; resultJson: string | null; failCode: string; failMsg: string; completeTime: number };
};
const tasks = new Map<string, Task>();

/** kie's envelope; `message` instead of `msg` now and then, as its docs use both. */
function reply(code: number, msg: string, data: unknown = null, status = 200) {
  const headers = code === 429 ? rateLimitHeaders() : {};
  return Response.json({ code, ...(quirk("spellings") ? { message: msg } : { msg }), data }, { status, headers });
}

function record(t: Task) {
  const elapsed = Date.now() - t.created;
  const total = knobs.latency_ms.kie ?? 0;
  const state = t.done?.state ?? (elapsed < total * 0.1 ? "waiting" : elapsed < total * 0.3 ? "queuing" : "generating");
  // Other spellings seen in kie's docs and SDK samples: task_id, resultJson as an object.
  const odd = quirk("spellings");
  const resultJson = odd && t.done?.resultJson ? JSON.parse(t.done.resultJson) : t.done?.resultJson ?? null;
  return {
    ...(odd ? { task_id: t.taskId } : { taskId: t.taskId }), model: t.model, state, param: t.param, resultJson,
    failCode: t.done?.failCode ?? "", failMsg: t.done?.failMsg ?? "", costTime: t.done ? Math.round((t.done.completeTime - t.created) / 1000) : 0,
    completeTime: t.done?.completeTime ?? null, createTime: t.created, updateTime: t.done?.completeTime ?? t.created,
    consumeCredits: t.done?.state === "success" ? 30 : 0, remainedCredits: 2510330,
  };
}

function frameSize(input: Record<string, any>): [number, number] {
  const ratio = input.aspect_ratio ?? "16:9";
  const tall = ratio === "9:16" || ratio === "portrait";
  const square = ratio === "1:1";
  const short = input.resolution === "1080p" ? 1080 : 720;
  const long = Math.round((short * 16) / 9);
  return square ? [short, short] : tall ? [short, long] : [long, short];
}

/**
 * The task's first reference image filled to the output size, else (text-to-video) a picture
 * of the prompt. Stand-in: a reference the simulator cannot download falls back to the prompt
 * picture instead of failing the task, because tests send placeholder URLs.
 */
async function firstFrame(input: Record<string, any>, prompt: string, w: number, h: number) {
  const reference = input.image_url ?? input.image_urls?.[0];
  if (reference) {
    const res = await fetch(reference, { signal: AbortSignal.timeout(5000) }).catch(() => null);
    const bytes = res?.ok ? new Uint8Array(await res.arrayBuffer()) : (await res?.body?.cancel(), null);
    // A model with no aspect or resolution setting (Kling 2.1 master) keeps the image's own.
    if (bytes && imageSize(bytes)) return input.aspect_ratio || input.resolution ? await fillFrame(bytes, w, h) : bytes;
  }
  return await makeImage(prompt, w, h, "png");
}

async function render(model: string, input: Record<string, any>) {
  const [w, h] = frameSize(input);
  const prompt = String(input.prompt ?? input.multi_prompt?.map((s: { prompt: string }) => s.prompt).join(" / ") ?? model);
  return await makeVideo(await firstFrame(input, prompt, w, h), Number(input.n_frames ?? input.duration ?? 5), prompt);
}

async function finish(origin: string, t: Task) {
  await sleep(knobs.latency_ms.kie ?? 0);
  const completeTime = Date.now();
  if (!t.video) {
    // kie documents no content failCode; this shape (400, a policy message) is an assumption.
    t.done = t.contentFailure
      ? { state: "fail", resultJson: null, failCode: "400", failMsg: "Your prompt was flagged by the content safety policy", completeTime }
      : { state: "fail", resultJson: null, failCode: "500", failMsg: "Internal server error", completeTime };
  } else {
    const video = await t.video;
    const { url } = publishFile(origin, video, "video/mp4", "mp4", knobs.kie_url_ttl_seconds);
    t.done = { state: "success", resultJson: JSON.stringify({ resultUrls: [url] }), failCode: "", failMsg: "", completeTime };
  }
  count(t.video ? "kie_tasks_succeeded" : "kie_tasks_failed");
  if (!t.callBackUrl) return;
  const success = t.done.state === "success";
  const headers: Record<string, string> = {};
  if (knobs.kie_hmac_key && !quirk("unsigned_callbacks")) {
    const ts = String(Math.floor(Date.now() / 1000));
    headers["X-Webhook-Timestamp"] = ts;
    headers["X-Webhook-Signature"] = await callbackSignature(knobs.kie_hmac_key, t.taskId, ts);
  }
  await deliverWebhook(t.callBackUrl, {
    code: success ? 200 : 501,
    msg: success ? "Playground task completed successfully." : "Playground task failed.",
    data: record(t),
  }, { timeoutMs: 15_000, retries: 2, headers });
}

async function createTask(origin: string, body: Record<string, any>): Promise<Response> {
  for (const k of Object.keys(body)) {
    if (!["model", "callBackUrl", "progressCallBackUrl", "input"].includes(k)) return reply(422, `Unknown field: ${k}`);
  }
  const spec = MODELS[body.model];
  if (!spec) return reply(422, `Unsupported model: ${body.model}`);
  if (body.callBackUrl !== undefined && url(body.callBackUrl)) return reply(422, "callBackUrl must be a URL");
  const input = body.input;
  if (!input || typeof input !== "object" || Array.isArray(input)) return reply(422, "input is required");
  for (const [k, check] of Object.entries(spec.required)) {
    if (input[k] === undefined) return reply(422, `input.${k} is required`);
    const problem = check(input[k]);
    if (problem) return reply(422, `input.${k} ${problem}`);
  }
  for (const [k, v] of Object.entries(input)) {
    const check = spec.required[k] ?? spec.optional[k];
    if (!check) return reply(422, `input.${k} is not a field of ${body.model}`);
    const problem = check(v);
    if (problem) return reply(422, `input.${k} ${problem}`);
  }
  if (spec === kling3) {
    if (input.multi_shots ? !input.multi_prompt : typeof input.prompt !== "string") return reply(422, "input.prompt is required unless multi_shots");
    if (input.multi_shots && input.image_urls?.length > 1) return reply(422, "multi-shot takes the first frame only");
  }
  const now = Date.now();
  if (overLimit("kie_create", 20, 10_000)) return reply(429, "Rate limited: at most 20 new generation requests per 10 seconds", null, 429);

  const taskId = `task_${body.model.replace(/[^a-z0-9]/gi, "")}_${now}${Math.floor(Math.random() * 1e6)}`;
  const contentFailure = quirk("content_failures") || String(input.prompt ?? "").includes("[[illegal_image]]");
  const fails = contentFailure || chance(knobs.task_fail_rate) || String(input.prompt ?? "").includes("[[task_fails]]");
  const video = fails ? null : render(body.model, input);
  video?.catch(() => {}); // awaited (and reported) in finish
  const t: Task = {
    taskId, model: body.model, param: JSON.stringify(body), callBackUrl: body.callBackUrl, created: now, updated: now, video,
    contentFailure,
  };
  tasks.set(taskId, t);
  const key = t.callBackUrl ? new URL(t.callBackUrl).searchParams.get("token") ?? t.callBackUrl : taskId;
  submissionsByKey.set(key, (submissionsByKey.get(key) ?? 0) + 1);
  finish(origin, t).catch((err) => logError("kie task", err));
  await submissionAccepted("kie_submissions");
  return reply(200, "success", { taskId });
}

const SCRIPTABLE: Record<string, ScriptableEndpoint> = { "/api/v1/jobs/recordInfo": "recordInfo", "/api/v1/jobs/createTask": "createTask" };

export async function handleKie(req: Request, url: URL): Promise<Response> {
  if (req.headers.get("authorization") !== `Bearer ${KIE_KEY}`) return reply(401, "You do not have access permissions");
  const endpoint = SCRIPTABLE[url.pathname];
  const taskId = url.searchParams.get("taskId") ?? "";
  const script = endpoint && scripted(endpoint, { task_id: taskId, taskId });
  if (script) return script;
  const fault = injectedFault();
  if (fault === 429) return reply(429, "Rate limited", null, 429);
  if (fault === 500) return reply(500, "Internal error, please try again later");
  if (req.method === "GET" && url.pathname === "/api/v1/jobs/recordInfo") {
    count("kie_record_requests");
    const t = tasks.get(url.searchParams.get("taskId") ?? "");
    return t ? reply(200, "success", record(t)) : reply(404, "Task not found");
  }
  if (req.method === "POST" && url.pathname === "/api/v1/jobs/createTask") {
    const body = await req.json().catch(() => null);
    if (!body || typeof body !== "object" || Array.isArray(body)) return reply(422, "Request body must be a JSON object");
    return createTask(url.origin, body);
  }
  return reply(404, "Not found", null, 404);
}
