// kie.ai Market API: createTask, recordInfo and callback signatures (shared/providers/kie.md).
// Always read the body `code`: auth errors arrive inside HTTP 200.
import type { ErrorCode } from "../errors.ts";
import { ProviderError, providerFetch, readJsonBody, toBase64 } from "./http.ts";
import type { TaskResult } from "./novita.ts";

export type KieConfig = { baseUrl: string; apiKey: string };

// Body codes -> [catalog code, retryable]. 501 is a failed generation; 455 maintenance.
const BODY_CODES: Record<number, [ErrorCode, boolean]> = {
  401: ["INTERNAL_ERROR", false],
  402: ["SERVICE_UNAVAILABLE", false],
  404: ["INTERNAL_ERROR", false],
  408: ["SERVICE_UNAVAILABLE", true],
  422: ["INVALID_REQUEST", false],
  429: ["RATE_LIMIT_EXCEEDED", true],
  455: ["SERVICE_UNAVAILABLE", true],
  500: ["SERVICE_UNAVAILABLE", true],
  501: ["TASK_FAILED", false],
  505: ["SERVICE_UNAVAILABLE", false],
};

async function call(cfg: KieConfig, method: "GET" | "POST", path: string, body?: unknown) {
  const res = await providerFetch("kie", `${cfg.baseUrl}${path}`, {
    method,
    headers: { Authorization: `Bearer ${cfg.apiKey}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await readJsonBody("kie", res) as { code?: number; msg?: string; message?: string; data?: any };
  const code = typeof json?.code === "number" ? json.code : res.status;
  if (code === 200 && res.ok) return json.data;
  const [catalog, retryable] = BODY_CODES[code] ?? (res.status >= 500 ? ["SERVICE_UNAVAILABLE", true] : ["INTERNAL_ERROR", false]);
  throw new ProviderError(catalog, `kie: ${code} ${json?.msg ?? json?.message ?? ""}`.trim(), retryable);
}

export async function createTask(cfg: KieConfig, task: { model: string; input: Record<string, unknown>; callBackUrl: string }) {
  const data = await call(cfg, "POST", "/api/v1/jobs/createTask", task);
  if (typeof data?.taskId !== "string") throw new ProviderError("INTERNAL_ERROR", "kie: no taskId in the response", true);
  return { taskId: data.taskId as string };
}

/** recordInfo `data` (or a callback's) as a task result; `resultJson` is a JSON string. */
export function parseRecord(data: any): TaskResult {
  const taskId = String(data?.taskId ?? data?.task_id ?? "");
  const state = data?.state === "success" ? "succeeded" : data?.state === "fail" ? "failed" : "pending";
  let videoUrl: string | undefined;
  if (state === "succeeded") {
    try {
      videoUrl = JSON.parse(data.resultJson ?? "{}")?.resultUrls?.[0];
    } catch {
      throw new ProviderError("INTERNAL_ERROR", "kie: resultJson is not JSON", true);
    }
  }
  const progress = { waiting: 5, queuing: 15, generating: 50 }[String(data?.state)] ?? 0;
  return { taskId, state, progress, reason: [data?.failCode, data?.failMsg].filter(Boolean).join(" "), videoUrl };
}

export async function recordInfo(cfg: KieConfig, taskId: string): Promise<TaskResult> {
  return parseRecord(await call(cfg, "GET", `/api/v1/jobs/recordInfo?taskId=${encodeURIComponent(taskId)}`));
}

/** Base64(HMAC-SHA256(key, taskId + "." + timestamp)), as kie signs callbacks. */
export async function callbackSignature(key: string, taskId: string, timestamp: string) {
  const k = await crypto.subtle.importKey("raw", new TextEncoder().encode(key), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return toBase64(new Uint8Array(await crypto.subtle.sign("HMAC", k, new TextEncoder().encode(`${taskId}.${timestamp}`))));
}
