// Controls of the local stack for tests, the chaos run and benchmarks (not deployed):
// simulator knobs, the pg_net stand-in's drop knob, and signing up (and confirming) users. Deno and Node.
import { mkdirSync, writeFileSync } from "node:fs";

/** Back to the simulators' defaults, then `knobs` on top (see simulators/common.ts). */
export async function resetSimulators(simUrl: string, knobs: Record<string, unknown> = {}) {
  for (const [path, body] of [["reset", undefined], ["knobs", JSON.stringify(knobs)]]) {
    const res = await fetch(`${simUrl}/_sim/${path}`, { method: "POST", body });
    if (!res.ok) throw new Error(`simulator ${path}: HTTP ${res.status}`);
    await res.body?.cancel();
  }
}

export type ScriptedAnswer = { status: number; body: unknown; headers?: Record<string, string> };

/** The next answers of one simulator endpoint ("task-result", "recordInfo",
 * "generateContent", "createTask", "kling-i2v", "seedream", "merge-face", "jimeng-submit",
 * "jimeng-result", "tts"), in order, `count`
 * times over; "{{task_id}}" in a body becomes the polled task's id. */
export async function scriptResponses(simUrl: string, endpoint: string, responses: ScriptedAnswer[], count = 1) {
  const res = await fetch(`${simUrl}/_sim/script`, { method: "POST", body: JSON.stringify({ endpoint, responses, count }) });
  if (!res.ok) throw new Error(`simulator script: HTTP ${res.status} ${await res.text()}`);
  await res.body?.cancel();
}

/** The share of pg_net requests the worker stand-in loses (read at every drain). */
export function setNetDropRate(stackDir: string, rate: number) {
  mkdirSync(`${stackDir}/knobs`, { recursive: true });
  writeFileSync(`${stackDir}/knobs/net.json`, JSON.stringify({ drop_rate: rate }));
}

/** The session a user gets by following the confirmation link of the newest mail to
 * `email` in the stack's mail catcher (Mailpit's API), as their browser would. */
export async function confirmByMail(mailUrl: string, email: string): Promise<{ access_token: string; refresh_token: string }> {
  const found = await (await fetch(`${mailUrl}/api/v1/search?query=${encodeURIComponent(`to:"${email}"`)}&limit=1`)).json();
  if (!found.messages?.length) throw new Error(`no mail to ${email}`);
  const message = await (await fetch(`${mailUrl}/api/v1/message/${found.messages[0].ID}`)).json();
  const link = /https?:\/\/\S+\/auth\/v1\/verify\?\S+/.exec(message.Text)?.[0];
  if (!link) throw new Error(`no confirmation link in the mail to ${email}`);
  const res = await fetch(link, { redirect: "manual" });
  await res.body?.cancel();
  const session = new URLSearchParams(new URL(res.headers.get("location") ?? "http://x/").hash.slice(1));
  if (!session.get("access_token")) throw new Error(`confirming ${email} failed: ${res.headers.get("location")}`);
  return { access_token: session.get("access_token")!, refresh_token: session.get("refresh_token")! };
}

/** A new user through the Auth endpoint, confirmed through the mail catcher, with a session
 * (`env`: the stack's, with API_URL and MAILPIT_URL). */
export async function signUp(env: Record<string, string>, prefix: string): Promise<{ id: string; token: string }> {
  const email = `${prefix}-${crypto.randomUUID()}@test.local`;
  const res = await fetch(`${env.API_URL}/auth/v1/signup`, { method: "POST", body: JSON.stringify({ email, password: `${prefix}-password` }) });
  const user = await res.json();
  if (!res.ok) throw new Error(`sign-up failed: ${JSON.stringify(user)}`);
  return { id: user.id, token: (await confirmByMail(env.MAILPIT_URL, email)).access_token };
}
