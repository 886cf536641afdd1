// Processes end when their work does: the demo exits within 1 s of its last line (the
// Realtime socket used to stay open after wait(): 60 s). The CLI's and an SDK script's exits
// are timed in tests/cli.test.ts and tests/packages.test.ts.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { beforeAll, describe, expect, it } from "vitest";
import { resetSims, ROOT, timeExit } from "./helpers";

beforeAll(async () => {
  await resetSims();
});

describe("the demo ends within 1 s of its last output", () => {
  it("npm run demo", async () => {
    const demo = await timeExit("deno", ["run", "-A", "--quiet", `${ROOT}demo/demo.ts`, "--idea", "a paper boat on a pond"], { cwd: mkdtempSync(`${tmpdir()}/demo-`) });
    expect(demo.code, demo.out).toBe(0);
    expect(demo.out).toMatch(/files:\n.*video\.mp4/);
    expect(demo.linger).toBeLessThan(1000);
  });
});
