// Cross-tenant and internal-endpoint attempts through the functions.
import { describe, expect, it } from "vitest";
import { call, env, newUser } from "./helpers";

const INTERNAL = ["generate-script", "txt2img", "merge-face", "kling-i2v", "kie-video", "store-output", "poll-task"];

describe("internal step functions", () => {
  it("refuse the anon key, user JWTs and no key at all", async () => {
    const user = await newUser();
    for (const name of INTERNAL) {
      for (const token of [env.ANON_KEY, user.token]) {
        const res = await call(token, "POST", name, { generation_id: crypto.randomUUID(), step: "script", generation_ids: [crypto.randomUUID()] });
        expect(res, `${name}`).toMatchObject({ status: 403, body: { error: { code: "FORBIDDEN" } } });
      }
      expect((await call(null, "POST", name, {})).status, name).toBe(401);
    }
  });
});

describe("another user's things", () => {
  it("are not reachable through any function", async () => {
    const alice = await newUser();
    const bob = await newUser();
    const created = await call(alice.token, "POST", "anime-video/create-task", { prompt: "alice only", model_id: "sora-2" });
    const id = created.body.data.generation_uuid;
    for (const [method, path] of [["GET", `generations/${id}`], ["POST", `generations/${id}/cancel`], ["POST", `generations/${id}/retry`],
      ["GET", `generation/status/${id}`]]) {
      expect((await call(bob.token, method, path)).status, path).toBe(404);
    }
    expect((await call(bob.token, "GET", "anime-video/characters")).body.data).toEqual([]);
    await call(alice.token, "POST", `generations/${id}/cancel`);
  });
});
