// What a provider call can go wrong with, in the product's error catalog.
import type { ErrorCode } from "../errors.ts";
import { type MediaKind, readPublicMedia } from "../fetch-public.ts";

export class ProviderError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly retryable: boolean,
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

/** The status codes every provider treats as "try again later". */
export function providerHttpError(provider: string, status: number, reason: string, message: string, retryAfterMs?: number) {
  const text = `${provider}: ${reason}${message ? ` (${message})` : ""}`;
  if (status === 429) return new ProviderError("RATE_LIMIT_EXCEEDED", text, true, retryAfterMs);
  if (status >= 500) return new ProviderError("SERVICE_UNAVAILABLE", text, true, retryAfterMs);
  if (status === 401 || status === 403) return new ProviderError("INTERNAL_ERROR", `${provider} rejected our credentials`, false);
  return new ProviderError("INTERNAL_ERROR", text, false);
}

/** fetch, with network failures and timeouts as retryable provider errors. */
export async function providerFetch(provider: string, url: string, init: RequestInit & { timeoutMs?: number }) {
  try {
    return await fetch(url, { ...init, signal: AbortSignal.timeout(init.timeoutMs ?? 60_000) });
  } catch (err) {
    const what = err instanceof DOMException && err.name === "TimeoutError" ? "timed out" : "could not be reached";
    throw new ProviderError("SERVICE_UNAVAILABLE", `${provider} ${what}`, true);
  }
}

export async function readJsonBody(provider: string, res: Response): Promise<unknown> {
  const text = await res.text();
  try {
    return JSON.parse(text);
  } catch {
    if (res.status >= 500 || res.status === 429) throw providerHttpError(provider, res.status, `HTTP ${res.status}`, "");
    throw new ProviderError("INTERNAL_ERROR", `${provider} answered HTTP ${res.status} with a body that is not JSON`, res.status >= 500);
  }
}

/** Downloads a provider result whole (URLs expire, so this happens at once), checked like
 * every outside fetch (see fetch-public.ts); copyToStorage streams instead. */
export async function downloadBytes(provider: string, url: string, kind: MediaKind): Promise<{ bytes: Uint8Array<ArrayBuffer>; type: string }> {
  return await readPublicMedia(provider, url, kind);
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
