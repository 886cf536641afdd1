// Controls of the local stack for tests, the chaos run and benchmarks (not deployed):
// simulator knobs, the pg_net stand-in's drop knob, and signing up users. Deno and Node.
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

/** A new user through the Auth endpoint, with a session. */
export async function signUp(apiUrl: string, prefix: string): Promise<{ id: string; token: string }> {
  const res = await fetch(`${apiUrl}/auth/v1/signup`, {
    method: "POST",
    body: JSON.stringify({ email: `${prefix}-${crypto.randomUUID()}@test.local`, password: `${prefix}-password` }),
  });
  const session = await res.json();
  if (!res.ok) throw new Error(`sign-up failed: ${JSON.stringify(session)}`);
  return { id: session.user.id, token: session.access_token };
}
