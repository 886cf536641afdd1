// Hono glue shared by every function: the error envelope, caller checks, body parsing.
import type { Context, MiddlewareHandler } from "hono";
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { cors } from "hono/cors";
import { z } from "zod";
import { config } from "./config.ts";
import { apiKeyClaims, isApiKey } from "./api-keys.ts";
import { AppError, errorEnvelope } from "./errors.ts";
import type { JWK } from "jose";
import { accessTokenClaims, constantTimeEqual, type JwtClaims, type JwtKeys } from "./jwt.ts";
import { logError } from "./log.ts";
import { takeApiRequest } from "./rate-limit.ts";

export type Env = { Variables: { claims: JwtClaims } };

const MAX_BODY_BYTES = 64 * 1024;

/** Browsers call every function from any origin with a bearer token (no cookies), as
 * supabase-js sends it; the headers a client reads are exposed. */
const corsPolicy = cors({
  origin: "*",
  allowMethods: ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
  allowHeaders: ["authorization", "x-client-info", "apikey", "content-type", "idempotency-key", "if-none-match"],
  exposeHeaders: ["Retry-After", "ETag"],
  maxAge: 86400,
});

/** A Hono app mounted at /<function name>, answering every failure with the envelope.
 * `streamedPaths` read their bodies as they stream and bound them themselves (the body limit
 * below holds a body of unknown length whole while it counts it). */
export function functionApp(name: string, maxBodyBytes = MAX_BODY_BYTES, streamedPaths: string[] = []) {
  const app = new Hono<Env>().basePath(`/${name}`);
  app.onError((err, c) => {
    const appErr = err instanceof AppError ? err : new AppError("INTERNAL_ERROR", "Something went wrong on our side");
    if (!(err instanceof AppError)) logError(name, err);
    if (appErr.retryAfterSeconds !== undefined) c.header("Retry-After", String(appErr.retryAfterSeconds));
    return c.json(errorEnvelope(appErr, crypto.randomUUID()), appErr.status);
  });
  app.notFound(() => {
    throw new AppError("NOT_FOUND", "No such endpoint");
  });
  app.use(corsPolicy);
  // Counted while the body streams in (Content-Length first): a huge body is refused after
  // 64 KB (or the app's own limit), never buffered.
  const limit = bodyLimit({
    maxSize: maxBodyBytes,
    onError: () => {
      throw new AppError("INVALID_REQUEST", `The request body is larger than ${Math.round(maxBodyBytes / 1024)} KB`);
    },
  });
  app.use(async (c, next) => (streamedPaths.includes(c.req.path) ? await next() : await limit(c, next)));
  return app;
}

function bearer(c: Context): string {
  const header = c.req.header("authorization") ?? "";
  if (!header.startsWith("Bearer ")) throw new AppError("UNAUTHORIZED", "Sign in to do this");
  return header.slice(7);
}

/** Internal endpoints: only the service secret (what pg_net sends). */
export const requireServiceRole: MiddlewareHandler<Env> = async (c, next) => {
  if (!constantTimeEqual(bearer(c), config().SUPABASE_SERVICE_ROLE_KEY)) {
    throw new AppError("FORBIDDEN", "This endpoint is internal");
  }
  await next();
};

let tokenKeys: JwtKeys | undefined;

/** Users' access tokens are signed with the legacy secret or with a key Auth publishes: the
 * keys in SUPABASE_JWKS when set (its "oct" key is the secret), else fetched from Auth. */
export function userTokenKeys(): JwtKeys {
  if (tokenKeys) return tokenKeys;
  const { JWT_SECRET, SUPABASE_JWKS, SUPABASE_URL } = config();
  const jwks = SUPABASE_JWKS ? (JSON.parse(SUPABASE_JWKS) as { keys: JWK[] }) : undefined;
  const oct = jwks?.keys.find((k) => k.kty === "oct")?.k;
  const secret = JWT_SECRET ?? (oct ? new TextDecoder().decode(Uint8Array.from(atob(oct.replace(/-/g, "+").replace(/_/g, "/")), (ch) => ch.charCodeAt(0))) : undefined);
  return (tokenKeys = {
    secret,
    ...(jwks ? { jwks: { keys: jwks.keys.filter((k) => k.kty !== "oct") } } : { jwksUrl: `${SUPABASE_URL}/auth/v1/.well-known/jwks.json` }),
  });
}

/** User endpoints: a valid, unexpired user session, or one of the user's API keys (acting as
 * them: their rate limit, their credits). Public functions run with verify_jwt = false, since
 * the gateway would refuse a key: this is their whole authentication. */
export const requireUser: MiddlewareHandler<Env> = async (c, next) => {
  const token = bearer(c);
  const claims = isApiKey(token) ? await apiKeyClaims(token) : await accessTokenClaims(token, userTokenKeys());
  if (!claims) throw new AppError("UNAUTHORIZED", "Your session is invalid or has expired");
  if (claims.role !== "authenticated" || typeof claims.sub !== "string") {
    throw new AppError("UNAUTHORIZED", "Sign in as a user to do this");
  }
  c.set("claims", claims);
  await takeApiRequest(claims.sub);
  await next();
};

/** Endpoints a key must not reach (managing keys): a signed-in session only. */
export const requireSession: MiddlewareHandler<Env> = async (c, next) => {
  if (isApiKey(bearer(c))) throw new AppError("FORBIDDEN", "API keys are managed by a signed-in user, not with an API key");
  await requireUser(c, next);
};

/** The path of the first string (or key) that Postgres text cannot hold: a NUL, or a lone
 * UTF-16 surrogate (from a `\ud800` escape), or null when all text is valid. */
function invalidTextAt(value: unknown, path: string): string | null {
  const bad = (s: string) => s.includes("\u0000") || !s.isWellFormed();
  if (typeof value === "string") return bad(value) ? path : null;
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) {
      const at = invalidTextAt(v, `${path}.${i}`);
      if (at) return at;
    }
  } else if (value && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) {
      if (bad(k)) return `${path}.${k.replace(/[^\x20-\x7e]/g, "?")}`;
      const at = invalidTextAt(v, `${path}.${k}`);
      if (at) return at;
    }
  }
  return null;
}

/** The JSON body, validated; any problem is INVALID_REQUEST with the zod issues as details. */
export async function parseBody<T extends z.ZodType>(c: Context, schema: T): Promise<z.infer<T>> {
  const text = await c.req.text();
  let json: unknown;
  try {
    json = text === "" ? {} : JSON.parse(text);
  } catch {
    throw new AppError("INVALID_REQUEST", "The request body is not valid JSON");
  }
  return validate(schema, json);
}

/** A value validated by a schema, as parseBody does with a body. */
export function validate<T extends z.ZodType>(schema: T, json: unknown): z.infer<T> {
  const invalid = invalidTextAt(json, "body");
  if (invalid) {
    throw new AppError("INVALID_REQUEST", `${invalid.replace(/^body\.?/, "") || "body"}: text must not contain NUL characters or unpaired surrogates`);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new AppError(
      "INVALID_REQUEST",
      `${first.path.join(".") || "body"}: ${first.message}`,
      parsed.error.issues.map((i) => ({ path: i.path.join("."), message: i.message })),
    );
  }
  return parsed.data;
}

const uuidParam = z.string().uuid();

/** Lists come a page at a time: `limit` (1 to 100) and the `cursor` the last page returned. */
export const pageQuery = {
  limit: z.coerce.number().int().min(1, "must be from 1 to 100").max(100, "must be from 1 to 100").default(20),
  cursor: z.string().max(64).optional(),
};

/** A comma-separated filter such as `status=completed,failed`, each value one of `values`. */
export function csvOf<const T extends readonly [string, ...string[]]>(values: T) {
  return z.string().meta({ description: `one or more of ${values.join(", ")}, comma-separated` }).transform((s) => s.split(",")).pipe(z.array(z.enum(values, { error: `must be one or more of ${values.join(", ")}` })));
}

/** The row a cursor continues after (cursors are opaque: the base64url of its id), or null. */
export function cursorId<T extends z.ZodType<string>>(cursor: string | undefined, id: T = uuidParam as unknown as T): z.infer<T> | null {
  if (cursor === undefined) return null;
  let text = "";
  try {
    text = atob(cursor.replace(/-/g, "+").replace(/_/g, "/"));
  } catch {
    // not base64: refused below
  }
  const parsed = id.safeParse(text);
  if (!parsed.success) throw new AppError("INVALID_REQUEST", "cursor: not a cursor this list returned");
  return parsed.data;
}

/** The cursor of the next page when a query of limit + 1 rows found more, else null. */
export function nextCursor(rows: readonly { id?: unknown }[], limit: number): string | null {
  if (rows.length <= limit) return null;
  return btoa(String(rows[limit - 1].id)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** A path id: anything that is not a uuid is "not found", as a missing row would be. */
export function parseId(value: string | undefined, what = "Generation"): string {
  const id = uuidParam.safeParse(value);
  if (!id.success) throw new AppError("NOT_FOUND", `${what} not found`);
  return id.data;
}

/** The Idempotency-Key header (Stripe's rules: up to 255 characters), or null. */
export function idempotencyKey(c: Context): string | null {
  const key = c.req.header("idempotency-key") ?? null;
  if (key !== null && (key.length < 1 || key.length > 255)) {
    throw new AppError("INVALID_REQUEST", "Idempotency-Key must be 1 to 255 characters");
  }
  return key;
}

/** Signed URLs in answers live an hour and are reused for its first quarter (storage.ts): an
 * ETag holds for 15 minutes, so an answer a client revalidates (304) always has URLs valid
 * for another half hour at least. */
const ETAG_WINDOW_MS = 15 * 60 * 1000;

/** A GET answer with an ETag made from what it depends on (`version`), 304 when the client
 * already has it; `final` answers (a task that ended) may be reused for 5 minutes unasked. */
export async function conditionalJson(c: Context, version: unknown, final: boolean, build: () => Promise<unknown>) {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(JSON.stringify([version, Math.floor(Date.now() / ETAG_WINDOW_MS)])));
  const etag = `W/"${[...new Uint8Array(digest).slice(0, 16)].map((b) => b.toString(16).padStart(2, "0")).join("")}"`;
  c.header("ETag", etag);
  c.header("Cache-Control", final ? "private, max-age=300" : "private, no-cache");
  const known = (c.req.header("if-none-match") ?? "").split(",").map((t) => t.trim());
  if (known.includes(etag) || known.includes("*")) return c.body(null, 304);
  return c.json(await build());
}
