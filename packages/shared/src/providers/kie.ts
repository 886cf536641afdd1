// kie.ai Market API: createTask, recordInfo and callback signatures (shared/providers/kie.md).
// Always read the body `code`: auth errors arrive inside HTTP 200.
import type { ErrorCode } from "../errors.ts";
import {
  asPollError, type CallPurpose, lenientNumber, looksLikeContentRefusal, outcomeUnknown, parseRetryAfter, ProviderError,
  providerFetch, readJsonBody, type TaskResult, toBase64,
} from "./http.ts";

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

/** The message of a kie body: the docs use both `msg` and `message`. */
const messageOf = (json: { msg?: unknown; message?: unknown } | null | undefined) => String(json?.msg ?? json?.message ?? "");

async function call(cfg: KieConfig, method: "GET" | "POST", path: string, body?: unknown, purpose: CallPurpose = "other") {
  const res = await providerFetch("kie", `${cfg.baseUrl}${path}`, {
    method,
    headers: { Authorization: `Bearer ${cfg.apiKey}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
    purpose,
  });
  if (purpose === "paid_submit" && res.status === 504) {
    await res.body?.cancel();
    throw outcomeUnknown("kie", "createTask hit a gateway timeout");
  }
  const json = await readJsonBody("kie", res) as { code?: unknown; msg?: string; message?: string; data?: any };
  const code = lenientNumber(json?.code) ?? res.status;
  if (code === 200 && res.ok) return json.data;
  const [catalog, retryable] = BODY_CODES[code] ?? (res.status >= 500 ? ["SERVICE_UNAVAILABLE", true] : ["INTERNAL_ERROR", false]);
  const err = new ProviderError(catalog, `kie: ${code} ${messageOf(json)}`.trim(), retryable, {
    retryAfterMs: retryable ? parseRetryAfter(res.headers.get("retry-after")) : undefined,
  });
  // Auth and not-found while polling say nothing about the task: HTTP status or body code.
  throw purpose === "poll" ? asPollError(err, code === 401 || code === 404 ? code : res.status) : err;
}

export async function createTask(cfg: KieConfig, task: { model: string; input: Record<string, unknown>; callBackUrl: string }) {
  const data = await call(cfg, "POST", "/api/v1/jobs/createTask", task, "paid_submit");
  const taskId = data?.taskId ?? data?.task_id;
  // code 200 means created: without an id the task may exist and be charged.
  if (typeof taskId !== "string" || !taskId) throw outcomeUnknown("kie", "createTask answered without a taskId");
  return { taskId: taskId as string };
}

const PROGRESS: Record<string, number> = { waiting: 5, queuing: 15, generating: 50 };

/** resultJson is a JSON string per the contract; an object is taken as is. */
function resultUrl(resultJson: unknown): string | undefined {
  let result = resultJson;
  if (typeof resultJson === "string") {
    try {
      result = JSON.parse(resultJson);
    } catch {
      throw new ProviderError("INTERNAL_ERROR", "kie: resultJson is not JSON", true);
    }
  }
  const url = (result as { resultUrls?: unknown[] } | null)?.resultUrls?.[0];
  return typeof url === "string" && url ? url : undefined;
}

/** Why a kie task failed, in the catalog. failCode 422 is a refused request; kie documents
 * no content-refusal code, so a failMsg that reads like one is taken as a content violation. */
function failureCode(failCode: string, failMsg: string): ErrorCode {
  if (looksLikeContentRefusal(failMsg)) return "CONTENT_VIOLATION";
  if (failCode === "422") return "INVALID_REQUEST";
  return "TASK_FAILED";
}

/** recordInfo `data` (or a callback's) as a task result. Reads taskId or task_id; unknown
 * states are pending; progress may be a number or a string. */
export function parseRecord(data: any, requestedTaskId?: string): TaskResult {
  const taskId = String(data?.taskId ?? data?.task_id ?? requestedTaskId ?? "");
  const state = data?.state === "success" ? "succeeded" : data?.state === "fail" ? "failed" : "pending";
  if (state === "failed") {
    const failCode = data?.failCode == null ? "" : String(data.failCode);
    const failMsg = data?.failMsg == null ? "" : String(data.failMsg);
    return { taskId, state, progress: 0, reason: [failCode, failMsg].filter(Boolean).join(" "), code: failureCode(failCode, failMsg) };
  }
  if (state === "succeeded") {
    const videoUrl = resultUrl(data?.resultJson);
    return { taskId, state, progress: 100, reason: "", ...(videoUrl ? { videoUrl } : {}) };
  }
  const progress = lenientNumber(data?.progress) ?? PROGRESS[String(data?.state)] ?? 0;
  return { taskId, state, progress: Math.max(0, Math.min(99, progress)), reason: "" };
}

export async function recordInfo(cfg: KieConfig, taskId: string): Promise<TaskResult> {
  return parseRecord(await call(cfg, "GET", `/api/v1/jobs/recordInfo?taskId=${encodeURIComponent(taskId)}`, undefined, "poll"), taskId);
}

/** Base64(HMAC-SHA256(key, taskId + "." + timestamp)), as kie signs callbacks. */
export async function callbackSignature(key: string, taskId: string, timestamp: string) {
  const k = await crypto.subtle.importKey("raw", new TextEncoder().encode(key), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return toBase64(new Uint8Array(await crypto.subtle.sign("HMAC", k, new TextEncoder().encode(`${taskId}.${timestamp}`))));
}
