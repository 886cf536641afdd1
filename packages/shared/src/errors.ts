// The one error catalog and envelope: {"error":{code,message,details,requestId,timestamp}}.

export const ERROR_STATUS = {
  INVALID_REQUEST: 400,
  UNAUTHORIZED: 401,
  QUOTA_EXCEEDED: 402,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONTENT_VIOLATION: 422,
  IDEMPOTENCY_KEY_REUSED: 422,
  RATE_LIMIT_EXCEEDED: 429,
  INTERNAL_ERROR: 500,
  SERVICE_UNAVAILABLE: 503,
  TASK_FAILED: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
    /** Seconds the client should wait before trying again, sent as the Retry-After header. */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
  get status() {
    return ERROR_STATUS[this.code];
  }
}

export function errorEnvelope(err: AppError, requestId: string) {
  return {
    error: {
      code: err.code,
      message: err.message,
      details: err.details ?? null,
      requestId,
      timestamp: new Date().toISOString(),
    },
  };
}

// SQLSTATEs raised by the database functions (see the migrations).
const SQLSTATE_CODES: Record<string, ErrorCode> = {
  RF400: "INVALID_REQUEST",
  RF401: "UNAUTHORIZED",
  RF402: "QUOTA_EXCEEDED",
  RF403: "FORBIDDEN",
  RF404: "NOT_FOUND",
  RF409: "INVALID_REQUEST",
  RF422: "IDEMPOTENCY_KEY_REUSED",
  RF429: "RATE_LIMIT_EXCEEDED", // its hint is the Retry-After in seconds
  "22P02": "INVALID_REQUEST", // invalid text representation (a bad uuid or enum)
};

/** A database error raised on purpose becomes its catalog error; a catalog error thrown inside
 * the transaction (a bad cursor, say) stays itself; anything else is internal. */
export function fromDatabaseError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  const e = err as { code?: string; message?: string; hint?: string };
  const code = e?.code ? SQLSTATE_CODES[e.code] : undefined;
  const retryAfter = e?.code === "RF429" && e.hint ? Number(e.hint) : undefined;
  if (code) return new AppError(code, e.code === "22P02" ? "A value has the wrong format" : e.message!, undefined, retryAfter);
  return new AppError("INTERNAL_ERROR", "Something went wrong on our side");
}
