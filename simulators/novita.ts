// Novita AI simulator (shared/providers/novita.md): Seedream 3.0 and merge-face (sync),
// Kling v2.1 master image-to-video (async, webhook with Novita's delivery policy) and task-result.
import {
  chance, count, deliverWebhook, injectedFault, knobs, overLimit, publishFile, quirk, rateLimitHeaders, type ScriptableEndpoint,
  scripted, sleep, submissionAccepted, submissionsByKey,
} from "./common.ts";
import { imageSize, makeImage, makeVideo, makeMergedImage } from "./media.ts";
import { logError } from "../packages/shared/src/log.ts";
import { fromBase64, toBase64 } from "../packages/shared/src/providers/http.ts";

export const NOVITA_KEY = "sk_sim_novita_key";

type Task = {
  id: string;
  created: number;
  /** Rendered from the submit on, so the clip is ready when the simulated latency ends; null when the task fails. */
  video: Promise<Uint8Array<ArrayBuffer>> | null;
  contentFailure: boolean;
  webhookUrl?: string;
  result?: { status: "TASK_STATUS_SUCCEED" | "TASK_STATUS_FAILED"; reason: string; video?: { url: string; ttl: number } };
};
const tasks = new Map<string, Task>();

function novitaError(status: number, reason: string, message: string) {
  const headers = status === 429 ? rateLimitHeaders() : {};
  return Response.json({ code: status, reason, message, metadata: {} }, { status, headers });
}

function badBody(message: string) {
  return novitaError(400, "INVALID_REQUEST_BODY", message);
}

/** Unknown or missing fields and wrong JSON types are refused, as the real API does. */
function checkFields(body: Record<string, unknown>, spec: Record<string, [string, boolean]>): string | null {
  for (const k of Object.keys(body)) if (!(k in spec)) return `unknown field: ${k}`;
  for (const [k, [type, required]] of Object.entries(spec)) {
    if (body[k] === undefined) {
      if (required) return `missing required field: ${k}`;
      continue;
    }
    const actual = Array.isArray(body[k]) ? "array" : typeof body[k];
    if (actual !== type) return `${k} must be a ${type}`;
  }
  return null;
}

function decodeImage(field: string, value: string): Uint8Array<ArrayBuffer> | Response {
  try {
    const bytes = fromBase64(value);
    if (bytes.length > 30 * 1024 * 1024) return novitaError(400, "IMAGE_FILE_EXCEEDS_MAX_SIZE", `${field} exceeds 30 MB`);
    const size = imageSize(bytes);
    if (!size) return novitaError(400, "INVALID_IMAGE_FORMAT", `${field} is not a PNG or JPEG image`);
    if (size.width > 2048 || size.height > 2048) return novitaError(400, "IMAGE_EXCEEDS_MAX_RESOLUTION", `${field} exceeds 2048x2048`);
    return bytes;
  } catch {
    return badBody(`${field} must be base64`);
  }
}

/** The video's TTL: "3600" as documented, or one of the observed variants. */
function videoTtl(ttl: number): unknown {
  if (!quirk("odd_ttl")) return String(ttl);
  return ["0", null, ttl][Math.floor(Math.random() * 3)];
}

function taskResult(t: Task) {
  const elapsed = Date.now() - t.created;
  const total = knobs.latency_ms.kling ?? 0;
  const pending = elapsed < total * 0.2 ? "TASK_STATUS_QUEUED" : quirk("task_status_unknown") ? "TASK_STATUS_UNKNOWN" : "TASK_STATUS_PROCESSING";
  const status = t.result?.status ?? pending;
  const progress = t.result ? (t.result.status === "TASK_STATUS_SUCCEED" ? 100 : 0) : Math.min(99, Math.floor((elapsed / Math.max(total, 1)) * 100));
  const eta = t.result ? 0 : Math.max(0, Math.ceil((total - elapsed) / 1000));
  const asText = quirk("string_numbers");
  return {
    extra: { seed: "0", enable_nsfw_detection: false, debug_info: { request_info: "", submit_time_ms: String(t.created), execute_time_ms: "", complete_time_ms: "" } },
    task: {
      ...(quirk("spellings") ? { taskId: t.id } : { task_id: t.id }), status, reason: t.result?.reason ?? "", task_type: "KLING_V2_1_I2V_MASTER",
      eta: asText ? String(eta) : eta, progress_percent: asText ? String(progress) : progress,
    },
    images: [],
    videos: t.result?.video ? [{ video_url: t.result.video.url, video_url_ttl: videoTtl(t.result.video.ttl), video_type: "mp4" }] : [],
    audios: [],
  };
}

async function finishTask(origin: string, t: Task) {
  await sleep(knobs.latency_ms.kling ?? 0);
  if (!t.video) {
    const reason = t.contentFailure ? "ILLEGAL_IMAGE_CONTENT" : "The video generation failed due to an internal model error";
    t.result = { status: "TASK_STATUS_FAILED", reason };
  } else {
    const video = await t.video;
    t.result = { status: "TASK_STATUS_SUCCEED", reason: "", video: publishFile(origin, video, "video/mp4", "mp4") };
  }
  count(t.video ? "kling_tasks_succeeded" : "kling_tasks_failed");
  if (t.webhookUrl) {
    if (quirk("other_events")) {
      // Events the receiver must acknowledge and ignore (the contract: 2xx for ignored events).
      await deliverWebhook(t.webhookUrl, { event_type: "ASYNC_TASK_PROGRESS", payload: taskResult(t) }, { timeoutMs: 5000, retries: 5 });
      await deliverWebhook(t.webhookUrl, { event_type: "ASYNC_TASK_RESULT", payload: {} }, { timeoutMs: 5000, retries: 5 });
    }
    await deliverWebhook(t.webhookUrl, { event_type: "ASYNC_TASK_RESULT", payload: { ...taskResult(t), extra: { webhook: { url: t.webhookUrl } } } }, {
      timeoutMs: 5000,
      retries: 5,
    });
  }
}

async function seedream(origin: string, body: Record<string, any>) {
  const problem = checkFields(body, {
    prompt: ["string", true], model: ["string", false], response_format: ["string", false], size: ["string", false],
    seed: ["number", false], guidance_scale: ["number", false], watermark: ["boolean", false],
  });
  if (problem) return badBody(problem);
  if (body.model !== undefined && body.model !== "seedream-3-0-t2i-250415") return badBody("model must be seedream-3-0-t2i-250415");
  if (body.response_format !== undefined && !["url", "b64_json"].includes(body.response_format)) return badBody("response_format must be url or b64_json");
  const size = String(body.size ?? "1024x1024").match(/^(\d+)x(\d+)$/);
  const [w, h] = size ? [Number(size[1]), Number(size[2])] : [0, 0];
  if (!size || w < 512 || h < 512 || w > 2048 || h > 2048) return badBody("size must be WxH between 512x512 and 2048x2048");
  if (body.guidance_scale !== undefined && (body.guidance_scale < 1 || body.guidance_scale > 10)) return badBody("guidance_scale must be in [1, 10]");
  if (body.prompt.includes("[[illegal]]")) return novitaError(400, "ILLEGAL_PROMPT", "prompt violates the content policy");
  if (overLimit("txt2img", 20)) return novitaError(429, "RATE_LIMIT_EXCEEDED", "rate limit exceeded");
  await sleep(knobs.latency_ms.seedream ?? 0);
  const jpeg = await makeImage(body.prompt, w, h, "jpg");
  count("seedream_images");
  if (body.response_format === "b64_json") return Response.json({ image_urls: [], binary_data_base64: [toBase64(jpeg)] });
  return Response.json({ image_urls: [publishFile(origin, jpeg, "image/jpeg", "jpeg").url], binary_data_base64: [] });
}

async function mergeFace(body: Record<string, any>) {
  const problem = checkFields(body, { face_image_file: ["string", true], image_file: ["string", true], extra: ["object", false] });
  if (problem) return badBody(problem);
  const extra = body.extra ?? {};
  for (const k of Object.keys(extra)) if (!["response_image_type", "enterprise_plan"].includes(k)) return badBody(`unknown field: extra.${k}`);
  if (extra.response_image_type !== undefined && !["png", "webp", "jpeg"].includes(extra.response_image_type)) {
    return badBody("extra.response_image_type must be png, webp or jpeg");
  }
  const face = decodeImage("face_image_file", body.face_image_file);
  if (face instanceof Response) return face;
  const image = decodeImage("image_file", body.image_file);
  if (image instanceof Response) return image;
  if (overLimit("merge_face", 10)) return novitaError(429, "RATE_LIMIT_EXCEEDED", "rate limit exceeded");
  await sleep(knobs.latency_ms.merge_face ?? 0);
  if (knobs.no_face) return novitaError(400, "IMAGE_NO_FACE_DETECTED", "no face detected in face_image_file");
  count("merge_face_images");
  return Response.json({ image_file: toBase64(await makeMergedImage(image, face, imageSize(image)!)), image_type: "png" });
}

async function klingSubmit(origin: string, body: Record<string, any>) {
  const problem = checkFields(body, {
    image: ["string", true], prompt: ["string", true], duration: ["string", false], guidance_scale: ["number", false],
    negative_prompt: ["string", false], extra: ["object", false],
  });
  if (problem) return badBody(problem);
  if (body.prompt.length > 2500) return badBody("prompt must be at most 2500 characters");
  if (body.duration !== undefined && !["5", "10"].includes(body.duration)) return badBody('duration must be "5" or "10"');
  if (body.guidance_scale !== undefined && (body.guidance_scale < 0 || body.guidance_scale > 1)) return badBody("guidance_scale must be in [0, 1]");
  const extra = body.extra ?? {};
  for (const k of Object.keys(extra)) if (k !== "webhook") return badBody(`unknown field: extra.${k}`);
  if (extra.webhook !== undefined && typeof extra.webhook?.url !== "string") return badBody("extra.webhook.url must be a string");
  let frame: Uint8Array<ArrayBuffer>;
  if (/^https?:\/\//.test(body.image)) {
    const res = await fetch(body.image).catch(() => null);
    if (!res?.ok) return novitaError(400, "INVALID_IMAGE_FORMAT", "image could not be downloaded");
    frame = new Uint8Array(await res.arrayBuffer());
  } else {
    const decoded = decodeImage("image", body.image);
    if (decoded instanceof Response) return decoded;
    frame = decoded;
  }
  const size = imageSize(frame);
  if (!size || size.width < 300 || size.height < 300) return novitaError(400, "INVALID_IMAGE_SIZE", "image must be at least 300x300");
  if (overLimit("kling", 20)) return novitaError(429, "RATE_LIMIT_EXCEEDED", "rate limit exceeded");
  const contentFailure = quirk("content_failures") || body.prompt.includes("[[illegal_image]]");
  const fails = contentFailure || chance(knobs.task_fail_rate) || body.prompt.includes("[[task_fails]]");
  const video = fails ? null : makeVideo(frame, Number(body.duration ?? "5"), body.prompt);
  video?.catch(() => {}); // awaited (and reported) in finishTask
  const t: Task = { id: crypto.randomUUID(), created: Date.now(), video, contentFailure, webhookUrl: extra.webhook?.url };
  tasks.set(t.id, t);
  const key = t.webhookUrl ? new URL(t.webhookUrl).searchParams.get("token") ?? t.webhookUrl : t.id;
  submissionsByKey.set(key, (submissionsByKey.get(key) ?? 0) + 1);
  finishTask(origin, t).catch((err) => logError("kling task", err));
  await submissionAccepted("kling_submissions");
  return Response.json({ task_id: t.id });
}

const SCRIPTABLE: Record<string, ScriptableEndpoint> = {
  "/v3/async/task-result": "task-result", "/v3/seedream-3-0-txt2img": "seedream", "/v3/merge-face": "merge-face",
  "/v3/async/kling-v2.1-i2v-master": "kling-i2v",
};

export async function handleNovita(req: Request, url: URL): Promise<Response> {
  const auth = req.headers.get("authorization");
  if (!auth) return novitaError(401, "MISSING_API_KEY", "missing API key");
  if (auth !== `Bearer ${NOVITA_KEY}`) return novitaError(403, "INVALID_API_KEY", "invalid API key");
  const endpoint = SCRIPTABLE[url.pathname];
  const script = endpoint && scripted(endpoint, { task_id: url.searchParams.get("task_id") ?? "" });
  if (script) return script;
  if (endpoint && knobs.down_endpoints.includes(endpoint)) {
    count(`outage_${endpoint}`);
    return novitaError(503, "SERVICE_UNAVAILABLE", "service temporarily unavailable");
  }
  const fault = injectedFault();
  if (fault === 429) return novitaError(429, "RATE_LIMIT_EXCEEDED", "rate limit exceeded");
  if (fault === 500) return novitaError(500, "CREATE_TASK_FAILED", "internal error");

  if (req.method === "GET" && url.pathname === "/v3/async/task-result") {
    count("task_result_requests");
    const t = tasks.get(url.searchParams.get("task_id") ?? "");
    return t ? Response.json(taskResult(t)) : novitaError(404, "TASK_NOT_FOUND", "task not found");
  }
  if (req.method !== "POST") return novitaError(404, "API_NOT_FOUND", "api not found");
  let body: Record<string, any>;
  try {
    body = await req.json();
    if (!body || typeof body !== "object" || Array.isArray(body)) throw new Error();
  } catch {
    return badBody("request body must be a JSON object");
  }
  switch (url.pathname) {
    case "/v3/seedream-3-0-txt2img":
      return await seedream(url.origin, body);
    case "/v3/merge-face":
      return await mergeFace(body);
    case "/v3/async/kling-v2.1-i2v-master":
      return await klingSubmit(url.origin, body);
    default:
      return novitaError(404, "API_NOT_FOUND", "api not found");
  }
}
