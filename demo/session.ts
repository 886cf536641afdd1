// What every demo does first: start the local stack if needed, sign in the demo user.
import { createClient } from "@supabase/supabase-js";
import { ROOT, stackEnv } from "../stack/env.ts";

/** Ends the demo with the error code, as the API names it. */
export function fail(code: string, message: string): never {
  console.error(`\nerror ${code}: ${message}`);
  Deno.exit(1);
}

export async function demoSession() {
  const start = new Deno.Command(Deno.execPath(), { args: ["run", "-A", "--quiet", `${ROOT}/stack/cli.ts`, "start"], stdout: "null", stderr: "piped" });
  const started = await start.output();
  if (!started.success) fail("SERVICE_UNAVAILABLE", `the local stack did not start:\n${new TextDecoder().decode(started.stderr)}`);
  const env = await stackEnv();
  const supabase = createClient(env.API_URL, env.ANON_KEY, { auth: { persistSession: false } });
  const { data, error } = await supabase.auth.signInWithPassword({
    email: Deno.env.get("DEMO_EMAIL") ?? "demo@reelforge.local",
    password: Deno.env.get("DEMO_PASSWORD") ?? "demo-password",
  });
  if (error || !data.user || !data.session) fail("UNAUTHORIZED", error?.message ?? "sign-in failed");
  return { env, supabase, userId: data.user.id, accessToken: data.session.access_token };
}
