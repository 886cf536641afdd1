// The reelforge SDK: typed calls for the three pipelines on top of supabase-js, typed errors
// with the catalog code, requestId and Retry-After, and live progress from Realtime (the
// owner's private channel) with polling as the fallback. Browsers, Node and Deno.
import { createClient, type RealtimeChannel, type SupabaseClient, type SupabaseClientOptions } from "@supabase/supabase-js";

export { newWebhookSecret, signWebhook, verifyWebhook, WebhookVerificationError } from "./webhooks.ts";

/** Realtime's socket: the runtime's WebSocket (browsers, Deno, Node 22+), else the `ws`
 * package (Node 20), loaded only then; the name is a variable so that bundlers leave it out. */
const wsPackage = "ws";
const WebSocketTransport: unknown = globalThis.WebSocket ?? (await import(wsPackage)).default;

/** supabase-js with the Realtime transport this runtime needs (Node 20 has no WebSocket). */
export function createSupabaseClient(url: string, anonKey: string, options: SupabaseClientOptions<"public"> = {}): SupabaseClient {
  return createClient(url, anonKey, {
    ...options,
    auth: { persistSession: false, ...options.auth },
    realtime: { transport: WebSocketTransport as never, ...options.realtime },
  });
}

export const ERROR_CODES = [
  "INVALID_REQUEST", "UNAUTHORIZED", "QUOTA_EXCEEDED", "FORBIDDEN", "NOT_FOUND", "CONTENT_VIOLATION",
  "IDEMPOTENCY_KEY_REUSED", "RATE_LIMIT_EXCEEDED", "INTERNAL_ERROR", "SERVICE_UNAVAILABLE", "TASK_FAILED",
] as const;
export type ErrorCode = typeof ERROR_CODES[number];

/** An answer in the error envelope, or no answer at all (SERVICE_UNAVAILABLE, status 0). */
export class ReelforgeError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly status: number,
    readonly requestId: string | null = null,
    /** Seconds to wait before trying again, from Retry-After. */
    readonly retryAfter: number | null = null,
    readonly details: unknown = null,
  ) {
    super(message);
    this.name = "ReelforgeError";
  }
}

/** reserved: what the run holds now (0 once it ended). */
export type Credits = { reserved: number; charged: number; refunded: number };
/** The API's one vocabulary (movies add "merging", generation/status says "pending"). */
export type RunStatus = "queued" | "processing" | "completed" | "failed" | "canceled";
export type Pipeline = "cinematic" | "model_direct" | "movie";
export type Page<T> = { items: T[]; nextCursor: string | null };
export type LedgerEntry = {
  id: string; kind: "grant" | "reserve" | "capture" | "refund" | "release"; amount: number; generation_id: string | null;
  step: string | null; task_index: number | null; reason: string | null; created_at: string;
};
export type GalleryItem = { uuid: string; pipeline: Pipeline; completed_at: string; video_url: string; poster_url: string | null };
export type Generation = {
  id: string; pipeline: Pipeline; status: RunStatus; step: string | null; progress: number;
  queue_position: number | null; inputs: Record<string, unknown>; script: unknown; video_url: string | null;
  base_image_url: string | null; merged_image_url: string | null; error: { code: string; message: string } | null;
  credits: Credits; created_at: string; updated_at: string; completed_at: string | null;
  /** Progress as every channel shows it: a phase, its label, seconds left (estimated), and a
   * revision that orders views of the run. */
  phase?: string; phase_label?: string; eta_seconds?: number | null; progress_revision?: number;
};
export type CinematicInput = { idea: string; duration?: 5 | 10; aspect_ratio?: "9:16" | "16:9" | "1:1"; selfie_path?: string; visibility?: "public" | "private" };
export type ModelDirectInput = { prompt: string; model_id: string; [setting: string]: unknown };
export type MovieSegment = { id: string; status: string; progress: number; videoUrl: string | null; duration?: number | null; error: { code: string; message: string } | null };
export type MovieTaskState = {
  taskId: string; status: string; progress: number; currentPhase: string; segments: MovieSegment[];
  videoUrl: string | null; posterUrl?: string | null; duration: number | null; error: { code: string; message: string } | null;
  metrics?: Record<string, unknown>; phaseLabel?: string | null; estimatedTimeLeft?: number | null; progressRevision?: number | null;
};
/** What onProgress reports: the run's state, and per scene for movies. */
export type Progress = {
  id: string; status: string; progress: number; phase: string | null; segments?: Record<string, number>; message?: string;
  /** "realtime" when a broadcast told us of the change, "poll" when a read of our own found it. */
  source: "realtime" | "poll";
  /** The MovieFlow document's name for `progress`. */
  overall: number;
  /** The phase in words ("Animating the video"), and the seconds left (estimated; null while unknown). */
  phaseLabel?: string | null;
  etaSeconds?: number | null;
  /** Orders views of the run: a view older than one already reported is dropped, so progress
   * never moves backwards (a read answered before a broadcast arrives after it). */
  revision?: number | null;
};

type Listener = (event: string, payload: any) => void;
type SharedChannel = { topic: string; channel: RealtimeChannel; listeners: Set<Listener>; onJoin: Set<() => void>; joined: boolean };

const READ_SPACING_MS = 1000;
const ENDED = new Set(["completed", "failed", "canceled"]);

export type ClientOptions = {
  /** The project URL; read from the supabase client when not given. */
  url?: string;
  /** How often to read while Realtime is not joined (ms). */
  pollIntervalMs?: number;
  /** A read every so often even when joined, in case a broadcast was missed (ms). */
  safetyPollMs?: number;
  /** The user's access token, for a client that holds a token rather than a session. */
  accessToken?: () => Promise<string> | string;
  /** A server's API key (POST api-keys), sent as `Authorization: Bearer <key>` instead of a
   * user's session; progress is then read by polling (Realtime needs a user's session). */
  apiKey?: string;
};

export class ReelforgeClient {
  readonly url: string;
  private readonly pollIntervalMs: number;
  private readonly safetyPollMs: number;
  private readonly accessToken?: () => Promise<string> | string;
  private readonly apiKey?: string;
  private channel: SharedChannel | null = null;

  constructor(readonly supabase: SupabaseClient, options: ClientOptions = {}) {
    this.url = (options.url ?? (supabase as unknown as { supabaseUrl: string }).supabaseUrl).replace(/\/$/, "");
    this.pollIntervalMs = options.pollIntervalMs ?? 2000;
    this.safetyPollMs = options.safetyPollMs ?? 15_000;
    this.accessToken = options.accessToken;
    this.apiKey = options.apiKey;
  }

  /** The bearer token of every call: the API key, the accessToken option, or the session's. */
  private async bearer(): Promise<string> {
    return this.apiKey ?? (await this.session()).token;
  }

  /** The signed-in user's access token (from the accessToken option, or the session). */
  protected async session(): Promise<{ token: string; userId: string }> {
    if (this.accessToken) {
      const token = await this.accessToken();
      const claims = JSON.parse(atob(token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/")));
      return { token, userId: claims.sub };
    }
    const { data } = await this.supabase.auth.getSession();
    if (!data.session) throw new ReelforgeError("UNAUTHORIZED", "Sign in first", 401);
    return { token: data.session.access_token, userId: data.session.user.id };
  }

  /** One call to a function; an error answer throws a ReelforgeError. */
  async request<T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
    const token = await this.bearer();
    let res: Response;
    try {
      res = await fetch(`${this.url}/functions/v1/${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "content-type": "application/json" }), ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (err) {
      throw new ReelforgeError("SERVICE_UNAVAILABLE", `Could not reach the API: ${(err as Error).message}`, 0);
    }
    const text = await res.text();
    const json = text ? safeJson(text) : null;
    if (!res.ok) {
      const e = (json as { error?: { code?: string; message?: string; requestId?: string; details?: unknown } } | null)?.error;
      const code = ERROR_CODES.includes(e?.code as ErrorCode) ? e!.code as ErrorCode : res.status >= 500 ? "INTERNAL_ERROR" : "INVALID_REQUEST";
      const retry = res.headers.get("retry-after");
      throw new ReelforgeError(code, e?.message ?? `HTTP ${res.status}`, res.status, e?.requestId ?? null, retry ? Number(retry) : null, e?.details ?? null);
    }
    return json as T;
  }

  // -- cinematic (and any run by id) ------------------------------------------------------

  readonly generations = {
    create: async (input: CinematicInput, opts: { idempotencyKey?: string } = {}) =>
      (await this.request<{ generation: Generation }>("POST", "generations", input, idem(opts))).generation,
    quote: async (input: { duration?: 5 | 10; with_selfie?: boolean }) =>
      await this.request<{ estimated_credits: number; explain: string }>("POST", "quote", input),
    get: async (id: string) => (await this.request<{ generation: Generation }>("GET", `generations/${id}`)).generation,
    /** A page of the caller's runs of every pipeline, newest first; pass `cursor: page.nextCursor` for the next. */
    list: async (opts: { limit?: number; cursor?: string; status?: RunStatus[]; pipeline?: Pipeline[] } = {}): Promise<Page<Generation>> => {
      const r = await this.request<{ generations: Generation[]; next_cursor: string | null }>("GET", `generations${query(opts)}`);
      return { items: r.generations, nextCursor: r.next_cursor };
    },
    cancel: async (id: string) => (await this.request<{ generation: Generation }>("POST", `generations/${id}/cancel`)).generation,
    retry: async (id: string) => (await this.request<{ generation: Generation }>("POST", `generations/${id}/retry`)).generation,
  };

  // -- model-direct (kie.ai) ---------------------------------------------------------------

  readonly modelDirect = {
    create: async (input: ModelDirectInput, opts: { idempotencyKey?: string } = {}) =>
      (await this.request<{ data: { generation_uuid: string; status: string; credits_cost: number } }>("POST", "anime-video/create-task", input, idem(opts))).data,
    quote: async (input: ModelDirectInput) => await this.request<{ estimated_credits: number; explain: string }>("POST", "anime-video/quote", input),
    status: async (id: string) =>
      await this.request<{
        uuid: string; status: "pending" | "processing" | "completed" | "failed"; state: RunStatus; progress: number;
        results: { video_url: string; poster_url: string | null }[]; error_message: string | null; credits_used: number;
      }>("GET", `generation/status/${id}`),
  };

  // -- credits and the public gallery -----------------------------------------------------

  readonly credits = {
    /** The balance, what unfinished runs hold, and a page of the ledger (newest first). */
    get: async (opts: { limit?: number; cursor?: string; kind?: LedgerEntry["kind"] } = {}) => {
      const r = await this.request<{ balance: number; reserved: number; ledger: LedgerEntry[]; next_cursor: string | null }>("GET", `credits${query(opts)}`);
      return { balance: r.balance, reserved: r.reserved, ledger: { items: r.ledger, nextCursor: r.next_cursor } };
    },
  };

  readonly gallery = {
    list: async (opts: { limit?: number; cursor?: string; pipeline?: Pipeline } = {}): Promise<Page<GalleryItem>> => {
      const r = await this.request<{ data: GalleryItem[]; next_cursor: string | null }>("GET", `generation/gallery${query(opts)}`);
      return { items: r.data, nextCursor: r.next_cursor };
    },
  };

  // -- movies (MovieFlow) -----------------------------------------------------------------

  readonly movies = {
    generate: async (spec: Record<string, unknown>) => this.movieTask((await this.request<{ taskId: string }>("POST", "video/generate", spec)).taskId),
    quote: async (spec: Record<string, unknown>) => await this.request<{ estimatedCredits: number; explain: string }>("POST", "video/quote", spec),
    get: async (taskId: string) => await this.request<MovieTaskState>("GET", `task/${taskId}`),
    retry: async (taskId: string, segmentIds: string[] = [], reason?: string) =>
      await this.request<MovieTaskState>("POST", `task/${taskId}/retry`, { segmentIds, ...(reason ? { reason } : {}) }),
    cancel: async (taskId: string) => await this.request<MovieTaskState>("DELETE", `task/${taskId}`),
  };

  /** The MovieFlow document's generateVideo: a task to follow. Its top-level `platform`,
   * `resolution`, `quality`, `fps` and `aspectRatio` go into the spec's `config`. */
  async generateVideo(spec: MovieFlowSpec): Promise<MovieTask> {
    const { platform, resolution, quality, fps, aspectRatio, ...rest } = spec;
    const top = Object.entries({ platform, resolution, quality, fps, aspectRatio }).filter(([, v]) => v !== undefined);
    const config = { ...Object.fromEntries(top), ...(rest.config as Record<string, unknown> | undefined) };
    return await this.movies.generate({ ...rest, ...(Object.keys(config).length ? { config } : {}) });
  }

  movieTask(taskId: string): MovieTask {
    return new MovieTask(this, taskId);
  }

  // -- progress ---------------------------------------------------------------------------

  /** Calls `listener` on every change of run `id` until the returned function is called:
   * from Realtime while the channel is joined (and a read on every join, to catch up),
   * from reads every pollIntervalMs while it is not. */
  onProgress(id: string, listener: (p: Progress) => void): () => void {
    let stopped = false;
    let last = "";
    let newest = -1;
    let movieStatus = "queued";
    const report = (p: Omit<Progress, "overall">) => {
      if (typeof p.revision === "number") {
        if (p.revision < newest) return;
        newest = p.revision;
      }
      if (this.pipelines.get(id) === "movie") movieStatus = p.status;
      const key = `${p.status}|${p.progress}|${p.phase}|${JSON.stringify(p.segments ?? {})}`;
      if (!stopped && key !== last) {
        last = key;
        listener({ ...p, overall: p.progress });
        // An ended run changes no more: stop, so that nothing keeps the process alive.
        if (ENDED.has(p.status)) stop();
      }
    };
    // The pause between reads ends early when the listener stops.
    let wake = () => {};
    const pause = (ms: number) => new Promise<void>((r) => {
      const t = setTimeout(r, ms);
      wake = () => (clearTimeout(t), r());
    });
    // One read at a time, at most one more queued behind it (a burst of broadcasts costs two
    // reads), spaced by READ_SPACING_MS, and after Retry-After when rate-limited.
    let reading: Promise<void> | null = null;
    let queued: Progress["source"] | null = null;
    const read = (source: Progress["source"]): Promise<void> => {
      if (reading) {
        queued = queued === "realtime" ? queued : source;
        return reading;
      }
      reading = (async () => {
        let wait = READ_SPACING_MS;
        try {
          const p = await this.readProgress(id);
          if (!stopped) report({ ...p, source });
        } catch (err) {
          // a failed read is repeated by the next broadcast or poll
          if (err instanceof ReelforgeError && err.retryAfter) wait = err.retryAfter * 1000;
        }
        if (!stopped) await pause(wait);
        reading = null;
        const next = queued;
        queued = null;
        if (next && !stopped) void read(next);
      })();
      return reading;
    };
    const onMessage = (event: string, payload: any) => {
      const runId = payload?.generation_id ?? payload?.taskId;
      if (runId !== id) return;
      // A movie's broadcasts carry its state (status_change, then progress per scene): no read.
      if (this.pipelines.get(id) === "movie" && (event === "status_change" || event === "progress")) {
        if (event === "status_change") movieStatus = payload.newStatus;
        else {
          const d = payload.data;
          report({ id, status: movieStatus, progress: d.overall, phase: d.phase, segments: d.segments, message: d.message, phaseLabel: d.phaseLabel,
                   etaSeconds: d.etaSeconds, revision: d.revision, source: "realtime" });
        }
        return;
      }
      void read("realtime"); // the broadcast says something changed: the read says what, in one vocabulary
    };
    let timer: ReturnType<typeof setTimeout> | undefined;
    const tick = () => {
      if (stopped) return;
      void read("poll").finally(() => {
        if (!stopped) timer = setTimeout(tick, this.channel?.joined ? this.safetyPollMs : this.pollIntervalMs);
      });
    };
    const unsubscribe = this.subscribe(onMessage, () => void read("poll"));
    function stop() {
      if (stopped) return;
      stopped = true;
      clearTimeout(timer);
      wake();
      void unsubscribe();
    }
    tick();
    return stop;
  }

  /** Resolves with the run's last state once it ends (completed, failed or canceled). */
  async wait(id: string, opts: { onProgress?: (p: Progress) => void | Promise<void>; timeoutMs?: number; signal?: AbortSignal } = {}): Promise<Progress> {
    return await new Promise<Progress>((resolve, reject) => {
      const timeout = opts.timeoutMs ? setTimeout(() => done(new ReelforgeError("SERVICE_UNAVAILABLE", `still running after ${opts.timeoutMs} ms`, 0)), opts.timeoutMs) : undefined;
      // An error of the caller's listener (thrown or rejected) ends the wait with it.
      const stop = this.onProgress(id, (p) => {
        Promise.resolve().then(() => opts.onProgress?.(p)).then(() => ENDED.has(p.status) && done(null, p), (err) => done(err));
      });
      const onAbort = () => done(new ReelforgeError("INVALID_REQUEST", "wait was aborted", 0));
      opts.signal?.addEventListener("abort", onAbort);
      function done(err: Error | null, p?: Progress) {
        clearTimeout(timeout);
        stop();
        opts.signal?.removeEventListener("abort", onAbort);
        if (err) reject(err);
        else resolve(p!);
      }
    });
  }

  private readonly pipelines = new Map<string, string>();

  private async readProgress(id: string): Promise<Omit<Progress, "source" | "overall">> {
    if (!this.pipelines.has(id)) this.pipelines.set(id, (await this.generations.get(id)).pipeline);
    if (this.pipelines.get(id) === "movie") {
      const t = await this.movies.get(id);
      const segments = Object.fromEntries(t.segments.map((s) => [s.id, s.progress]));
      return { id, status: t.status, progress: t.progress, phase: t.currentPhase, segments, phaseLabel: t.phaseLabel, etaSeconds: t.estimatedTimeLeft, revision: t.progressRevision };
    }
    const g = await this.generations.get(id);
    return { id, status: g.status, progress: g.progress, phase: g.phase ?? g.step, phaseLabel: g.phase_label, etaSeconds: g.eta_seconds, revision: g.progress_revision };
  }

  /** One channel per client on the owner's private topic, shared by every listener. With an
   * API key there is no user session for Realtime: the polls carry on alone. */
  private subscribe(onMessage: Listener, onJoin: () => void): () => Promise<void> {
    if (this.apiKey) return async () => {};
    const joining = (async () => {
      const { token, userId } = await this.session();
      await this.supabase.realtime.setAuth(token);
      const topic = `generations:${userId}`;
      if (this.channel?.topic !== topic) {
        const entry: SharedChannel = { topic, channel: null as unknown as RealtimeChannel, listeners: new Set(), onJoin: new Set(), joined: false };
        entry.channel = this.supabase.channel(topic, { config: { private: true } })
          .on("broadcast", { event: "*" }, (m) => entry.listeners.forEach((l) => l(m.event, m.payload)));
        entry.channel.subscribe((status) => {
          entry.joined = status === "SUBSCRIBED";
          // Every (re)join reads, since broadcasts sent while away are not replayed.
          if (entry.joined) entry.onJoin.forEach((f) => f());
        });
        this.channel = entry;
      }
      this.channel.listeners.add(onMessage);
      this.channel.onJoin.add(onJoin);
      return this.channel;
    })().catch(() => null); // no session or no Realtime: the polls carry on alone
    return async () => {
      const entry = await joining;
      if (!entry) return;
      entry.listeners.delete(onMessage);
      entry.onJoin.delete(onJoin);
      if (entry.listeners.size === 0 && this.channel === entry) {
        this.channel = null;
        await this.supabase.removeChannel(entry.channel);
        // supabase-js closes an unused socket only after 50 s, which keeps a script alive.
        if (this.supabase.getChannels().length === 0) await closeRealtime(this.supabase.realtime);
      }
    };
  }
}

/** A movie spec (the JSON of POST video/generate, or a template with its variables), with
 * the MovieFlow document's top-level names. */
export type MovieFlowSpec = Record<string, unknown> & {
  projectName?: string; template?: string; variables?: Record<string, unknown>; scenes?: Record<string, unknown>[];
  platform?: "douyin" | "wechat" | "bilibili"; resolution?: string; quality?: "low" | "medium" | "high"; fps?: number; aspectRatio?: string;
};

export type MovieFlowOptions = ClientOptions & {
  /** The project URL (else MOVIEFLOW_URL or SUPABASE_URL from the environment). */
  url?: string;
  /** The project's anon key (else SUPABASE_ANON_KEY). */
  anonKey?: string;
  /** A user to sign in as on the first call (else MOVIEFLOW_EMAIL, MOVIEFLOW_PASSWORD). */
  email?: string;
  password?: string;
  /** An existing supabase-js client (signed in) instead of url and anonKey. */
  supabase?: SupabaseClient;
};

/** The MovieFlow document's client: `new MovieFlowClient({ apiKey })` (or `MOVIEFLOW_API_KEY`),
 * or a user's email and password; the URL and anon key from the options or the environment. */
export class MovieFlowClient extends ReelforgeClient {
  private readonly credentials: { email: string; password: string } | null;
  private signingIn: Promise<void> | null = null;

  constructor(options: MovieFlowOptions = {}) {
    const env: Record<string, string | undefined> = (globalThis as { process?: { env: Record<string, string> } }).process?.env ?? {};
    const url = options.url ?? env.MOVIEFLOW_URL ?? env.SUPABASE_URL;
    const anonKey = options.anonKey ?? env.MOVIEFLOW_ANON_KEY ?? env.SUPABASE_ANON_KEY;
    if (!options.supabase && !(url && anonKey)) {
      throw new ReelforgeError("UNAUTHORIZED", "Give url and anonKey (or set MOVIEFLOW_URL and SUPABASE_ANON_KEY)", 401);
    }
    const supabase = options.supabase ?? createSupabaseClient(url!, anonKey!);
    super(supabase, { ...options, url: url ?? options.url, apiKey: options.apiKey ?? env.MOVIEFLOW_API_KEY });
    const email = options.email ?? env.MOVIEFLOW_EMAIL;
    const password = options.password ?? env.MOVIEFLOW_PASSWORD;
    this.credentials = email && password ? { email, password } : null;
  }

  /** Signs in once, on the first call that needs the session. */
  protected override async session() {
    if (this.credentials && !(await this.supabase.auth.getSession()).data.session) {
      this.signingIn ??= this.supabase.auth.signInWithPassword(this.credentials).then(({ error }) => {
        this.signingIn = null;
        if (error) throw new ReelforgeError("UNAUTHORIZED", error.message, 401);
      });
      await this.signingIn;
    }
    return await super.session();
  }
}

/** A movie being made, as the seed's MovieFlowClient returns it. */
export class MovieTask {
  constructor(private readonly client: ReelforgeClient, readonly id: string) {}
  get() {
    return this.client.movies.get(this.id);
  }
  onProgress(listener: (p: Progress) => void) {
    return this.client.onProgress(this.id, listener);
  }
  /** The final task (with videoUrl) once it ends; a failed or canceled task throws TASK_FAILED. */
  async wait(opts: { onProgress?: (p: Progress) => void | Promise<void>; timeoutMs?: number; signal?: AbortSignal } = {}): Promise<MovieTaskState> {
    await this.client.wait(this.id, opts);
    const t = await this.get();
    if (t.status !== "completed") {
      throw new ReelforgeError("TASK_FAILED", t.error?.message ?? `the movie ${t.status}`, 500, null, null, { task: t });
    }
    return t;
  }
  retry(segmentIds: string[] = [], reason?: string) {
    return this.client.movies.retry(this.id, segmentIds, reason);
  }
  cancel() {
    return this.client.movies.cancel(this.id);
  }
}

/** Closes Realtime's socket now. realtime-js's disconnect() leaves a 10 s timer behind that
 * keeps Node and Deno running (supabase-js pull request 2666): where the socket underneath
 * is reachable, close it directly, as disconnect() does, without that timer. */
async function closeRealtime(realtime: SupabaseClient["realtime"]): Promise<void> {
  const inner = realtime as unknown as { socketAdapter?: { socket?: { disconnect(done: () => void): void } }; _cancelPendingDisconnect?: () => void };
  const socket = inner.socketAdapter?.socket;
  if (!socket || !inner._cancelPendingDisconnect) {
    await realtime.disconnect();
    return;
  }
  inner._cancelPendingDisconnect();
  await new Promise<void>((done) => socket.disconnect(done));
}

function idem(opts: { idempotencyKey?: string }): Record<string, string> {
  return opts.idempotencyKey ? { "idempotency-key": opts.idempotencyKey } : {};
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** `?a=1&b=x,y` from the options that are set (lists comma-separated). */
function query(opts: Record<string, string | number | string[] | undefined>): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(opts)) if (v !== undefined) params.set(k, Array.isArray(v) ? v.join(",") : String(v));
  const text = params.toString();
  return text ? `?${text}` : "";
}
