// Test helpers against the running local stack: users, HTTP calls, simulator knobs, waiting.
import { createClient } from "@supabase/supabase-js";
import { readFileSync, writeFileSync } from "node:fs";
import { execFileSync, spawn } from "node:child_process";
import postgres from "postgres";
import ws from "ws";
import { confirmByMail, resetSimulators, setNetDropRate as setStackNetDropRate } from "../stack/control.ts";

export const ROOT = new URL("..", import.meta.url).pathname;
export const env: Record<string, string> = Object.fromEntries(
  readFileSync(`${ROOT}.stack/env`, "utf8").trim().split("\n").map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
);
export const FUNCTIONS = `${env.API_URL}/functions/v1`;
export const sql = postgres(env.DB_URL, { max: 5, onnotice: () => {} });
/** Test users make far more requests than the hosted 60/min, and start with the credits each
 * test grants them, not the welcome grant (see tests/global-setup.ts). */
await sql`update engine.settings set api_requests_per_minute = 1000000, api_burst = 1000000, welcome_credits = 0`;

/** supabase-js as an app would create it (Node 20 has no built-in WebSocket: pass ws). */
export function supabaseClient(token?: string) {
  return createClient(env.API_URL, env.ANON_KEY, {
    auth: { persistSession: false },
    realtime: { transport: ws as never },
    ...(token ? { global: { headers: { Authorization: `Bearer ${token}` } } } : {}),
  });
}

export { confirmByMail };

export type TestUser = { id: string; token: string; email: string };

/** A user signed up with supabase-js and confirmed through the mail catcher (sign-up gives
 * no session until then), holding `credits`. */
export async function newUser(credits = 10_000): Promise<TestUser> {
  const email = `u-${crypto.randomUUID()}@test.local`;
  const { data, error } = await supabaseClient().auth.signUp({ email, password: "correct-horse" });
  if (error || !data.user) throw error ?? new Error("no user");
  const session = await confirmByMail(env.MAILPIT_URL, email);
  if (credits > 0) await sql`select public.grant_credits(${data.user.id}, ${credits})`;
  return { id: data.user.id, token: session.access_token, email };
}

export async function call(token: string | null, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${FUNCTIONS}/${path}`, {
    method,
    headers: { ...(token ? { Authorization: `Bearer ${token}` } : {}), ...(body === undefined ? {} : { "content-type": "application/json" }), ...headers },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json: any = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, body: json };
}

export async function simKnobs(patch: Record<string, unknown>) {
  const res = await fetch(`${env.NOVITA_SIM_URL}/_sim/knobs`, { method: "POST", body: JSON.stringify(patch) });
  if (!res.ok) throw new Error(`knobs: ${res.status}`);
  await res.body?.cancel();
}

/** Fast simulators with generous limits; tests that need slowness or faults set them. */
export async function resetSims(patch: Record<string, unknown> = {}) {
  await resetSimulators(env.NOVITA_SIM_URL, {
    latency_ms: { gemini: 0, seedream: 0, merge_face: 0, kling: 300, kie: 300 }, limits_scale: 1000, webhook_retry_delay_ms: 200, ...patch,
  });
  // The engine's view of the providers starts afresh with them: an earlier test's burst (run
  // with capacity_scale raised) must not leave a full window that holds this test's tasks back
  // for up to a minute (the SDK test timed out after the engine test this way).
  await sql`update engine.provider_capacity set recent = '{}', paused_until = null, backoff_seconds = 0, failures = 0, circuit_open_until = null`;
}

export async function simStats(): Promise<{ stats: Record<string, number>; duplicate_submissions: number }> {
  return await (await fetch(`${env.NOVITA_SIM_URL}/_sim/stats`)).json();
}

export function setNetDropRate(rate: number) {
  setStackNetDropRate(`${ROOT}.stack`, rate);
}

export async function waitFor<T>(what: string, check: () => Promise<T | null | undefined | false>, timeoutMs = 90_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < until) {
    last = await check();
    if (last) return last as T;
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** The generation row, with the attempt, provider task and webhook token of its latest task
 * (the latest one that waited on a provider, if any did). */
export async function row(id: string) {
  const [r] = await sql`
    select g.*, t.status as task_status, t.attempt, t.provider_task_id, t.webhook_token
    from public.generations g
    left join lateral (select * from engine.tasks where generation_id = g.id
                      order by provider_task_id is null, id desc limit 1) t on true
    where g.id = ${id}`;
  return r;
}

/** Waits until the generation's task of `step` is in one of `statuses`. */
export async function waitForTask(id: string, step: string, statuses: string[], timeoutMs = 90_000) {
  return await waitFor(`${step} of ${id} to be ${statuses.join("|")}`, async () => {
    const [t] = await sql`select * from engine.tasks where generation_id = ${id} and step = ${step} order by task_index limit 1`;
    return t && statuses.includes(t.status) ? t : null;
  }, timeoutMs);
}

export async function waitForStatus(id: string, statuses: string[], timeoutMs = 90_000) {
  return await waitFor(`generation ${id} to be ${statuses.join("|")}`, async () => {
    const r = await row(id);
    return statuses.includes(r.status) ? r : null;
  }, timeoutMs);
}

export async function ledger(id: string) {
  return (await sql`select kind::text, amount::int, billing_round from public.credit_ledger where generation_id = ${id} order by id`)
    .map((r) => `${r.billing_round}:${r.kind}:${r.amount}`);
}

export function ffprobe(file: string): { width: number; height: number; duration: number; codec: string } {
  const out = JSON.parse(execFileSync("ffprobe", ["-v", "error", "-print_format", "json", "-show_streams", "-show_format", file], { encoding: "utf8" }));
  const v = out.streams.find((s: any) => s.codec_type === "video");
  return { width: v.width, height: v.height, duration: Number(out.format.duration), codec: v.codec_name };
}

export function makeSelfie(): Uint8Array {
  const file = `/tmp/reelforge-selfie-${process.pid}.jpg`;
  execFileSync("ffmpeg", ["-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "color=c=0xd2a07a:s=512x512", "-frames:v", "1", file]);
  return readFileSync(file);
}

export async function uploadSelfie(user: TestUser): Promise<string> {
  const path = `${user.id}/${crypto.randomUUID()}.jpg`;
  const { error } = await supabaseClient(user.token).storage.from("selfies").upload(path, makeSelfie(), { contentType: "image/jpeg" });
  if (error) throw error;
  return path;
}

export function writeFile(path: string, bytes: Uint8Array) {
  writeFileSync(path, bytes);
}

/** Runs a command to its end; `linger` is the time from its last output to its exit (ms). */
export function timeExit(command: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
  return new Promise<{ code: number | null; out: string; linger: number }>((resolve) => {
    const child = spawn(command, args, { cwd: opts.cwd ?? ROOT, env: opts.env ?? process.env });
    let out = "";
    let last = performance.now();
    const heard = (chunk: Buffer) => {
      out += chunk;
      last = performance.now();
    };
    child.stdout.on("data", heard);
    child.stderr.on("data", heard);
    // A process that never exits is ended after 3 minutes (and the test then fails on linger).
    const limit = setTimeout(() => child.kill(), 180_000);
    child.on("close", (code) => {
      clearTimeout(limit);
      resolve({ code, out, linger: performance.now() - last });
    });
  });
}

/** How much the functions' process (the stack's gateway: every function, as one edge runtime
 * would host them) grows while `work` runs: its peak resident size (VmHWM, reset first through
 * /proc/<pid>/clear_refs) minus its size before, in MB. */
export async function functionsMemoryGrowth(work: () => Promise<unknown>): Promise<{ growthMb: number; peakMb: number }> {
  const pid = readFileSync(`${ROOT}.stack/gateway.pid`, "utf8").trim();
  const status = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]) / 1024;
  writeFileSync(`/proc/${pid}/clear_refs`, "5");
  const before = status("VmRSS");
  await work();
  const peakMb = status("VmHWM");
  return { growthMb: Math.round(peakMb - before), peakMb: Math.round(peakMb) };
}
