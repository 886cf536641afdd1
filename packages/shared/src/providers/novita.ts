// Novita AI: Seedream 3.0 (sync), merge-face (sync), Kling v2.1 master i2v (async) and
// task-result (shared/providers/novita.md).
import { z } from "zod";
import type { ErrorCode } from "../errors.ts";
import { fromBase64, ProviderError, providerFetch, providerHttpError, readJsonBody } from "./http.ts";

export type NovitaConfig = { baseUrl: string; apiKey: string };

// Reasons that mean the user's input, not the provider, is at fault.
const INPUT_REASONS: Record<string, [ErrorCode, string]> = {
  IMAGE_NO_FACE_DETECTED: ["INVALID_REQUEST", "No face was detected in the selfie"],
  ILLEGAL_PROMPT: ["CONTENT_VIOLATION", "The prompt was refused by the provider's content policy"],
  ILLEGAL_IMAGE_CONTENT: ["CONTENT_VIOLATION", "The image was refused by the provider's content policy"],
  INVALID_IMAGE_FORMAT: ["INVALID_REQUEST", "The image format is not supported"],
  IMAGE_FILE_EXCEEDS_MAX_SIZE: ["INVALID_REQUEST", "The image is too large"],
  IMAGE_EXCEEDS_MAX_RESOLUTION: ["INVALID_REQUEST", "The image resolution is too high (max 2048x2048)"],
  INVALID_IMAGE_SIZE: ["INVALID_REQUEST", "The image size is not supported"],
};

async function call(cfg: NovitaConfig, method: "GET" | "POST", path: string, body?: unknown): Promise<Record<string, any>> {
  const res = await providerFetch("novita", `${cfg.baseUrl}${path}`, {
    method,
    headers: { Authorization: `Bearer ${cfg.apiKey}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await readJsonBody("novita", res) as Record<string, any>;
  if (res.ok) return json;
  const reason = String(json?.reason ?? `HTTP ${res.status}`);
  const mapped = INPUT_REASONS[reason];
  if (mapped) throw new ProviderError(mapped[0], mapped[1], false);
  // A 429 has no documented Retry-After: the engine's exponential backoff applies.
  throw providerHttpError("novita", res.status, reason, String(json?.message ?? ""));
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
  input: { imageBase64: string; prompt: string; durationSeconds: 5 | 10; webhookUrl: string },
) {
  const body = await call(cfg, "POST", "/v3/async/kling-v2.1-i2v-master", {
    image: input.imageBase64,
    prompt: input.prompt.slice(0, 2500),
    duration: String(input.durationSeconds),
    guidance_scale: 0.5,
    extra: { webhook: { url: input.webhookUrl } },
  });
  if (typeof body.task_id !== "string" || !body.task_id) {
    throw new ProviderError("INTERNAL_ERROR", "novita: no task_id in the response", true);
  }
  return { taskId: body.task_id as string };
}

// TTLs come as numbers or strings; unknown statuses are tolerated.
const ttl = z.union([z.number(), z.string()]).optional().transform((v) => (v === undefined || v === "" ? undefined : Number(v)));
const taskResultSchema = z.object({
  task: z.object({
    task_id: z.string(),
    status: z.string(),
    reason: z.string().nullish(),
    progress_percent: z.number().nullish(),
    eta: z.number().nullish(),
  }),
  videos: z.array(z.object({ video_url: z.string(), video_url_ttl: ttl, video_type: z.string().nullish() })).nullish(),
  images: z.array(z.object({ image_url: z.string(), image_url_ttl: ttl })).nullish(),
});

export type TaskResult = {
  taskId: string;
  state: "pending" | "succeeded" | "failed";
  progress: number;
  reason: string;
  videoUrl?: string;
};

export function parseTaskResult(raw: unknown): TaskResult {
  const parsed = taskResultSchema.safeParse(raw);
  if (!parsed.success) throw new ProviderError("INTERNAL_ERROR", "novita: task-result has an unexpected shape", true);
  const { task, videos } = parsed.data;
  const state = task.status === "TASK_STATUS_SUCCEED" ? "succeeded" : task.status === "TASK_STATUS_FAILED" ? "failed" : "pending";
  return {
    taskId: task.task_id,
    state,
    progress: task.progress_percent ?? 0,
    reason: task.reason ?? "",
    videoUrl: videos?.[0]?.video_url,
  };
}

export async function getTaskResult(cfg: NovitaConfig, taskId: string): Promise<TaskResult> {
  return parseTaskResult(await call(cfg, "GET", `/v3/async/task-result?task_id=${encodeURIComponent(taskId)}`));
}
