// The chaos run in small: 20 generations through lost, duplicated and delayed webhooks,
// 429s and 5xx, lost wake-ups, a killed functions process and a crashed database.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { expect, it } from "vitest";
import { ROOT } from "./helpers";

it("loses nothing, charges exactly, does nothing twice and leaks no secret under faults", async () => {
  const { stdout: out } = await promisify(execFile)(`${ROOT}node_modules/.bin/deno`, ["run", "-A", "--quiet", "chaos/main.ts", "--generations", "20", "--bound-seconds", "400", "--json"], {
    cwd: ROOT, encoding: "utf8", timeout: 460_000,
  });
  const result = JSON.parse(out.trim().split("\n").at(-1)!);
  expect(result.faults).toEqual(["functions killed", "postgres crashed"]);
  expect(result.checks).toEqual({
    all_terminal: true, credits_balanced: true, no_duplicate_provider_task: true, no_transition_logged_twice: true,
    completed_have_video: true, no_secret_leaked: true, faults_injected: true,
  });
  expect(result.by_status.completed).toBeGreaterThanOrEqual(18);
}, 480_000);
