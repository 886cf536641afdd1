// Configuration from the environment, with one schema that fails fast and says which
// variable is wrong.
import { z } from "zod";

const schema = z.object({
  SUPABASE_URL: z.string().url(),
  SUPABASE_SERVICE_ROLE_KEY: z.string().min(20),
  SUPABASE_DB_URL: z.string().startsWith("postgres"),
  JWT_SECRET: z.string().min(32),
  PUBLIC_FUNCTIONS_URL: z.string().url(),
  GEMINI_BASE_URL: z.string().url().default("https://generativelanguage.googleapis.com"),
  GEMINI_API_KEY: z.string().min(1),
  GEMINI_MODEL: z.string().default("gemini-2.5-flash"),
  NOVITA_BASE_URL: z.string().url().default("https://api.novita.ai"),
  NOVITA_API_KEY: z.string().min(1),
  KIE_BASE_URL: z.string().url().default("https://api.kie.ai"),
  KIE_API_KEY: z.string().min(1),
  KIE_WEBHOOK_HMAC_KEY: z.string().optional(),
  // "1" only on the local stack: provider results may then come over http from the
  // configured provider base URLs (the simulators on loopback).
  REELFORGE_LOCAL_SIMULATORS: z.enum(["0", "1"]).default("0"),
});

export type Config = z.infer<typeof schema>;

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
  return (cached = parsed.data);
}
