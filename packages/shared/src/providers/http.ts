// What a provider call can go wrong with, in the product's error catalog.
import type { ErrorCode } from "../errors.ts";

/** How the engine should treat a provider error:
 * - `retry`: try the same call again later (429, 5xx, a network error before anything was sent);
 * - `final`: the request or the task is refused for good; fail the step;
 * - `poll_transient`: looking at a task failed in a way that says nothing about the task
 *   (our key refused during a rotation, the task not visible yet): keep polling until the
 *   deadline, never fail the task for it;
 * - `outcome_unknown`: a paid submit that may have reached the provider (timeout, reset,
 *   gateway timeout, or a 2xx without a task id). Never resubmit: that could pay twice. */
export type ProviderErrorKind = "retry" | "final" | "poll_transient" | "outcome_unknown";

export class ProviderError extends Error {
  readonly kind: ProviderErrorKind;
  readonly retryAfterMs?: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly retryable: boolean,
    opts: number | { retryAfterMs?: number; kind?: ProviderErrorKind } = {},
  ) {
    super(message);
    const o = typeof opts === "number" ? { retryAfterMs: opts } : opts;
    this.retryAfterMs = o.retryAfterMs;
    this.kind = o.kind ?? (retryable ? "retry" : "final");
  }
  /** false when the task may still be running at the provider: keep polling. */
  get failsTask(): boolean {
    return this.kind === "final" || this.kind === "outcome_unknown";
  }
  get outcomeUnknown(): boolean {
    return this.kind === "outcome_unknown";
  }
}

/** A provider task as the engine sees it, whichever provider runs it. `code` says, in the
 * catalog, why a failed task failed (a content refusal is not a provider fault). */
export type TaskResult = {
  taskId: string;
  state: "pending" | "succeeded" | "failed";
  progress: number;
  reason: string;
  code?: ErrorCode;
  videoUrl?: string;
};

// Words providers use in free-text failure reasons when their content filter refused the
// input or output. kie documents no content failCode, so its failMsg is read this way.
const CONTENT_WORDS = /\b(nsfw|sensitive|safety|moderation|prohibited|policy|policies|violat\w*|illegal|inappropriate|flagged)\b/i;

export function looksLikeContentRefusal(text: string): boolean {
  return CONTENT_WORDS.test(text);
}

/** Retry-After as milliseconds: delay-seconds or an HTTP-date (RFC 9110 10.2.3). */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const v = value.trim();
  if (/^\d+(\.\d+)?$/.test(v)) return Math.ceil(Number(v) * 1000);
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

/** A number the code does not rely on, sent as a number or a numeric string (or not at all). */
export function lenientNumber(v: unknown): number | undefined {
  const n = typeof v === "number" ? v : typeof v === "string" && v.trim() !== "" ? Number(v) : NaN;
  return Number.isFinite(n) ? n : undefined;
}

/** The status codes every provider treats as "try again later". */
export function providerHttpError(provider: string, status: number, reason: string, message: string, retryAfterMs?: number) {
  const text = `${provider}: ${reason}${message ? ` (${message})` : ""}`;
  if (status === 429) return new ProviderError("RATE_LIMIT_EXCEEDED", text, true, { retryAfterMs });
  if (status >= 500) return new ProviderError("SERVICE_UNAVAILABLE", text, true, { retryAfterMs });
  if (status === 401 || status === 403) return new ProviderError("INTERNAL_ERROR", `${provider} rejected our credentials`, false);
  return new ProviderError("INTERNAL_ERROR", text, false);
}

/** What a call is for: `paid_submit` creates a task that costs money, `poll` looks at one. */
export type CallPurpose = "paid_submit" | "poll" | "other";

/** An error met while looking at a task that does not say the task failed (401/403: our key,
 * 404: not visible yet or a hiccup) becomes poll_transient; others pass unchanged. */
export function asPollError(err: ProviderError, status: number): ProviderError {
  if (status === 401 || status === 403 || status === 404) {
    return new ProviderError(err.code, err.message, false, { kind: "poll_transient", retryAfterMs: err.retryAfterMs });
  }
  return err;
}

/** A paid submit whose request may have been received: failed clearly, never resubmitted. */
export function outcomeUnknown(provider: string, what: string): ProviderError {
  return new ProviderError(
    "SERVICE_UNAVAILABLE",
    `${provider}: ${what}; the task may or may not have been created, so it is not sent again (no double charge)`,
    false,
    { kind: "outcome_unknown" },
  );
}

// Errors raised before any byte of the request left: safe to retry even for paid submits.
const NOT_SENT = /ECONNREFUSED|ENOTFOUND|EAI_AGAIN|connection refused|failed to lookup address|dns error|Name or service not known|os error 111|bad port|are blocked/i;

function errorText(err: unknown): string {
  const e = err as { message?: string; code?: string; cause?: { message?: string; code?: string } };
  return [e?.message, e?.code, e?.cause?.message, e?.cause?.code].filter(Boolean).join(" ");
}

/** fetch, with network failures and timeouts as provider errors: retryable, except for a
 * paid submit where the request may have arrived (timeout, reset), which is outcome_unknown. */
export async function providerFetch(provider: string, url: string, init: RequestInit & { timeoutMs?: number; purpose?: CallPurpose }) {
  try {
    return await fetch(url, { ...init, signal: AbortSignal.timeout(init.timeoutMs ?? 60_000) });
  } catch (err) {
    const timedOut = err instanceof DOMException && err.name === "TimeoutError";
    const what = timedOut ? "timed out" : "could not be reached";
    if (init.purpose === "paid_submit" && (timedOut || !NOT_SENT.test(errorText(err)))) {
      throw outcomeUnknown(provider, timedOut ? "the submit timed out" : "the connection failed during the submit");
    }
    throw new ProviderError("SERVICE_UNAVAILABLE", `${provider} ${what}`, true);
  }
}

export async function readJsonBody(provider: string, res: Response): Promise<unknown> {
  const text = await res.text();
  try {
    return JSON.parse(text);
  } catch {
    if (res.status >= 500 || res.status === 429) {
      throw providerHttpError(provider, res.status, `HTTP ${res.status}`, "", parseRetryAfter(res.headers.get("retry-after")));
    }
    throw new ProviderError("INTERNAL_ERROR", `${provider} answered HTTP ${res.status} with a body that is not JSON`, res.status >= 500);
  }
}

export function toBase64(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

export function fromBase64(b64: string): Uint8Array<ArrayBuffer> {
  const s = atob(b64);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}
