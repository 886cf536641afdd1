// The local stack command: idempotent start, restart of a dead piece, stop leaves nothing.
import { execFileSync } from "node:child_process";
import { appendFileSync, readFileSync, writeFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { env, ROOT, waitFor } from "./helpers";

function stack(cmd: string): string {
  return execFileSync(`${ROOT}node_modules/.bin/deno`, ["run", "-A", "--quiet", "stack/cli.ts", cmd], { cwd: ROOT, encoding: "utf8" });
}

/** stderr of `stack start` (where it says it recreates the database); times out rather than hang. */
function startReport(): string {
  return execFileSync("bash", ["-c", `timeout 120 "${ROOT}node_modules/.bin/deno" run -A --quiet stack/cli.ts start 2>&1 >/dev/null`],
    { cwd: ROOT, encoding: "utf8" });
}

const pidOf = (name: string) => Number(readFileSync(`${ROOT}.stack/${name}.pid`, "utf8"));
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
const up = async (url: string) => fetch(url).then((r) => r.body?.cancel().then(() => true)).catch(() => false);

describe("npm run stack", () => {
  it("start prints the supabase status -o env variables and is idempotent", () => {
    const gateway = pidOf("gateway");
    const out = stack("start");
    for (const key of ["API_URL", "DB_URL", "ANON_KEY", "SERVICE_ROLE_KEY", "JWT_SECRET"]) {
      expect(out).toContain(`${key}=${env[key]}`);
    }
    expect(pidOf("gateway")).toBe(gateway);
    expect(readFileSync(`${ROOT}.stack/env`, "utf8")).toBe(out);
  });

  it("start restarts a piece that died", async () => {
    const worker = pidOf("worker");
    process.kill(-worker, "SIGKILL");
    await waitFor("worker to die", async () => !alive(worker));
    stack("start");
    expect(pidOf("worker")).not.toBe(worker);
    expect(alive(pidOf("worker"))).toBe(true);
    expect(stack("status")).toMatch(/worker\s+running/);
  });

  it("start recreates, exactly once, a local database whose applied migrations changed", () => {
    const migration = `${ROOT}supabase/migrations/20261123000010_characters.sql`;
    const original = readFileSync(migration, "utf8");
    try {
      appendFileSync(migration, "-- changed after it was applied\n");
      expect(startReport()).toContain("recreating it");
      expect(startReport()).not.toContain("recreating it");
    } finally {
      writeFileSync(migration, original);
    }
    expect(startReport()).toContain("recreating it");
    expect(execFileSync("psql", [env.DB_URL, "-Atc", "select count(*) from engine.flow_steps"], { encoding: "utf8" }).trim()).toBe("13");
  });

  it("stop leaves no process behind, and start brings everything back", async () => {
    const pids = ["gateway", "worker", "media-worker", "simulators"].map(pidOf);
    stack("stop");
    await waitFor("daemons to exit", async () => pids.every((p) => !alive(p)));
    expect(await up(`${env.API_URL}/_stack/health`)).toBe(false);
    expect(await up(`${env.NOVITA_SIM_URL}/_sim/health`)).toBe(false);
    expect(() => execFileSync("pg_isready", ["-h", "127.0.0.1", "-p", "54322"])).toThrow();

    stack("start");
    expect(await up(`${env.API_URL}/_stack/health`)).toBe(true);
    expect(execFileSync("psql", [env.DB_URL, "-Atc", "select count(*) from engine.flow_steps"], { encoding: "utf8" }).trim()).toBe("13");
  });
});
