// Novita AI: Seedream 3.0 (sync), merge-face (sync), Kling v2.1 master i2v (async) and
// task-result (shared/providers/novita.md).
import type { ErrorCode } from "../errors.ts";
import {
  asPollError, type CallPurpose, fromBase64, lenientNumber, looksLikeContentRefusal, outcomeUnknown, parseRetryAfter, ProviderError, providerFetch,
  providerHttpError, readJsonBody, type TaskResult,
} from "./http.ts";

export type { TaskResult } from "./http.ts";
export type NovitaConfig = { baseUrl: string; apiKey: string; webhookEndpoints?: readonly string[] };

// Reasons (section 7 of the contract) that mean the user's input, not the provider, is at
// fault. They come as an HTTP error's `reason` and as a FAILED task's `task.reason`.
const INPUT_REASONS: Record<string, [ErrorCode, string]> = {
  IMAGE_NO_FACE_DETECTED: ["INVALID_REQUEST", "No face was detected in the selfie"],
  ILLEGAL_PROMPT: ["CONTENT_VIOLATION", "The prompt was refused by the provider's content policy"],
  ILLEGAL_IMAGE_CONTENT: ["CONTENT_VIOLATION", "The image was refused by the provider's content policy"],
  INVALID_IMAGE_FORMAT: ["INVALID_REQUEST", "The image format is not supported"],
  IMAGE_FILE_EXCEEDS_MAX_SIZE: ["INVALID_REQUEST", "The image is too large"],
  IMAGE_EXCEEDS_MAX_RESOLUTION: ["INVALID_REQUEST", "The image resolution is too high (max 2048x2048)"],
  INVALID_IMAGE_SIZE: ["INVALID_REQUEST", "The image size is not supported"],
};

/** Async endpoints that take `extra.webhook`, per the contract: only those whose own page
 * lists it. kling-v2.1-i2v-master's page does not ([UNCONFIRMED]), and an unknown field
 * could fail every submit, so it gets none by default; polling finishes the task alone.
 * NOVITA_WEBHOOK_ENDPOINTS (config) adds endpoints, e.g. for the simulator, which takes it. */
export const WEBHOOK_ENDPOINTS: Record<string, boolean> = {
  "kling-v2.1-i2v-master": false,
};

export function sendsWebhook(endpoint: string, extraEndpoints: readonly string[] = []): boolean {
  return WEBHOOK_ENDPOINTS[endpoint] === true || extraEndpoints.includes(endpoint);
}

/** The catalog code and message for a Novita reason, exact or inside a longer text. */
export function reasonCode(reason: string): [ErrorCode, string] | undefined {
  const exact = INPUT_REASONS[reason.trim()];
  if (exact) return exact;
  const named = Object.keys(INPUT_REASONS).find((k) => new RegExp(`\\b${k}\\b`).test(reason));
  return named ? INPUT_REASONS[named] : undefined;
}

async function call(cfg: NovitaConfig, method: "GET" | "POST", path: string, body?: unknown, purpose: CallPurpose = "other"): Promise<Record<string, any>> {
  const res = await providerFetch("novita", `${cfg.baseUrl}${path}`, {
    method,
    headers: { Authorization: `Bearer ${cfg.apiKey}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
    purpose,
  });
  // A gateway timeout on a paid submit: the task may exist (Novita answers 504 when its gateway gave up).
  if (purpose === "paid_submit" && res.status === 504) {
    await res.body?.cancel();
    throw outcomeUnknown("novita", "the submit hit a gateway timeout");
  }
  const json = await readJsonBody("novita", res) as Record<string, any>;
  if (res.ok) return json;
  const reason = String(json?.reason ?? `HTTP ${res.status}`);
  const mapped = INPUT_REASONS[reason];
  if (mapped) throw new ProviderError(mapped[0], mapped[1], false);
  // A 429's Retry-After is undocumented: honoured when sent, else the engine's backoff applies.
  const err = providerHttpError("novita", res.status, reason, String(json?.message ?? json?.msg ?? ""), parseRetryAfter(res.headers.get("retry-after")));
  throw purpose === "poll" ? asPollError(err, res.status) : err;
}

export const SEEDREAM_SIZES = { "9:16": "720x1280", "16:9": "1280x720", "1:1": "1024x1024" } as const;

export async function seedreamTxt2Img(cfg: NovitaConfig, input: { prompt: string; size: string; seed?: number }) {
  const body = await call(cfg, "POST", "/v3/seedream-3-0-txt2img", {
    prompt: input.prompt,
    size: input.size,
    response_format: "url",
    watermark: false,
    ...(input.seed === undefined ? {} : { seed: input.seed }),
  });
  const url = body.image_urls?.[0];
  if (typeof url !== "string") throw new ProviderError("INTERNAL_ERROR", "novita: Seedream returned no image", true);
  return { imageUrl: url };
}

export async function mergeFace(cfg: NovitaConfig, input: { faceImageBase64: string; imageBase64: string }) {
  const body = await call(cfg, "POST", "/v3/merge-face", {
    face_image_file: input.faceImageBase64,
    image_file: input.imageBase64,
    extra: { response_image_type: "png" },
  });
  if (typeof body.image_file !== "string") throw new ProviderError("INTERNAL_ERROR", "novita: merge-face returned no image", true);
  const type = String(body.image_type ?? "png");
  return { bytes: fromBase64(body.image_file), contentType: `image/${type === "jpeg" ? "jpeg" : type}` };
}

export async function submitImageToVideo(
  cfg: NovitaConfig,
  input: { imageBase64: string; prompt: string; durationSeconds: 5 | 10; webhookUrl?: string },
) {
  const endpoint = "kling-v2.1-i2v-master";
  const webhook = input.webhookUrl && sendsWebhook(endpoint, cfg.webhookEndpoints);
  const body = await call(cfg, "POST", `/v3/async/${endpoint}`, {
    image: input.imageBase64,
    prompt: input.prompt.slice(0, 2500),
    duration: String(input.durationSeconds),
    guidance_scale: 0.5,
    ...(webhook ? { extra: { webhook: { url: input.webhookUrl } } } : {}),
  }, "paid_submit");
  const taskId = body.task_id ?? body.taskId;
  // A 200 without a task id may still have created (and charged) a task.
  if (typeof taskId !== "string" || !taskId) throw outcomeUnknown("novita", "the submit answered without a task_id");
  return { taskId };
}

const STATES: Record<string, TaskResult["state"]> = { TASK_STATUS_SUCCEED: "succeeded", TASK_STATUS_FAILED: "failed" };

/** task-result (or a webhook's payload) as a task result. Only task id, status, reason and
 * the first video URL are relied on; eta, progress and TTLs may be numbers, strings or null,
 * and any status other than SUCCEED/FAILED (QUEUED, PROCESSING, UNKNOWN, new ones) is pending. */
export function parseTaskResult(raw: unknown, requestedTaskId?: string): TaskResult {
  const body = raw as Record<string, any> | null;
  const task = body?.task;
  const taskId = task?.task_id ?? task?.taskId ?? requestedTaskId;
  if (!task || typeof task !== "object" || typeof task.status !== "string" || typeof taskId !== "string") {
    throw new ProviderError("INTERNAL_ERROR", "novita: task-result has an unexpected shape", true);
  }
  const state = STATES[task.status] ?? "pending";
  const reason = typeof task.reason === "string" ? task.reason : "";
  if (state === "failed") {
    const [code, message] = reasonCode(reason) ??
      (looksLikeContentRefusal(reason) ? ["CONTENT_VIOLATION", "The provider's content policy refused the video"] : ["TASK_FAILED", ""]);
    return { taskId, state, progress: 0, reason: message ? `${message} (${reason})` : reason, code };
  }
  const video = Array.isArray(body?.videos) ? body.videos.find((v: any) => typeof v?.video_url === "string" && v.video_url) : undefined;
  const progress = state === "succeeded" ? 100 : Math.max(0, Math.min(99, lenientNumber(task.progress_percent) ?? 0));
  return { taskId, state, progress, reason, ...(video ? { videoUrl: video.video_url as string } : {}) };
}

export async function getTaskResult(cfg: NovitaConfig, taskId: string): Promise<TaskResult> {
  return parseTaskResult(await call(cfg, "GET", `/v3/async/task-result?task_id=${encodeURIComponent(taskId)}`, undefined, "poll"), taskId);
}
