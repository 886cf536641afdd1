// Caps that hold under concurrency and bad input that gets a catalog 4xx, not a 500 (issue
// 26.8): the webhook endpoint cap raced, delivery fan-out per user, canonical URLs before the
// address check, a cursor decoding to NUL, concurrent retries of one scene, and the Realtime
// stand-in's channel and frame limits (hosted Realtime's).
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import ws from "ws";
import { call, env, newUser, resetSims, sql, waitFor } from "./helpers";
import { finished, generate, scene } from "./movie-helpers";

beforeAll(async () => {
  await resetSims();
});

describe("webhooks", () => {
  it("the 10-endpoint cap holds against 12 concurrent creates", async () => {
    const user = await newUser(0);
    const made = await Promise.all(Array.from({ length: 12 }, (_, i) =>
      call(user.token, "POST", "webhooks", { url: `https://93.184.216.34/hook${i}`, events: ["*"] })));
    expect(made.map((r) => r.status).sort()).toEqual([...Array(10).fill(201), 400, 400]);
    expect(made.find((r) => r.status === 400)!.body.error).toMatchObject({ code: "INVALID_REQUEST", message: "At most 10 webhook endpoints per user" });
    expect((await sql`select count(*)::int as n from engine.webhook_endpoints where user_id = ${user.id}`)[0].n).toBe(10);
  });

  it("an upper-case HTTPS:// URL is accepted and kept in its canonical form", async () => {
    const user = await newUser(0);
    const res = await call(user.token, "POST", "webhooks", { url: "HTTPS://93.184.216.34/Hook", events: ["*"] });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.url).toBe("https://93.184.216.34/Hook");
  });

  it("one user's deliveries hold at most 4 connections at once, whatever the fan-out", async () => {
    // A slow endpoint: it answers each delivery 200 ms after it arrives.
    let open = 0;
    let most = 0;
    let answered = 0;
    const receiver = http.createServer((req, res) => {
      most = Math.max(most, ++open);
      req.resume();
      setTimeout(() => {
        open--;
        answered++;
        res.writeHead(204).end();
      }, 200);
    });
    await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", r));
    try {
      const user = await newUser(0);
      // The most a user can fan out to: 10 endpoints, each listening to every event.
      for (let i = 0; i < 10; i++) {
        const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks${i}`;
        expect((await call(user.token, "POST", "webhooks", { url, events: ["*"] })).status).toBe(201);
      }
      await sql`select engine.enqueue_webhooks(${user.id}, 'generation.completed', jsonb_build_object('n', n)) from generate_series(1, 3) n`;
      await waitFor("30 deliveries answered", async () => answered >= 30, 60_000);
      expect(most, "most at once").toBeGreaterThanOrEqual(1);
      expect(most).toBeLessThanOrEqual(4);
      const [d] = await sql`select count(*) filter (where status = 'succeeded')::int as ok from engine.webhook_deliveries where user_id = ${user.id}`;
      expect(d.ok).toBe(30);
    } finally {
      receiver.close();
    }
  });
});

describe("user-supplied URLs", () => {
  it("a reference URL with a backslash is checked and forwarded in its WHATWG form", async () => {
    const user = await newUser(100_000);
    // WHATWG reads "\" as "/": host 93.184.216.34 (public), path /@127.0.0.1/a.png. Forwarded raw,
    // a parser that does not would read userinfo "93.184.216.34\" and host 127.0.0.1.
    const res = await call(user.token, "POST", "anime-video/create-task", { prompt: "p", model_id: "wan/2.5", reference_image_url: "https://93.184.216.34\\@127.0.0.1/a.png" });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const [g] = await sql`select inputs from public.generations where id = ${res.body.data.generation_uuid}`;
    expect(g.inputs.image_urls).toEqual(["https://93.184.216.34/@127.0.0.1/a.png"]);
  });

  it("a gallery cursor that decodes to NUL is a 400", async () => {
    const user = await newUser(0);
    for (const cursor of ["AA", "AAAA", "AA=="]) {
      const res = await call(user.token, "GET", `generation/gallery?cursor=${cursor}`);
      expect(res.status, cursor).toBe(400);
      expect(res.body.error).toMatchObject({ code: "INVALID_REQUEST", message: "cursor: not a cursor this list returned" });
    }
  });
});

describe("concurrent retries of one scene", () => {
  it("one wins; the others are told the task is already running; the movie completes once more", async () => {
    const user = await newUser(100_000);
    const created = await generate(user, { scenes: [scene("s1", { duration: 5 })] });
    expect((await finished(user, created.taskId)).status).toBe("completed");
    const retries = await Promise.all(Array.from({ length: 10 }, () =>
      call(user.token, "POST", `task/${created.taskId}/retry`, { segmentIds: ["s1"] })));
    const statuses = retries.map((r) => r.status);
    expect(statuses.filter((s) => s >= 500), "answers of 500").toEqual([]);
    expect(statuses.filter((s) => s === 200), JSON.stringify(retries.map((r) => r.body))).toHaveLength(1);
    for (const r of retries.filter((r) => r.status !== 200)) {
      expect(r.status).toBe(400);
      expect(r.body.error).toMatchObject({ code: "INVALID_REQUEST", message: expect.stringMatching(/^Only a failed or completed task can be retried; this one is (queued|running)$/) });
    }
    expect((await finished(user, created.taskId)).status).toBe("completed");
  });
});

describe("Realtime stand-in limits (hosted Realtime's)", () => {
  /** A raw socket speaking Phoenix vsn 1.0.0; `replies` collects phx_reply payloads by ref. */
  async function socket() {
    const s = new ws(`${env.API_URL.replace(/^http/, "ws")}/realtime/v1/websocket?apikey=${env.ANON_KEY}&vsn=1.0.0`);
    const replies = new Map<string, { status: string; response: Record<string, unknown> }>();
    s.on("message", (data) => {
      const f = JSON.parse(String(data));
      if (f.event === "phx_reply") replies.set(f.ref, f.payload);
    });
    await new Promise((resolve, reject) => s.once("open", resolve).once("error", reject));
    const join = (topic: string, ref: string) => s.send(JSON.stringify({ topic: `realtime:${topic}`, event: "phx_join", payload: { config: {} }, ref, join_ref: ref }));
    return { s, replies, join };
  }

  it("a connection joins at most 100 channels; the 101st is refused as hosted refuses it", async () => {
    const { s, replies, join } = await socket();
    try {
      for (let i = 1; i <= 101; i++) join(`public-topic-${i}`, String(i));
      const answered = await waitFor("101 join replies", async () => (replies.size >= 101 ? replies : null), 20_000);
      expect([...answered.values()].filter((r) => r.status === "ok")).toHaveLength(100);
      expect([...answered.values()].filter((r) => r.status === "error")).toEqual([{ status: "error", response: { reason: "ChannelRateLimitReached: Too many channels" } }]);
    } finally {
      s.close();
    }
  });

  it("a frame over 8 MB closes the socket with 1009 (message too big)", async () => {
    const { s } = await socket();
    const closed = new Promise<number>((resolve) => s.once("close", (code) => resolve(code)));
    s.send("x".repeat(16 * 1024 * 1024));
    expect(await closed).toBe(1009);
  });
});

afterAll(async () => {
  await resetSims();
});
