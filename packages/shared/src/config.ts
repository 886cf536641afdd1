// Configuration from the environment, with one schema that fails fast and says which
// variable is wrong. Provider keys are checked only where a pipeline uses them, so a
// deployment that runs one pipeline needs only that pipeline's keys.
import { z } from "zod";
import { AppError } from "./errors.ts";

const optional = z.string().min(1).optional().catch(undefined);

const schema = z.object({
  SUPABASE_URL: z.string().url(),
  SUPABASE_SERVICE_ROLE_KEY: z.string().min(20),
  SUPABASE_DB_URL: z.string().startsWith("postgres"),
  // The legacy JWT secret (HS256 tokens). Without it, the secret in SUPABASE_JWKS (an "oct"
  // key, as `supabase functions serve` passes it) is used; asymmetric keys need neither.
  JWT_SECRET: z.string().min(32).optional(),
  // The project's keys as a JWKS (JSON), as `supabase functions serve` sets it; otherwise they
  // are fetched from Auth's /auth/v1/.well-known/jwks.json.
  SUPABASE_JWKS: z.string().startsWith("{").optional(),
  // Connections per function instance: hosted projects run many instances against a small
  // pooler (transaction mode), so few each; the local stack runs every function in one process.
  DB_POOL_MAX: z.coerce.number().int().min(1).max(50).default(3),
  // Where providers reach us: callbacks (functions) and reference images (Storage). On a
  // hosted project both default to SUPABASE_URL, which is public; locally set them to a tunnel.
  PUBLIC_FUNCTIONS_URL: z.string().url().optional(),
  PUBLIC_STORAGE_URL: z.string().url().optional(),
  GEMINI_BASE_URL: z.string().url().default("https://generativelanguage.googleapis.com"),
  GEMINI_API_KEY: optional,
  GEMINI_MODEL: z.string().default("gemini-2.5-flash"),
  NOVITA_BASE_URL: z.string().url().default("https://api.novita.ai"),
  NOVITA_API_KEY: optional,
  // Novita async endpoints that get `extra.webhook` beyond the contract's table (comma-separated).
  NOVITA_WEBHOOK_ENDPOINTS: z.string().default(""),
  KIE_BASE_URL: z.string().url().default("https://api.kie.ai"),
  KIE_API_KEY: optional,
  KIE_WEBHOOK_HMAC_KEY: optional,
  // The movie pipeline: Jimeng video (signed with an access key pair), speech synthesis,
  // and the Gemini image model (GEMINI_API_KEY, GEMINI_BASE_URL).
  VOLC_BASE_URL: z.string().url().default("https://visual.volcengineapi.com"),
  VOLC_ACCESS_KEY: optional,
  VOLC_SECRET_KEY: optional,
  VOLC_TTS_BASE_URL: z.string().url().default("https://openspeech.bytedance.com"),
  VOLC_TTS_APPID: optional,
  VOLC_TTS_TOKEN: optional,
  VOLC_TTS_CLUSTER: z.string().min(1).default("volcano_tts"),
  GEMINI_IMAGE_MODEL: z.string().min(1).default("gemini-2.5-flash-image"),
  // "1" only on the local stack: provider results may then come over http from the
  // configured provider base URLs (the simulators on loopback).
  REELFORGE_LOCAL_SIMULATORS: z.enum(["0", "1"]).default("0"),
  // The API reference page's viewer (Scalar); the local stack serves its own copy.
  SCALAR_SCRIPT_URL: z.string().url().default("https://cdn.jsdelivr.net/npm/@scalar/api-reference@1.76.4/dist/browser/standalone.js"),
});

export type Config = z.infer<typeof schema> & { PUBLIC_FUNCTIONS_URL: string; PUBLIC_STORAGE_URL: string };

function readEnv(name: string): string | undefined {
  const g = globalThis as { Deno?: { env: { get(k: string): string | undefined } }; process?: { env: Record<string, string | undefined> } };
  return g.Deno ? g.Deno.env.get(name) : g.process?.env[name];
}

let cached: Config | undefined;

export function config(): Config {
  if (cached) return cached;
  const raw = Object.fromEntries(Object.keys(schema.shape).map((k) => [k, readEnv(k)]));
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`configuration: ${issue.path.join(".")} ${issue.message}`);
  }
  const c = parsed.data;
  // `supabase functions serve` runs functions in Docker with SUPABASE_URL=http://kong:8000, an
  // address only other containers reach: URLs given out point at the API port on the host.
  const publicBase = new URL(c.SUPABASE_URL).host === "kong:8000" ? "http://127.0.0.1:54321" : c.SUPABASE_URL;
  return (cached = {
    ...c,
    PUBLIC_FUNCTIONS_URL: (c.PUBLIC_FUNCTIONS_URL ?? `${publicBase}/functions/v1`).replace(/\/$/, ""),
    PUBLIC_STORAGE_URL: (c.PUBLIC_STORAGE_URL ?? `${publicBase}/storage/v1`).replace(/\/$/, ""),
  });
}

type KeyName =
  | "GEMINI_API_KEY"
  | "NOVITA_API_KEY"
  | "KIE_API_KEY"
  | "VOLC_ACCESS_KEY"
  | "VOLC_SECRET_KEY"
  | "VOLC_TTS_APPID"
  | "VOLC_TTS_TOKEN";

/** A provider key the running pipeline needs; its absence fails that pipeline, naming it. */
export function requiredKey(name: KeyName): string {
  const value = config()[name];
  if (!value) throw new AppError("SERVICE_UNAVAILABLE", `configuration: ${name} is not set, so this provider cannot be used`);
  return value;
}
