// The per-user API rate limit (engine.take_api_request: a token bucket in Postgres, so every
// function instance shares it): 429 with the limit, when the bucket is full again, and
// Retry-After.
import { db } from "./db.ts";
import { AppError } from "./errors.ts";

export async function takeApiRequest(userId: string) {
  const [r] = await db()`
    select t.allowed, t.retry_after_seconds, t.reset_at, s.api_requests_per_minute, s.api_burst
    from engine.take_api_request(${userId}) t, engine.settings s`;
  if (r.allowed) return;
  throw new AppError(
    "RATE_LIMIT_EXCEEDED",
    `Too many requests: at most ${r.api_requests_per_minute} per minute (bursts of ${r.api_burst}); try again in ${r.retry_after_seconds} s`,
    { limit: r.api_requests_per_minute, burst: r.api_burst, reset: r.reset_at },
    r.retry_after_seconds,
  );
}
