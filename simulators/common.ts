// What every simulator shares: fault knobs, the providers' quirks as rates, scripted
// answers, sliding-window limits, files whose URLs expire, and counters that tests and the
// chaos run read.

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
  /** Endpoints (the scriptable names, e.g. "kling-i2v") in an outage: every answer is a 503. */
  down_endpoints: string[];
  /** The next N paid submissions (any provider) are accepted, then their answer is held for a
   * minute: the caller can die between the provider's "yes" and its own commit. */
  stall_next_submit_replies: number;
  /** A hostile provider: every result URL handed out is this one. */
  result_url: string | null;
  // ---- the movie pipeline's providers (latency_ms also has jimeng, tts and gemini_image) ----
  /** Words that make a prompt refused for its content: Jimeng answers 50413 at submit, the
   * Gemini image model blocks the prompt (promptFeedback.blockReason PROHIBITED_CONTENT). */
  blocked_words: string[];
  /** Jimeng submits (and, counted apart, get-results) per second before 50429, times
   * limits_scale. The real quota is unpublished ([UNCONFIRMED]); 10 is a guess. */
  jimeng_qps: number;
  /** Jimeng tasks running at once (submitted, not yet done) before 50430, times
   * limits_scale. Unpublished too; 5 is a guess. */
  jimeng_concurrency: number;
  /** A Jimeng business code (e.g. 50511 "Post Img Risk Not Pass") that every task submitted
   * while it is set ends with at get-result (`done` refused after generation); null: none. */
  jimeng_fail_code: number | null;
  /** OmniHuman's subject check: whether portraits show a person (resp_data status 1). */
  omnihuman_person: boolean;
  /** A business code (e.g. 50411, 50429, 50500) every OmniHuman submit answers; null: none. */
  omnihuman_fail_code: number | null;
  /** Seconds a Jimeng task is kept; get-result answers not_found after (12 h, as documented). */
  volc_task_ttl_seconds: number;
  /** Speech requests in flight before 3003 "quota exceeded for types: concurrency", times
   * limits_scale (per-account and unpublished: a guess). */
  tts_concurrency: number;
  /** Faults the next speech requests answer, one each, in order: "3005", "3031", "3032",
   * "3040" (transient), "grant" (HTTP 403 resource not granted), "access_denied" (the voice is
   * not ordered), "lifetime" (trial quota used up). */
  tts_faults: string[];
  /** Outcomes the next image-model requests answer, one each, in order (all HTTP 200 unless
   * said): "blocked" (no candidates, blockReason IMAGE_SAFETY), "IMAGE_SAFETY", "NO_IMAGE",
   * "text_only" (STOP with text only), "no_content" (a candidate without content),
   * "free_tier" (429 with limit: 0), "rate_limited" (429 with RetryInfo 7s). */
  image_faults: string[];
  quirks: Quirks;
};

/** How often each simulator produces what the real providers do now and then (0 to 1;
 * 0 by default so tests stay deterministic). `thinking_tokens` is a count, not a rate. */
export type Quirks = {
  /** Novita: a pending task reports TASK_STATUS_UNKNOWN (the SDK's fifth status). */
  task_status_unknown: number;
  /** Novita: video_url_ttl comes as "0", null or a number instead of "3600". */
  odd_ttl: number;
  /** Novita: eta and progress_percent come as strings. */
  string_numbers: number;
  /** Novita: another event type and an event without payload.task precede the result. */
  other_events: number;
  /** A failed task carries a contract reason code (Novita ILLEGAL_IMAGE_CONTENT, kie a content failMsg). */
  content_failures: number;
  /** Other spellings: kie `message` for `msg`, callbacks with `task_id`, resultJson as an object;
   * Novita task-result with `taskId`. */
  spellings: number;
  /** kie: callbacks without the HMAC headers (signing is per account). */
  unsigned_callbacks: number;
  /** 429 answers (Novita, kie) carry a Retry-After header (undocumented for both). */
  retry_after_header: number;
  /** Gemini: error bodies wrapped in a one-element array. */
  array_errors: number;
  /** Gemini: a candidate ends with SAFETY or RECITATION and no text. */
  content_finish: number;
  /** Gemini: tokens the model thinks before answering, unless thinkingConfig.thinkingBudget
   * caps them; they count against maxOutputTokens (MAX_TOKENS with empty text when over). */
  thinking_tokens: number;
};

export const DEFAULT_QUIRKS: Quirks = {
  task_status_unknown: 0, odd_ttl: 0, string_numbers: 0, other_events: 0, content_failures: 0, spellings: 0,
  unsigned_callbacks: 0, retry_after_header: 0, array_errors: 0, content_finish: 0, thinking_tokens: 0,
};

export const DEFAULT_KNOBS: Knobs = {
  latency_ms: { gemini: 300, seedream: 800, merge_face: 600, kling: 5000, kie: 5000, jimeng: 4000, tts: 300, gemini_image: 1000, omnihuman: 3000 },
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
  down_endpoints: [],
  stall_next_submit_replies: 0,
  quirks: DEFAULT_QUIRKS,
  result_url: null,
  blocked_words: ["forbidden"],
  jimeng_qps: 10,
  jimeng_concurrency: 5,
  jimeng_fail_code: null,
  omnihuman_person: true,
  omnihuman_fail_code: null,
  volc_task_ttl_seconds: 43_200,
  tts_concurrency: 10,
  tts_faults: [],
  image_faults: [],
};

export const knobs: Knobs = structuredClone(DEFAULT_KNOBS);
export const stats: Record<string, number> = {};
/** Submissions per webhook token: a step submitted twice for one generation shows up here. */
export const submissionsByKey = new Map<string, number>();

export function count(name: string, by = 1) {
  stats[name] = (stats[name] ?? 0) + by;
}

export function setKnobs(patch: Partial<Knobs>) {
  Object.assign(knobs, {
    ...patch,
    latency_ms: { ...knobs.latency_ms, ...patch.latency_ms },
    quirks: { ...knobs.quirks, ...patch.quirks },
  });
}

export const quirk = (name: keyof Quirks) => chance(knobs.quirks[name]);

const resetHooks: (() => void)[] = [];

/** State of one simulator that a reset forgets too (e.g. running tasks that hold a limit). */
export function onReset(hook: () => void) {
  resetHooks.push(hook);
}

export function resetSimulators() {
  for (const hook of resetHooks) hook();
  Object.assign(knobs, structuredClone(DEFAULT_KNOBS));
  for (const k of Object.keys(stats)) delete stats[k];
  submissionsByKey.clear();
  windows.clear();
  scripts.clear();
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A submission accepted just now: its answer is held when the stall knob says so. */
export async function submissionAccepted(counter: string) {
  count(counter);
  if (knobs.stall_next_submit_replies > 0) {
    knobs.stall_next_submit_replies--;
    count("stalled_submit_replies");
    await sleep(60_000);
  }
}
export const chance = (rate: number) => rate > 0 && Math.random() < rate;

const windows = new Map<string, number[]>();

/** True when `words` names a blocked word (knobs.blocked_words), case-insensitively. */
export function blockedWord(words: string): string | undefined {
  const lower = words.toLowerCase();
  return knobs.blocked_words.find((w) => w && lower.includes(w.toLowerCase()));
}

/** Takes the next entry of a fault queue knob, or undefined when it is empty. */
export function nextFault(queue: "tts_faults" | "image_faults"): string | undefined {
  const fault = knobs[queue].shift();
  if (fault) count(`injected_${fault}`);
  return fault;
}

/** Sliding window (one minute unless given): true when this call is over the limit, which
 * is the documented number times `limits_scale`. */
export function overLimit(key: string, limit: number, windowMs = 60_000): boolean {
  const now = Date.now();
  const recent = (windows.get(key) ?? []).filter((t) => now - t < windowMs);
  if (recent.length >= limit * knobs.limits_scale) {
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

/** Headers of a 429 answer: a Retry-After now and then (the contracts document none for
 * Novita and kie, so clients must work with and without it). */
export function rateLimitHeaders(): Record<string, string> {
  return quirk("retry_after_header") ? { "retry-after": "2" } : {};
}

// Scripted answers: POST /_sim/script {endpoint, responses: [{status, body, headers?}], count?}
// makes the next answers of that endpoint the given ones, in order (`count` repeats the list),
// so any payload a provider may send can be replayed. "{{task_id}}" in a body becomes the
// task id of the request. Checked after authentication, before faults and real work.
export const SCRIPTABLE_ENDPOINTS = [
  "generateContent", "seedream", "merge-face", "kling-i2v", "task-result", "createTask", "recordInfo", "jimeng-submit", "jimeng-result", "tts",
] as const;
export type ScriptableEndpoint = typeof SCRIPTABLE_ENDPOINTS[number];
type ScriptedAnswer = { status: number; body: unknown; headers?: Record<string, string> };
const scripts = new Map<string, ScriptedAnswer[]>();

export function setScript(req: { endpoint?: unknown; responses?: unknown; count?: unknown }): string | null {
  if (!SCRIPTABLE_ENDPOINTS.includes(req.endpoint as ScriptableEndpoint)) return `endpoint must be one of ${SCRIPTABLE_ENDPOINTS.join(", ")}`;
  const responses = req.responses as ScriptedAnswer[];
  if (!Array.isArray(responses) || responses.length === 0 || !responses.every((r) => Number.isInteger(r?.status))) {
    return "responses must be a non-empty array of {status, body, headers?}";
  }
  const count = req.count === undefined ? 1 : Number(req.count);
  if (!Number.isInteger(count) || count < 1) return "count must be a positive integer";
  scripts.set(req.endpoint as string, Array.from({ length: count }, () => responses).flat());
  return null;
}

function fill(value: unknown, vars: Record<string, string>): unknown {
  if (typeof value === "string") return value.replace(/\{\{(\w+)\}\}/g, (m, k) => vars[k] ?? m);
  if (Array.isArray(value)) return value.map((v) => fill(v, vars));
  if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fill(v, vars)]));
  return value;
}

/** The next scripted answer of `endpoint`, or null to answer normally. */
export function scripted(endpoint: ScriptableEndpoint, vars: Record<string, string> = {}): Response | null {
  const queue = scripts.get(endpoint);
  const next = queue?.shift();
  if (!next) return null;
  if (queue!.length === 0) scripts.delete(endpoint);
  count(`scripted_${endpoint}`);
  const body = fill(next.body, vars);
  const text = typeof body === "string" ? body : JSON.stringify(body ?? null);
  return new Response(next.status === 204 ? null : text, { status: next.status, headers: { "content-type": "application/json", ...next.headers } });
}
