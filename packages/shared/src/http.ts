// Hono glue shared by every function: the error envelope, caller checks, body parsing.
import type { Context, MiddlewareHandler } from "hono";
import { Hono } from "hono";
import { z } from "zod";
import { config } from "./config.ts";
import { AppError, errorEnvelope } from "./errors.ts";
import { constantTimeEqual, type JwtClaims, verifyJwt } from "./jwt.ts";
import { logError } from "./log.ts";
import { takeApiRequest } from "./rate-limit.ts";

export type Env = { Variables: { claims: JwtClaims } };

/** A Hono app mounted at /<function name>, answering every failure with the envelope. */
export function functionApp(name: string) {
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

/** User endpoints: a valid, unexpired user session. */
export const requireUser: MiddlewareHandler<Env> = async (c, next) => {
  const claims = await verifyJwt(bearer(c), config().JWT_SECRET);
  if (!claims) throw new AppError("UNAUTHORIZED", "Your session is invalid or has expired");
  if (claims.role !== "authenticated" || typeof claims.sub !== "string") {
    throw new AppError("UNAUTHORIZED", "Sign in as a user to do this");
  }
  c.set("claims", claims);
  await takeApiRequest(claims.sub);
  await next();
};

const MAX_BODY_BYTES = 64 * 1024;

/** The JSON body, validated; any problem is INVALID_REQUEST with the zod issues as details. */
export async function parseBody<T extends z.ZodType>(c: Context, schema: T): Promise<z.infer<T>> {
  const text = await c.req.text();
  if (text.length > MAX_BODY_BYTES) throw new AppError("INVALID_REQUEST", "The request body is too large");
  let json: unknown;
  try {
    json = text === "" ? {} : JSON.parse(text);
  } catch {
    throw new AppError("INVALID_REQUEST", "The request body is not valid JSON");
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

export function parseId(value: string | undefined): string {
  const id = uuidParam.safeParse(value);
  if (!id.success) throw new AppError("NOT_FOUND", "Generation not found");
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
