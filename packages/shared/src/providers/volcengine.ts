// Volcengine Jimeng video 3.0: signed CVSync2AsyncSubmitTask / CVSync2AsyncGetResult, poll
// only (shared/providers/volcengine.md). Every answer is read by its body `code` first.
import type { ErrorCode } from "../errors.ts";
import {
  asPollError, type CallPurpose, lenientNumber, outcomeUnknown, ProviderError, providerFetch, readJsonBody, type TaskResult,
} from "./http.ts";

export type VolcengineConfig = { baseUrl: string; accessKey: string; secretKey: string };

const REGION = "cn-north-1";
const SERVICE = "cv";
const VERSION = "2022-08-31";
const OK = 10000;

// ---------------------------------------------------------------- signing (section 6)

const utf8 = (s: string) => new TextEncoder().encode(s);
const hex = (b: ArrayBuffer) => [...new Uint8Array(b)].map((x) => x.toString(16).padStart(2, "0")).join("");

async function sha256Hex(data: string): Promise<string> {
  return hex(await crypto.subtle.digest("SHA-256", utf8(data)));
}

async function hmac(key: Uint8Array<ArrayBuffer> | ArrayBuffer, data: string): Promise<ArrayBuffer> {
  const k = await crypto.subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return await crypto.subtle.sign("HMAC", k, utf8(data));
}

/** RFC 3986: only A-Z a-z 0-9 - _ . ~ stay as they are (encodeURIComponent also keeps !'()*). */
const rfc3986 = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** The headers of a signed request (Volcengine HMAC-SHA256, section 6.2). */
export async function signVolcengine(req: {
  method: string;
  host: string;
  path: string;
  query: Record<string, string>;
  contentType: string;
  body: string;
  accessKey: string;
  secretKey: string;
  xDate: string;
  region?: string;
  service?: string;
}): Promise<Record<string, string>> {
  const shortDate = req.xDate.slice(0, 8);
  const bodyHash = await sha256Hex(req.body);
  const query = Object.keys(req.query).sort().map((k) => `${rfc3986(k)}=${rfc3986(req.query[k])}`).join("&");
  const signed: Record<string, string> = { host: req.host, "x-date": req.xDate, "x-content-sha256": bodyHash };
  if (req.contentType) signed["content-type"] = req.contentType;
  const names = Object.keys(signed).sort();
  const canonHeaders = names.map((n) => `${n}:${signed[n].trim()}\n`).join("");
  const signedHeaders = names.join(";");
  const canonRequest = [req.method, req.path, query, canonHeaders, signedHeaders, bodyHash].join("\n");
  const scope = `${shortDate}/${req.region ?? REGION}/${req.service ?? SERVICE}/request`;
  const stringToSign = ["HMAC-SHA256", req.xDate, scope, await sha256Hex(canonRequest)].join("\n");
  let key = await hmac(utf8(req.secretKey), shortDate);
  for (const part of [req.region ?? REGION, req.service ?? SERVICE, "request"]) key = await hmac(key, part);
  const signature = hex(await hmac(key, stringToSign));
  return {
    Host: req.host,
    "X-Date": req.xDate,
    "X-Content-Sha256": bodyHash,
    ...(req.contentType ? { "Content-Type": req.contentType } : {}),
    Authorization: `HMAC-SHA256 Credential=${req.accessKey}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`,
  };
}

/** 2024-01-15T12:00:00.000Z → 20240115T120000Z */
const xDate = (d = new Date()) => d.toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");

// ---------------------------------------------------------------- errors (section 5)

// Business codes -> [catalog code, retryable]. The "Post ... Risk Not Pass" codes the table
// marks retryable refused one output: a new submit may pass, so they stay content refusals
// but retryable. 30403/30404/50400 are our account or request, not the user's.
const BUSINESS_CODES: Record<number, [ErrorCode, boolean]> = {
  50411: ["CONTENT_VIOLATION", false],
  50412: ["CONTENT_VIOLATION", false],
  50413: ["CONTENT_VIOLATION", false],
  50512: ["CONTENT_VIOLATION", false],
  50518: ["CONTENT_VIOLATION", false],
  50511: ["CONTENT_VIOLATION", true],
  50516: ["CONTENT_VIOLATION", true],
  50517: ["CONTENT_VIOLATION", true],
  50519: ["CONTENT_VIOLATION", true],
  50513: ["CONTENT_VIOLATION", false],
  50514: ["CONTENT_VIOLATION", false],
  50215: ["TASK_FAILED", false],
  50520: ["TASK_FAILED", false],
  50521: ["TASK_FAILED", false],
  50522: ["TASK_FAILED", false],
  50429: ["RATE_LIMIT_EXCEEDED", true],
  50430: ["RATE_LIMIT_EXCEEDED", true],
  50500: ["SERVICE_UNAVAILABLE", true],
  50501: ["SERVICE_UNAVAILABLE", true],
  50400: ["INTERNAL_ERROR", false],
  30403: ["INTERNAL_ERROR", false],
  30404: ["INTERNAL_ERROR", false],
};

/** Codes that say what became of a task (its input or output refused), not of this call. */
const TASK_OUTCOME_CODES = new Set([50411, 50412, 50413, 50512, 50513, 50514, 50518, 50511, 50516, 50517, 50519, 50520, 50521, 50522, 50215]);

function businessCode(code: number, message: string, status: number): [ErrorCode, boolean] {
  return BUSINESS_CODES[code] ??
    (/Risk Not Pass/i.test(message) ? ["CONTENT_VIOLATION", false] : status >= 500 ? ["SERVICE_UNAVAILABLE", true] : ["INTERNAL_ERROR", false]);
}

const businessText = (code: number, message: string) => `volcengine: ${code} ${message}`.trim();

/** The generic gateway shape (a bad signature, an unknown action): it names an error code, no business code. */
function gatewayError(status: number, error: { Code?: unknown; Message?: unknown }): ProviderError {
  const text = `volcengine: ${String(error.Code ?? `HTTP ${status}`)}${error.Message ? ` (${String(error.Message)})` : ""}`;
  if (status === 429) return new ProviderError("RATE_LIMIT_EXCEEDED", text, true);
  if (status >= 500) return new ProviderError("SERVICE_UNAVAILABLE", text, true);
  return new ProviderError("INTERNAL_ERROR", text, false);
}

type Envelope = { code?: unknown; message?: unknown; data?: any; ResponseMetadata?: { Error?: { Code?: unknown; Message?: unknown } } };

/** One signed call of an Action (Jimeng's and OmniHuman's share host, version and signing). */
export async function call(cfg: VolcengineConfig, action: string, body: Record<string, unknown>, purpose: CallPurpose): Promise<{ status: number; json: Envelope }> {
  const url = new URL(cfg.baseUrl);
  const path = url.pathname === "" ? "/" : url.pathname;
  const query = { Action: action, Version: VERSION };
  const text = JSON.stringify(body);
  const headers = await signVolcengine({
    method: "POST", host: url.host, path, query, contentType: "application/json", body: text,
    accessKey: cfg.accessKey, secretKey: cfg.secretKey, xDate: xDate(),
  });
  // fetch sets Host from the URL (the same url.host that was signed); some runtimes refuse it as a header.
  delete headers.Host;
  const res = await providerFetch("volcengine", `${url.origin}${path}?Action=${action}&Version=${VERSION}`, {
    method: "POST", headers, body: text, purpose,
    // The official SDK's socket timeout is 30 s.
    timeoutMs: 30_000,
  });
  if (purpose === "paid_submit" && res.status === 504) {
    await res.body?.cancel();
    throw outcomeUnknown("volcengine", "the submit hit a gateway timeout");
  }
  return { status: res.status, json: await readJsonBody("volcengine", res) as Envelope };
}

/** The error of an answer that is not code 10000, or null when it is a success. */
export function answerError(status: number, json: Envelope): ProviderError | null {
  const gateway = json?.ResponseMetadata?.Error;
  if (gateway && json.code === undefined) return gatewayError(status, gateway);
  const code = lenientNumber(json?.code);
  if (code === OK) return null;
  const message = String(json?.message ?? "");
  if (code === undefined) {
    return new ProviderError(status >= 500 ? "SERVICE_UNAVAILABLE" : "INTERNAL_ERROR", `volcengine: HTTP ${status} without a code`, status >= 500);
  }
  const [catalog, retryable] = businessCode(code, message, status);
  return new ProviderError(catalog, businessText(code, message), retryable);
}

// ---------------------------------------------------------------- submit and result

export type JimengMode = "t2v" | "i2v_first" | "i2v_first_tail";

/** The video 3.0 req_keys this adapter drives, with their mode and tier (section 2; note the
 * 1080P suffixes: `_1080p` for t2v, `_1080` for i2v). */
export const JIMENG_MODELS = {
  jimeng_t2v_v30: { mode: "t2v", hd: false },
  jimeng_t2v_v30_1080p: { mode: "t2v", hd: true },
  jimeng_i2v_first_v30: { mode: "i2v_first", hd: false },
  jimeng_i2v_first_v30_1080: { mode: "i2v_first", hd: true },
  jimeng_i2v_first_tail_v30: { mode: "i2v_first_tail", hd: false },
  jimeng_i2v_first_tail_v30_1080: { mode: "i2v_first_tail", hd: true },
} as const satisfies Record<string, { mode: JimengMode; hd: boolean }>;

export function jimengReqKey(mode: JimengMode, hd: boolean): string {
  return Object.entries(JIMENG_MODELS).find(([, m]) => m.mode === mode && m.hd === hd)![0];
}

const IMAGES_PER_MODE: Record<JimengMode, number> = { t2v: 0, i2v_first: 1, i2v_first_tail: 2 };

/** Submits a Jimeng task. The id returned is a reference "<req_key>:<task_id>", because
 * get-result needs the req_key too and the engine keeps one id per task. */
export async function submitJimeng(
  cfg: VolcengineConfig,
  req: { mode: JimengMode; hd: boolean; prompt: string; frames: 121 | 241; aspectRatio?: string; imagesBase64?: string[]; seed?: number },
): Promise<{ taskId: string }> {
  const images = req.imagesBase64 ?? [];
  if (images.length !== IMAGES_PER_MODE[req.mode]) {
    throw new ProviderError("INVALID_REQUEST", `Jimeng ${req.mode} takes ${IMAGES_PER_MODE[req.mode]} image(s), got ${images.length}`, false);
  }
  const reqKey = jimengReqKey(req.mode, req.hd);
  const { status, json } = await call(cfg, "CVSync2AsyncSubmitTask", {
    req_key: reqKey,
    prompt: req.prompt,
    seed: req.seed ?? -1,
    frames: req.frames,
    ...(req.mode === "t2v" && req.aspectRatio ? { aspect_ratio: req.aspectRatio } : {}),
    ...(images.length ? { binary_data_base64: images } : {}),
  }, "paid_submit");
  const err = answerError(status, json);
  if (err) throw err;
  const taskId = json.data?.task_id;
  // code 10000 means accepted: without an id the task may exist and be charged.
  if ((typeof taskId !== "string" && typeof taskId !== "number") || taskId === "") {
    throw outcomeUnknown("volcengine", "the submit answered code 10000 without a task_id");
  }
  return { taskId: `${reqKey}:${taskId}` };
}

/** Splits "<req_key>:<task_id>" (req_keys hold no colon). */
export function parseJimengRef(ref: string): { reqKey: string; taskId: string } {
  const at = ref.indexOf(":");
  if (at <= 0 || at === ref.length - 1) throw new ProviderError("INTERNAL_ERROR", `Not a Jimeng task reference: ${ref}`, false);
  return { reqKey: ref.slice(0, at), taskId: ref.slice(at + 1) };
}

const PROGRESS: Record<string, number> = { in_queue: 5, processing: 15, generating: 50 };

/** get-result `data` of a code-10000 answer as a task result. */
export function parseJimengResult(ref: string, data: any): TaskResult {
  const status = String(data?.status ?? "");
  if (status === "done") {
    const url = data?.video_url;
    return { taskId: ref, state: "succeeded", progress: 100, reason: "", ...(typeof url === "string" && url ? { videoUrl: url } : {}) };
  }
  if (status === "not_found") {
    return { taskId: ref, state: "failed", progress: 0, code: "TASK_FAILED", reason: "Volcengine does not know the task (not_found: never created, or purged after 12 h)" };
  }
  if (status === "expired") {
    return { taskId: ref, state: "failed", progress: 0, code: "TASK_FAILED", reason: "The Volcengine task expired (expired: it must be submitted again)" };
  }
  // in_queue, generating, processing (one page only), and any new status: still running.
  return { taskId: ref, state: "pending", progress: PROGRESS[status] ?? 0, reason: "" };
}

export async function getJimengResult(cfg: VolcengineConfig, ref: string): Promise<TaskResult> {
  const { reqKey, taskId } = parseJimengRef(ref);
  return taskResult(ref, await call(cfg, "CVSync2AsyncGetResult", { req_key: reqKey, task_id: taskId }, "poll"));
}

/** A get-result answer of a task (Jimeng's or OmniHuman's) as a task result. */
export function taskResult(ref: string, { status, json }: { status: number; json: Envelope }): TaskResult {
  const err = answerError(status, json);
  if (!err) return parseJimengResult(ref, json.data);
  // A refused input or output ends the task (`done` with a failure code, data null).
  const code = lenientNumber(json?.code);
  if (code !== undefined && TASK_OUTCOME_CODES.has(code)) {
    const again = err.retryable ? "; the provider marks it retryable, so a new submit may pass" : "";
    return { taskId: ref, state: "failed", progress: 0, code: err.code, reason: `${err.message}${again}` };
  }
  // Our key refused or the task not visible yet say nothing about the task.
  throw asPollError(err, status);
}
