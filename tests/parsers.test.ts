// Hostile text through the API (issue 26.2): `POST video/from-spec` with markdown built to make
// the parser backtrack answers at once, and another user's request made meanwhile is not
// delayed (one 58 KB body used to freeze the functions process for 74 s).
import { describe, expect, it } from "vitest";
import { MAX_SPEC_BYTES } from "../packages/shared/src/spec-kit";
import { call, newUser } from "./helpers";

/** The request's answer and how long it took, in milliseconds. */
async function timed(request: Promise<{ status: number; body: any }>) {
  const started = performance.now();
  const answer = await request;
  return { ...answer, ms: performance.now() - started };
}

describe("from-spec on hostile markdown", () => {
  it("answers in under 200 ms and delays another user's GET credits by no more than that", async () => {
    const [attacker, bystander] = await Promise.all([newUser(), newUser()]);
    const credits = () => timed(call(bystander.token, "GET", "credits"));
    // The bystander's usual time on this (loaded) machine, taken in the same test.
    const baseline = Math.min(...(await Promise.all([credits(), credits(), credits()])).map((r) => r.ms));
    /** The hostile request's answer, and the bystander's slowest GET credits sent while it ran. */
    const during = async (hostile: Promise<{ status: number; body: any; ms: number }>) => {
      let done = false;
      const answer = hostile.finally(() => (done = true));
      let slowest = 0;
      do {
        const meanwhile = await credits();
        expect(meanwhile.status).toBe(200);
        slowest = Math.max(slowest, meanwhile.ms);
      } while (!done);
      return { answer: await answer, slowest };
    };

    const hostile = {
      digits: "## Requirements\n- FR-1: " + "1".repeat(MAX_SPEC_BYTES - 30),
      "empty scene lines": "## Requirements\n- FR-1: 60s\n## Scenes\n" + "\n".repeat(MAX_SPEC_BYTES - 60),
    };
    for (const [name, markdown] of Object.entries(hostile)) {
      const { answer, slowest } = await during(timed(call(attacker.token, "POST", "video/from-spec", { markdown, file: "hostile.md" })));
      expect(slowest, `${name}: the bystander's GET credits (ms)`).toBeLessThan(baseline + 200);
      expect(answer.status, name).toBeLessThan(500);
      expect(answer.ms, name).toBeLessThan(baseline + 200);
    }

    // A 64 KB body (the gateway's limit) is twice the spec limit: refused, naming it.
    const big = { markdown: "## Requirements\n- FR-1: " + "1".repeat(64 * 1024 - 100), file: "big.md" };
    const { answer: refused, slowest } = await during(timed(call(attacker.token, "POST", "video/from-spec", big)));
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatchObject({ code: "INVALID_REQUEST", message: expect.stringContaining("big.md: a spec is at most 32 KB (32768 bytes)") });
    expect(refused.ms).toBeLessThan(baseline + 200);
    expect(slowest).toBeLessThan(baseline + 200);
  });

  it("reads the MovieFlow document's `## Video Specification` example as written", async () => {
    const user = await newUser();
    const markdown = "# MovieFlow 规格\n## Video Specification\n- Duration: 60s\n- Scenes: 6\n- Resolution: 1080p\n";
    const res = await call(user.token, "POST", "video/from-spec", { markdown });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.warnings).toEqual([]);
    expect(res.body.spec.scenes.map((s: any) => s.duration)).toEqual([10, 10, 10, 10, 10, 10]);
    expect(res.body.spec.config).toMatchObject({ resolution: "1080x1920", quality: "high" });
  });
});
