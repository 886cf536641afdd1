// What every simulator shares: fault knobs, per-minute limits, files whose URLs expire,
// and counters that tests and the chaos run read.

export type Knobs = {
  latency_ms: Record<string, number>;
  error_429_rate: number;
  error_5xx_rate: number;
  fail_next_requests: number;
  limits_scale: number;
  webhook_drop_rate: number;
  webhook_duplicate_rate: number;
  webhook_delay_ms: number;
  webhook_retry_delay_ms: number;
  task_fail_rate: number;
  no_face: boolean;
  block_prompt: boolean;
  max_tokens: boolean;
  url_ttl_seconds: number;
  kie_url_ttl_seconds: number;
  kie_hmac_key: string | null;
  /** A hostile provider: every result URL handed out is this one. */
  result_url: string | null;
};

export const DEFAULT_KNOBS: Knobs = {
  latency_ms: { gemini: 300, seedream: 800, merge_face: 600, kling: 5000, kie: 5000 },
  error_429_rate: 0,
  error_5xx_rate: 0,
  fail_next_requests: 0,
  limits_scale: 1,
  webhook_drop_rate: 0,
  webhook_duplicate_rate: 0,
  webhook_delay_ms: 0,
  webhook_retry_delay_ms: 1000,
  task_fail_rate: 0,
  no_face: false,
  block_prompt: false,
  max_tokens: false,
  url_ttl_seconds: 3600,
  kie_url_ttl_seconds: 86400,
  kie_hmac_key: "sim-kie-hmac-key",
  result_url: null,
};

export const knobs: Knobs = structuredClone(DEFAULT_KNOBS);
export const stats: Record<string, number> = {};
/** Submissions per webhook token: a step submitted twice for one generation shows up here. */
export const submissionsByKey = new Map<string, number>();

export function count(name: string, by = 1) {
  stats[name] = (stats[name] ?? 0) + by;
}

export function setKnobs(patch: Partial<Knobs>) {
  Object.assign(knobs, patch.latency_ms ? { ...patch, latency_ms: { ...knobs.latency_ms, ...patch.latency_ms } } : patch);
}

export function resetSimulators() {
  Object.assign(knobs, structuredClone(DEFAULT_KNOBS));
  for (const k of Object.keys(stats)) delete stats[k];
  submissionsByKey.clear();
  windows.clear();
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
export const chance = (rate: number) => rate > 0 && Math.random() < rate;

const windows = new Map<string, number[]>();

/** Sliding one-minute window: true when this call is over the limit. */
export function overLimit(key: string, perMinute: number): boolean {
  const now = Date.now();
  const recent = (windows.get(key) ?? []).filter((t) => now - t < 60_000);
  if (recent.length >= perMinute * knobs.limits_scale) {
    windows.set(key, recent);
    return true;
  }
  recent.push(now);
  windows.set(key, recent);
  return false;
}

type StoredFile = { bytes: Uint8Array<ArrayBuffer>; type: string; expires: number };
const files = new Map<string, StoredFile>();

/** Serves bytes at an unguessable URL until the TTL runs out, like a presigned S3 URL. */
export function publishFile(origin: string, bytes: Uint8Array<ArrayBuffer>, type: string, ext: string, ttl = knobs.url_ttl_seconds) {
  if (knobs.result_url) return { url: knobs.result_url, ttl };
  const id = `${crypto.randomUUID()}.${ext}`;
  files.set(id, { bytes, type, expires: Date.now() + ttl * 1000 });
  return { url: `${origin}/files/${id}?X-Amz-Expires=${ttl}`, ttl };
}

export function serveFile(id: string): Response {
  const f = files.get(id);
  if (!f || f.expires < Date.now()) {
    files.delete(id);
    return new Response("<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>", {
      status: 403,
      headers: { "content-type": "application/xml" },
    });
  }
  return new Response(f.bytes, { headers: { "content-type": f.type } });
}

/** Delivers a webhook with retries on timeout or non-2xx (Novita: 5 s timeout, up to 5 retries). */
export async function deliverWebhook(url: string, body: unknown, opts: { timeoutMs: number; retries: number; headers?: Record<string, string> }) {
  if (chance(knobs.webhook_drop_rate)) {
    count("webhooks_dropped");
    return;
  }
  if (knobs.webhook_delay_ms) await sleep(Math.random() * knobs.webhook_delay_ms);
  const copies = chance(knobs.webhook_duplicate_rate) ? 2 : 1;
  for (let copy = 0; copy < copies; copy++) {
    for (let attempt = 0; attempt <= opts.retries; attempt++) {
      count("webhook_attempts");
      try {
        const res = await fetch(url, {
          method: "POST",
          headers: { "content-type": "application/json", ...opts.headers },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(opts.timeoutMs),
        });
        await res.body?.cancel();
        if (res.ok) {
          count("webhooks_delivered");
          break;
        }
      } catch {
        // timed out or refused: retry below
      }
      if (attempt === opts.retries) count("webhooks_given_up");
      else await sleep(knobs.webhook_retry_delay_ms * (attempt + 1));
    }
  }
}

/** Decides a random fault for this request, or null. */
export function injectedFault(): 429 | 500 | null {
  const fault = chance(knobs.error_429_rate) ? 429 : chance(knobs.error_5xx_rate) ? 500 : null;
  if (fault) {
    count(`injected_${fault}`);
    return fault;
  }
  if (knobs.fail_next_requests > 0) {
    knobs.fail_next_requests--;
    count("injected_500");
    return 500;
  }
  return null;
}
