// Property-based fuzzing of every public endpoint and both webhook endpoints: malformed,
// oversized, wrongly typed and boundary bodies, bad JWTs, wrong tokens. No 5xx, every error
// in the envelope, and nothing changes.
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { ERROR_STATUS } from "../packages/shared/src/errors";
import { call, newUser, resetSims, sql, type TestUser, waitForStatus } from "./helpers";

const RUNS = 60;
const FIELDS = ["idea", "duration", "aspect_ratio", "selfie_path", "visibility", "prompt", "model_id", "task_subtype", "duration_seconds",
  "resolution", "mode", "quality", "multi_shots", "reference_image_url", "reference_image_urls", "character_uuid", "visibility_level",
  "name", "reference_image_path", "style", "with_selfie", "event_type", "payload", "code", "data", "generation_id", "step"];
const boundary = fc.constantFrom(0, -1, 1, 5, 10, 15, 2 ** 31, -(2 ** 53), 1e308, "", " ", "0", "5", "9:16", "wan/2.5", "sora-2", null, true, false, [], {},
  "x".repeat(3000), "../../etc/passwd", "'; drop table generations; --", "\u0000", "lone \ud800 surrogate", "https://127.0.0.1/a.png", "http://169.254.169.254/");
const value = fc.oneof(boundary, fc.jsonValue({ maxDepth: 2 }));
const body = fc.oneof(
  fc.dictionary(fc.constantFrom(...FIELDS), value, { maxKeys: 8 }),
  fc.jsonValue({ maxDepth: 3 }),
  fc.string({ maxLength: 200 }).map((s) => ({ raw: s })),
  fc.constant({ raw: "{".repeat(10) }),
  fc.constant({ raw: JSON.stringify({ idea: "y".repeat(70_000) }) }),
);

const CODES = Object.keys(ERROR_STATUS);
function expectEnvelopeOrOk(res: { status: number; body: any }, what: string) {
  expect(res.status, what).toBeLessThan(500);
  if (res.status >= 400) {
    expect(CODES, what).toContain(res.body?.error?.code);
    expect(res.body.error).toMatchObject({ message: expect.any(String), requestId: expect.any(String), timestamp: expect.any(String) });
  }
}

const send = (token: string | null, method: string, path: string, b: unknown) =>
  call(token, method, path, method === "GET" ? undefined : (b as { raw?: string })?.raw ?? b);

async function snapshot(user: TestUser, ids: string[]) {
  return await sql`select
    (select count(*) from public.generations where user_id = ${user.id}) as generations,
    (select count(*) from public.credit_ledger where user_id = ${user.id}) as ledger,
    (select balance from public.credit_accounts where user_id = ${user.id}) as balance,
    (select count(*) from public.characters where user_id = ${user.id}) as characters,
    (select json_agg(json_build_object('s', status, 'u', updated_at) order by id) from public.generations where id = any(${ids})) as victims`;
}

let poor: TestUser;
let victimOwner: TestUser;
let victims: { id: string; webhook_token: string }[];

beforeAll(async () => {
  await resetSims({ task_fail_rate: 0 });
  poor = await newUser(0);
  victimOwner = await newUser(1000);
  const ok = await call(victimOwner.token, "POST", "generations", { idea: "a finished victim" });
  const done = await waitForStatus(ok.body.generation.id, ["completed"]);
  victims = [done];
});

describe("fuzzing the public endpoints", () => {
  const id = () => fc.oneof(fc.uuid(), fc.string({ maxLength: 40 }).map(encodeURIComponent), fc.constant("%00"), fc.constant("..%2F..%2F"));
  const endpoints: [string, (x: string) => string][] = [
    ["POST", () => "generations"], ["GET", () => "generations"], ["GET", (x) => `generations/${x}`],
    ["POST", (x) => `generations/${x}/cancel`], ["POST", (x) => `generations/${x}/retry`], ["POST", () => "quote"],
    ["POST", () => "anime-video/create-task"], ["POST", () => "anime-video/quote"], ["POST", () => "anime-video/optimize-prompt"],
    ["POST", () => "anime-video/characters"], ["GET", (x) => `generation/status/${x}`], ["GET", (x) => `generation/gallery?limit=${x}`],
  ];
  for (const [method, path] of endpoints) {
    it(`${method} ${path("{x}")} never fails with 5xx and changes nothing`, async () => {
      const before = await snapshot(poor, victims.map((v) => v.id));
      await fc.assert(fc.asyncProperty(id(), body, async (x, b) => {
        expectEnvelopeOrOk(await send(poor.token, method, path(x), b), `${method} ${path(x)} ${JSON.stringify(b).slice(0, 200)}`);
      }), { numRuns: RUNS });
      expect(await snapshot(poor, victims.map((v) => v.id))).toEqual(before);
    });
  }

  it("bad JWTs are refused by the gateway or the function, never with 5xx", async () => {
    await fc.assert(fc.asyncProperty(fc.oneof(fc.string({ maxLength: 300 }), fc.base64String({ maxLength: 300 }),
      fc.tuple(fc.base64String(), fc.base64String(), fc.base64String()).map((p) => p.join("."))), async (jwt) => {
      const res = await call(jwt.replace(/[\r\n]/g, ""), "POST", "quote", { duration: 5 });
      expect(res.status).toBe(401);
    }), { numRuns: RUNS });
  });
});

describe("fuzzing the webhooks", () => {
  for (const path of ["handle-novita-webhook", "generation/webhook"]) {
    it(`${path}: random bodies with right, wrong and missing tokens change nothing`, async () => {
      const before = await snapshot(victimOwner, victims.map((v) => v.id));
      const token = fc.oneof(fc.constant(victims[0].webhook_token), fc.string({ unit: fc.constantFrom(..."0123456789abcdef"), minLength: 48, maxLength: 48 }), fc.string({ maxLength: 60 }), fc.constant(""));
      const shaped = fc.record({
        event_type: fc.constantFrom("ASYNC_TASK_RESULT", "OTHER"),
        payload: fc.record({ task: fc.record({ task_id: fc.string(), status: fc.constantFrom("TASK_STATUS_SUCCEED", "TASK_STATUS_FAILED") }) }),
      });
      await fc.assert(fc.asyncProperty(token, fc.oneof(body, shaped), async (t, b) => {
        const res = await send(null, "POST", `${path}?token=${encodeURIComponent(t)}`, b);
        expectEnvelopeOrOk(res, JSON.stringify(b).slice(0, 200));
      }), { numRuns: RUNS * 2 });
      expect(await snapshot(victimOwner, victims.map((v) => v.id))).toEqual(before);
    });
  }
});

describe("user-supplied URLs", () => {
  it("any loopback, private or link-local address is refused", async () => {
    const user = await newUser(100_000);
    const v4 = fc.oneof(
      fc.tuple(fc.constant(127), fc.nat(255), fc.nat(255), fc.nat(255)), fc.tuple(fc.constant(10), fc.nat(255), fc.nat(255), fc.nat(255)),
      fc.tuple(fc.constant(172), fc.integer({ min: 16, max: 31 }), fc.nat(255), fc.nat(255)), fc.tuple(fc.constant(192), fc.constant(168), fc.nat(255), fc.nat(255)),
      fc.tuple(fc.constant(169), fc.constant(254), fc.nat(255), fc.nat(255)),
    ).map((p) => p.join("."));
    const host = fc.oneof(v4, fc.constantFrom("[::1]", "[::]", "[fe80::1]", "[fd00::1]", "[::ffff:127.0.0.1]", "[::ffff:10.0.0.1]", "[::127.0.0.1]", "[64:ff9b::a9fe:a9fe]", "localhost", "0.0.0.0"));
    await fc.assert(fc.asyncProperty(host, async (h) => {
      const res = await call(user.token, "POST", "anime-video/create-task", { prompt: "p", model_id: "wan/2.5", reference_image_url: `https://${h}/a.png` });
      expect(res.status, h).toBe(400);
    }), { numRuns: RUNS });
    expect((await sql`select count(*)::int as n from public.generations where user_id = ${user.id}`)[0].n).toBe(0);
  });
});
