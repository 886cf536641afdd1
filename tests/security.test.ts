// Cross-tenant and internal-endpoint attempts through the functions.
import { existsSync } from "node:fs";
import { createServer, request as httpRequest, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isPublicAddress } from "../packages/shared/src/urls";
import { call, env, FUNCTIONS, newUser, resetSims, ROOT, simKnobs, simStats, sql, waitForStatus, waitForTask } from "./helpers";

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

describe("per-user limits", () => {
  it("answers 429 RATE_LIMIT_EXCEEDED with the limit, the reset and Retry-After past 10 quick requests (60/min)", async () => {
    const user = await newUser();
    const other = await newUser();
    await sql`update engine.settings set api_requests_per_minute = 60, api_burst = 10`;
    try {
      const statuses: number[] = [];
      let limited: Response | undefined;
      for (let i = 0; i < 11; i++) {
        const res = await fetch(`${FUNCTIONS}/generations`, { headers: { Authorization: `Bearer ${user.token}` } });
        statuses.push(res.status);
        if (res.status === 429) limited = res;
        else await res.body?.cancel();
      }
      expect(statuses.slice(0, 10).every((s) => s === 200)).toBe(true);
      expect(statuses[10]).toBe(429);
      expect(Number(limited!.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
      const body = await limited!.json();
      expect(body.error).toMatchObject({ code: "RATE_LIMIT_EXCEEDED", details: { limit: 60, burst: 10, reset: expect.any(String) } });
      expect((await call(other.token, "GET", "generations")).status).toBe(200);
    } finally {
      await sql`update engine.settings set api_requests_per_minute = 1000000, api_burst = 1000000`;
    }
  });

  it("optimize-prompt (a free call to a paid provider) needs a positive balance", async () => {
    const broke = await newUser(0);
    expect(await call(broke.token, "POST", "anime-video/optimize-prompt", { prompt: "cat samurai" }))
      .toMatchObject({ status: 402, body: { error: { code: "QUOTA_EXCEEDED" } } });
  });
});

describe("idempotency, as Stripe does it", () => {
  it("20 concurrent repeats of one key return one generation, charged once", async () => {
    const user = await newUser(1000);
    const key = { "idempotency-key": `k-${crypto.randomUUID()}` };
    const answers = await Promise.all(Array.from({ length: 20 }, () => call(user.token, "POST", "generations", { idea: "exactly once" }, key)));
    expect(answers.map((a) => a.status).filter((s) => s !== 201)).toEqual([]);
    expect(new Set(answers.map((a) => a.body.generation.id)).size).toBe(1);
    expect((await sql`select balance::int from public.credit_accounts where user_id = ${user.id}`)[0].balance).toBe(815);
    await call(user.token, "POST", `generations/${answers[0].body.generation.id}/cancel`);
  });

  it("the same key with another request is 422, and keys are at most 255 characters", async () => {
    const user = await newUser(1000);
    const key = { "idempotency-key": `k-${crypto.randomUUID()}` };
    const first = await call(user.token, "POST", "generations", { idea: "the first request" }, key);
    expect(first.status).toBe(201);
    expect(await call(user.token, "POST", "generations", { idea: "a different request" }, key))
      .toMatchObject({ status: 422, body: { error: { code: "IDEMPOTENCY_KEY_REUSED" } } });
    expect(await call(user.token, "POST", "generations", { idea: "long key" }, { "idempotency-key": "k".repeat(255) }))
      .toMatchObject({ status: 201 });
    expect(await call(user.token, "POST", "generations", { idea: "too long" }, { "idempotency-key": "k".repeat(256) }))
      .toMatchObject({ status: 400, body: { error: { code: "INVALID_REQUEST" } } });
    await call(user.token, "POST", `generations/${first.body.generation.id}/cancel`);
  });
});

describe("the public gallery", () => {
  it("carries no user id, not even inside a signed URL", async () => {
    const owner = await newUser();
    const created = await call(owner.token, "POST", "anime-video/create-task", { prompt: "public work", model_id: "sora-2", visibility_level: "public" });
    const id = created.body.data.generation_uuid;
    await waitForStatus(id, ["completed"]);
    const viewer = await newUser();
    const gallery = await call(viewer.token, "GET", "generation/gallery?limit=100");
    const entry = gallery.body.data.find((e: { uuid: string }) => e.uuid === id);
    expect(entry.video_url).toMatch(/^http/);
    expect(JSON.stringify(gallery.body)).not.toContain(owner.id);
  });
});

// A local server standing for something internal (metadata service, admin port): it must
// never be fetched on a user's or a provider's behalf.
async function internalServer() {
  let hits = 0;
  const server = createServer((_req, res) => {
    hits++;
    res.writeHead(200, { "content-type": "video/mp4" });
    res.end(Buffer.concat([Buffer.from([0, 0, 0, 0x18]), Buffer.from("ftypisomINTERNAL-SECRET")]));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { origin, hits: () => hits, close: () => new Promise((r) => server.close(r)) };
}

describe("hostile provider results", () => {
  beforeAll(async () => await resetSims());
  afterAll(async () => await resetSims());

  for (const [what, resultUrl] of [
    ["a result URL at an internal address", (o: string) => `${o}/latest/meta-data`],
    ["a redirect to an internal address", (o: string) => `${env.KIE_SIM_URL}/_sim/redirect?to=${encodeURIComponent(`${o}/admin`)}`],
  ] as const) {
    it(`${what} fails the generation and stores nothing`, async () => {
      const internal = await internalServer();
      try {
        await simKnobs({ result_url: resultUrl(internal.origin) });
        const user = await newUser();
        const created = await call(user.token, "POST", "anime-video/create-task", { prompt: "a hostile provider result", model_id: "sora-2" });
        const id = created.body.data.generation_uuid;
        const done = await waitForStatus(id, ["completed", "failed"]);
        expect(done).toMatchObject({ status: "failed", error_code: "TASK_FAILED" });
        expect(done.error_message).toContain(`result was refused: ${internal.origin} is not an https URL`);
        expect(internal.hits()).toBe(0);
        const status = await call(user.token, "GET", `generation/status/${id}`);
        expect(status.body).toMatchObject({ status: "failed", results: [] });
        expect(existsSync(`${ROOT}.stack/storage/outputs/${user.id}/${id}/video.mp4`)).toBe(false);
      } finally {
        await simKnobs({ result_url: null });
        await internal.close();
      }
    });
  }
});

describe("user reference URLs", () => {
  it("are refused at every non-public address form and through our own prefix with dot segments", async () => {
    const user = await newUser();
    const own = `${env.API_URL}/storage/v1/object/sign`;
    for (const url of [
      "https://[::ffff:0:127.0.0.1]/a.png", "https://[2002:7f00:1::1]/a.png", "https://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/a.png",
      "https://[fec0::1]/a.png", "https://[64:ff9b:1::a00:1]/a.png", "https://[64:ff9b::7f00:1]/a.png", "https://[100::1]/a.png",
      "https://[::127.0.0.1]/a.png", "https://[::ffff:10.0.0.1]/a.png", "https://100.64.0.1/a.png", "https://0x7f000001/a.png",
      "https://localhost/a.png", "https://169.254.169.254/latest/meta-data",
      `${own}/../../../functions/v1/poll-task`, `${own}/selfies/%2e%2e/%2e%2e/%2e%2e/functions/v1/poll-task?token=t`,
      `${own}/selfies/x/..%2f..%2f..%2ffunctions/v1/poll-task?token=t`, `${own}/selfies\\..\\..\\..\\functions/v1/poll-task?token=t`,
    ]) {
      const res = await call(user.token, "POST", "anime-video/create-task", { prompt: "a cat", model_id: "wan/2.5", reference_image_url: url });
      expect(res, url).toMatchObject({ status: 400, body: { error: { code: "INVALID_REQUEST" } } });
    }
  });

  it("address classes come from ipaddr.js: only public unicast passes", () => {
    for (const ip of ["::ffff:0:127.0.0.1", "2002:7f00:1::1", "2001::1", "fec0::1", "64:ff9b:1::a00:1", "64:ff9b::a00:1", "100::1",
      "::7f00:1", "::", "::1", "fe80::1", "fc00::1", "ff02::1", "2001:db8::1", "127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1",
      "100.64.0.1", "169.254.169.254", "0.0.0.0", "192.0.2.1", "198.18.0.1", "224.0.0.1", "255.255.255.255", "::ffff:192.168.0.1", "not an ip"]) {
      expect(isPublicAddress(ip), ip).toBe(false);
    }
    for (const ip of ["8.8.8.8", "1.1.1.1", "2606:4700::1111", "::ffff:8.8.8.8", "2a00:1450:4001:82a::200e"]) expect(isPublicAddress(ip), ip).toBe(true);
  });
});

describe("request bodies", () => {
  it("a 400 MB body is refused while it streams in, without a length announced", async () => {
    const started = Date.now();
    const result = await new Promise<{ status: number; body: string; sent: number }>((resolve, reject) => {
      let sent = 0;
      const chunk = Buffer.alloc(256 * 1024, 0x20);
      const req = httpRequest(`${FUNCTIONS}/generation/webhook?token=x`, { method: "POST", headers: { "content-type": "application/json" } }, (res) => {
        let body = "";
        res.on("data", (d) => (body += d));
        res.on("end", () => resolve({ status: res.statusCode!, body, sent }));
      });
      req.on("error", reject);
      const pump = () => {
        while (sent < 400 * 1024 * 1024) {
          sent += chunk.length;
          if (!req.write(chunk)) return void req.once("drain", pump);
        }
        req.end();
      };
      req.write("{\"data\":\"");
      pump();
    });
    expect(result.status).toBe(400);
    expect(JSON.parse(result.body).error).toMatchObject({ code: "INVALID_REQUEST", message: expect.stringContaining("64 KB") });
    expect(result.sent).toBeLessThan(64 * 1024 * 1024);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it("a length announced over 64 KB is refused before the body is read", async () => {
    const res = await call(null, "POST", "generation/webhook?token=x", JSON.stringify({ data: "x".repeat(70_000) }));
    expect(res).toMatchObject({ status: 400, body: { error: { code: "INVALID_REQUEST" } } });
  });

  it("NUL characters and unpaired surrogates in any text field are INVALID_REQUEST, not 500", async () => {
    const user = await newUser();
    for (const [path, raw] of [
      ["generations", `{"idea":"a fox\\u0000astronaut"}`],
      ["anime-video/create-task", `{"prompt":"a cat\\u0000","model_id":"sora-2"}`],
      ["anime-video/create-task", `{"prompt":"a cat \\ud800 alone","model_id":"sora-2"}`],
      ["anime-video/optimize-prompt", `{"prompt":"cat \\udc00 samurai"}`],
      ["anime-video/characters", `{"name":"Ai\\u0000ko","reference_image_path":"x/a.png"}`],
      ["quote", `{"duration":5,"bad\\u0000key":1}`],
    ]) {
      const res = await call(user.token, "POST", path, raw);
      expect(res, `${path} ${raw}`).toMatchObject({ status: 400, body: { error: { code: "INVALID_REQUEST", message: expect.stringContaining("NUL") } } });
    }
    const [{ n }] = await sql`select count(*)::int as n from public.generations where user_id = ${user.id}`;
    expect(n).toBe(0);
  });
});

describe("the gateway's own refusals", () => {
  it("use the functions' error envelope", async () => {
    // An internal step function: its verify_jwt is the gateway's (public ones check callers themselves).
    const missing = await call(null, "POST", "generate-script", {});
    expect(missing).toMatchObject({ status: 401, body: { error: { code: "UNAUTHORIZED", message: "Missing authorization header", requestId: expect.any(String), timestamp: expect.any(String) } } });
    const unknown = await call(env.ANON_KEY, "GET", "no-such-function");
    expect(unknown).toMatchObject({ status: 404, body: { error: { code: "NOT_FOUND", requestId: expect.any(String) } } });
  });
});

describe("downloads of provider results (fetch-public)", () => {
  const MB = 1024 * 1024;
  const mp4Head = Buffer.concat([Buffer.from([0, 0, 0, 0x18]), Buffer.from("ftypisom"), Buffer.alloc(12)]);
  let written = 0;
  let origin = "";
  let internalOrigin = "";
  let media: typeof import("../packages/shared/src/fetch-public");
  const servers: Server[] = [];

  beforeAll(async () => {
    const internal = createServer((_q, r) => r.end("internal"));
    const server = createServer((req, res) => {
      const path = req.url!;
      if (path === "/big-stream" || path === "/big-declared") {
        // 300 MB of "video", written only as fast as the client reads.
        res.writeHead(200, { "content-type": "video/mp4", ...(path === "/big-declared" ? { "content-length": String(300 * MB) } : {}) });
        const chunk = Buffer.alloc(MB);
        let sent = 0;
        const pump = () => {
          while (sent < 300 * MB && !res.destroyed) {
            const part = sent === 0 ? Buffer.concat([mp4Head, chunk.subarray(mp4Head.length)]) : chunk;
            sent += part.length;
            written += part.length;
            if (!res.write(part)) return void res.once("drain", pump);
          }
          res.end();
        };
        return pump();
      }
      if (path === "/loop") return res.writeHead(302, { location: "/loop" }).end();
      if (path === "/to-internal") return res.writeHead(302, { location: `${internalOrigin}/secret` }).end();
      if (path === "/to-ok") return res.writeHead(301, { location: "/ok.mp4" }).end();
      if (path === "/html") return res.writeHead(200, { "content-type": "text/html" }).end("<html>login</html>");
      if (path === "/fake-png") return res.writeHead(200, { "content-type": "image/png" }).end("<html>not an image at all</html>");
      if (path === "/ok.mp4") return res.writeHead(200, { "content-type": "application/octet-stream" }).end(Buffer.concat([mp4Head, Buffer.alloc(1000)]));
      res.writeHead(404).end();
    });
    for (const s of [server, internal]) {
      await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
      servers.push(s);
    }
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    internalOrigin = `http://127.0.0.1:${(internal.address() as AddressInfo).port}`;
    // The functions' configuration, with this server standing in as the Novita simulator.
    Object.assign(process.env, {
      SUPABASE_URL: env.API_URL, SUPABASE_SERVICE_ROLE_KEY: env.SERVICE_ROLE_KEY, SUPABASE_DB_URL: env.DB_URL, JWT_SECRET: env.JWT_SECRET,
      PUBLIC_FUNCTIONS_URL: `${env.API_URL}/functions/v1`, GEMINI_API_KEY: "k", NOVITA_API_KEY: "k", KIE_API_KEY: "k",
      NOVITA_BASE_URL: origin, REELFORGE_LOCAL_SIMULATORS: "1",
    });
    media = await import("../packages/shared/src/fetch-public");
  });
  afterAll(() => servers.forEach((s) => s.close()));

  it("stop a 300 MB stream at the 200 MB video cap, never far ahead of what was consumed", async () => {
    written = 0;
    const download = await media.fetchPublicMedia("provider", `${origin}/big-stream`, "video");
    expect(download.type).toBe("video/mp4");
    // The server writes only as fast as we read (backpressure): what it has written beyond
    // what we consumed is all that can be held in memory on the way.
    let ahead = 0;
    let received = 0;
    const reader = download.body.getReader();
    const drained = (async () => {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        received += value.length;
        ahead = Math.max(ahead, written - received);
      }
    })();
    await expect(drained).rejects.toThrow("provider result was refused: it is larger than 200 MB");
    expect(received).toBeLessThanOrEqual(200 * MB);
    expect(written).toBeLessThan(210 * MB);
    expect(ahead).toBeLessThan(16 * MB);
  });

  it("refuse a declared length over the cap before reading the body", async () => {
    written = 0;
    await expect(media.fetchPublicMedia("provider", `${origin}/big-declared`, "video")).rejects.toThrow("larger than 200 MB");
    expect(written).toBeLessThan(20 * MB);
  });

  it("check every redirect hop, at most 5, and the content type and content", async () => {
    const refusal = (path: string, kind: "image" | "video") => media.fetchPublicMedia("provider", `${origin}${path}`, kind);
    await expect(refusal("/to-internal", "video")).rejects.toThrow(`provider result was refused: ${internalOrigin} is not an https URL`);
    await expect(refusal("/loop", "video")).rejects.toThrow("more than 5 redirects");
    await expect(refusal("/html", "image")).rejects.toThrow("its content type text/html is not an image");
    await expect(refusal("/fake-png", "image")).rejects.toThrow("its content is not a JPEG, PNG or WebP image");
    await expect(refusal("/ok.mp4", "image")).rejects.toThrow("its content is not a JPEG, PNG or WebP image");
    await expect(media.fetchPublicMedia("provider", `${internalOrigin}/secret`, "video")).rejects.toThrow("is not an https URL");
    await expect(media.fetchPublicMedia("provider", "https://10.0.0.1/a.mp4", "video")).rejects.toThrow("https://10.0.0.1 is not a public address");
    const ok = await media.readPublicMedia("provider", `${origin}/to-ok`, "video");
    expect(ok).toMatchObject({ type: "video/mp4" });
    expect(ok.bytes.length).toBe(mp4Head.length + 1000);
  });
});

describe("webhook floods and dangling characters", () => {
  it("50 webhooks for one waiting task cause at most one provider re-check per few seconds", async () => {
    await simKnobs({ webhook_drop_rate: 1, latency_ms: { kling: 6000 } });
    const user = await newUser();
    const id = (await call(user.token, "POST", "generations", { idea: "a flood of webhooks" })).body.generation.id;
    const waiting = await waitForTask(id, "video", ["waiting"]);
    await new Promise((r) => setTimeout(r, 200)); // the step's own check right after submitting is done
    const before = (await simStats()).stats.task_result_requests ?? 0;
    const event = { event_type: "ASYNC_TASK_RESULT", payload: { task: { task_id: waiting.provider_task_id, status: "TASK_STATUS_SUCCEED" } } };
    const answers = await Promise.all(Array.from({ length: 50 }, () => call(null, "POST", `handle-novita-webhook?token=${waiting.webhook_token}`, event)));
    expect(answers.every((a) => a.status === 200)).toBe(true);
    await new Promise((r) => setTimeout(r, 500));
    expect(((await simStats()).stats.task_result_requests ?? 0) - before).toBeLessThanOrEqual(1);
    await call(user.token, "POST", `generations/${id}/cancel`);
    await resetSims();
  });

  it("a character pointing at an image that does not exist is refused, and nothing is stored", async () => {
    const user = await newUser();
    const res = await call(user.token, "POST", "anime-video/characters", { name: "Ghost", reference_image_path: `${user.id}/missing.png` });
    expect(res).toMatchObject({ status: 404, body: { error: { code: "NOT_FOUND" } } });
    expect((await sql`select count(*)::int as n from public.characters where user_id = ${user.id}`)[0].n).toBe(0);
  });
});
