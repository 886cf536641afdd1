// Signed outbound webhooks end to end: an app backend's receiver on 127.0.0.1 (allowed on the
// local stack only) gets each event signed as Standard Webhooks says, retried with backoff
// while it fails, every attempt logged; secrets rotate; deliveries replay.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { verifyWebhook } from "../packages/client/src/index";
import { call, newUser, resetSims, sql, type TestUser, waitFor, waitForStatus } from "./helpers";

type Received = { headers: Record<string, string>; body: string };
const received: Received[] = [];
let failNext = 0;
let receiver: http.Server;
let url = "";

beforeAll(async () => {
  receiver = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      received.push({ headers: req.headers as Record<string, string>, body });
      res.writeHead(failNext-- > 0 ? 500 : 204).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", r));
  url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`;
  // The backoff schedule (5 s, 5 min, 30 min, ...) a thousand times faster.
  await sql`update engine.settings set webhook_retry_scale = 0.001`;
});

afterAll(async () => {
  await sql`update engine.settings set webhook_retry_scale = 1`;
  receiver.close();
});

beforeEach(async () => {
  await resetSims();
  received.length = 0;
  failNext = 0;
});

async function register(user: TestUser, events: string[]) {
  const res = await call(user.token, "POST", "webhooks", { url, events });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { id: string; secret: string };
}

async function cinematic(user: TestUser) {
  const res = await call(user.token, "POST", "generations", { idea: "a paper boat sails a rain gutter" });
  expect(res.status).toBe(201);
  return res.body.generation.id as string;
}

/** The events received for generation `id`, once `count` of them arrived. */
const eventsFor = (id: string, count = 1) =>
  waitFor(`${count} webhook(s) for ${id}`, async () => {
    const mine = received.filter((r) => r.body.includes(id));
    return mine.length >= count ? mine : null;
  });

describe("outbound webhooks", () => {
  it("an endpoint gets generation.completed signed with its secret, shown once", async () => {
    const user = await newUser(1000);
    const endpoint = await register(user, ["generation.completed", "generation.failed"]);
    expect(endpoint.secret).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
    const listed = (await call(user.token, "GET", "webhooks")).body.endpoints;
    expect(listed).toEqual([expect.objectContaining({ id: endpoint.id, url, events: ["generation.completed", "generation.failed"] })]);
    expect(JSON.stringify(listed)).not.toContain(endpoint.secret);

    const id = await cinematic(user);
    await waitForStatus(id, ["completed"]);
    const [hook] = await eventsFor(id);
    expect(hook.headers["webhook-id"]).toMatch(/^msg_[0-9a-f]{32}$/);
    expect(hook.headers["webhook-signature"]).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    const event = await verifyWebhook(hook.body, hook.headers, endpoint.secret);
    expect(event).toMatchObject({ type: "generation.completed", data: { id, pipeline: "cinematic", status: "completed", error: null } });
  });

  it("retries a failing endpoint with backoff, logging every attempt, until it answers 2xx", async () => {
    const user = await newUser(1000);
    const endpoint = await register(user, ["*"]);
    failNext = 2;
    const id = await cinematic(user);
    await waitForStatus(id, ["completed"]);
    const hooks = await eventsFor(id, 3);
    expect(new Set(hooks.map((h) => h.headers["webhook-id"])).size).toBe(1);
    const deliveries = await waitFor("the delivery to succeed", async () => {
      const d = (await call(user.token, "GET", `webhooks/${endpoint.id}/deliveries`)).body.deliveries;
      return d[0]?.status === "succeeded" ? d : null;
    });
    expect(deliveries).toHaveLength(1);
    expect(deliveries[0]).toMatchObject({ event: "generation.completed", attempt: 3, messageId: hooks[0].headers["webhook-id"] });
    expect(deliveries[0].attempts.map((a: { responseStatus: number }) => a.responseStatus)).toEqual([500, 500, 204]);
    expect(deliveries[0].attempts[0].error).toBe("HTTP 500");
  });

  it("rotates the secret and replays a delivery with the same webhook-id", async () => {
    const user = await newUser(1000);
    const endpoint = await register(user, ["generation.completed"]);
    const rotated = (await call(user.token, "POST", `webhooks/${endpoint.id}/rotate`)).body;
    expect(rotated.secret).not.toBe(endpoint.secret);
    const id = await cinematic(user);
    await waitForStatus(id, ["completed"]);
    const [first] = await eventsFor(id);
    await expect(verifyWebhook(first.body, first.headers, endpoint.secret)).rejects.toThrow();
    await verifyWebhook(first.body, first.headers, rotated.secret);

    const [delivery] = (await call(user.token, "GET", `webhooks/${endpoint.id}/deliveries`)).body.deliveries;
    const replay = await call(user.token, "POST", `webhooks/deliveries/${delivery.id}/replay`);
    expect(replay.status).toBe(201);
    const [, again] = await eventsFor(id, 2);
    expect(again.headers["webhook-id"]).toBe(first.headers["webhook-id"]);
    await verifyWebhook(again.body, again.headers, rotated.secret);
  });

  it("a movie's segments are announced as they complete", async () => {
    const user = await newUser(2000);
    await register(user, ["segment.completed"]);
    const res = await call(user.token, "POST", "video/generate", { projectName: "hooks", scenes: [
      { id: "first", prompt: "a lantern", duration: 5 }, { id: "second", prompt: "a kite", duration: 5 }] });
    expect(res.status).toBe(201);
    const hooks = await eventsFor(res.body.taskId, 2);
    const ids = hooks.map((h) => JSON.parse(h.body).data.segment_id).sort();
    expect(ids).toEqual(["first", "second"]);
    expect(hooks.every((h) => JSON.parse(h.body).type === "segment.completed")).toBe(true);
  });

  it("refuses endpoints that are not https at a public address, and hides one user's from another", async () => {
    const user = await newUser(0);
    for (const [bad, says] of [["http://example.com/hook", "https"], ["https://10.0.0.1/hook", "public address"], ["https://[::1]/hook", "public address"],
                               ["https://user:pw@example.com/hook", "credentials"]]) {
      const res = await call(user.token, "POST", "webhooks", { url: bad, events: ["generation.completed"] });
      expect(res.body.error, bad).toMatchObject({ code: "INVALID_REQUEST", message: expect.stringContaining(says) });
    }
    expect((await call(user.token, "POST", "webhooks", { url, events: ["video.exploded"] })).body.error.code).toBe("INVALID_REQUEST");
    const endpoint = await register(user, ["generation.completed"]);
    const other = await newUser(0);
    for (const [method, path] of [["POST", `webhooks/${endpoint.id}/rotate`], ["GET", `webhooks/${endpoint.id}/deliveries`], ["DELETE", `webhooks/${endpoint.id}`]]) {
      expect((await call(other.token, method, path)).body.error.code, path).toBe("NOT_FOUND");
    }
    expect((await call(other.token, "GET", "webhooks")).body.endpoints).toEqual([]);
    expect((await call(user.token, "DELETE", `webhooks/${endpoint.id}`)).body).toEqual({ deleted: endpoint.id });
  });
});
