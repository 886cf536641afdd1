// Outbound webhooks: `webhooks` (the user's endpoints: register, list, rotate the secret,
// delete, deliveries with every attempt, replay) and `webhook-deliver` (woken by the engine:
// posts due deliveries, signed as Standard Webhooks says, and reports each attempt).
import { z } from "zod";
import { newWebhookSecret, signWebhook } from "../../../client/src/webhooks.ts";
import { config } from "../config.ts";
import { asUser, db } from "../db.ts";
import { AppError } from "../errors.ts";
import { functionApp, parseBody, parseId, requireServiceRole, requireUser } from "../http.ts";
import { logError } from "../log.ts";
import { inBackground } from "../steps/runner.ts";
import { assertPublicHost } from "../urls.ts";

export const WEBHOOK_EVENTS = ["generation.completed", "generation.failed", "generation.canceled", "segment.completed", "*"] as const;

export const webhookRequest = z.strictObject({
  url: z.string().url().max(2000),
  events: z.array(z.enum(WEBHOOK_EVENTS)).min(1).max(WEBHOOK_EVENTS.length),
  description: z.string().max(200).default(""),
});

/** Only on the local stack: receivers on loopback over http (tests, a laptop's own server). */
const localReceiver = (url: URL) => config().REELFORGE_LOCAL_SIMULATORS === "1" && url.protocol === "http:" && url.hostname === "127.0.0.1";

/** An endpoint we may post to: https at a public address (checked again at every delivery). */
async function assertReceiver(raw: string) {
  const url = new URL(raw);
  if (localReceiver(url)) return url;
  if (url.protocol !== "https:") throw new AppError("INVALID_REQUEST", "url: a webhook endpoint must be an https URL");
  if (url.username || url.password) throw new AppError("INVALID_REQUEST", "url: must not carry credentials");
  await assertPublicHost(url.hostname, "url:");
  return url;
}

type Endpoint = { id: string; url: string; events: string[]; description: string; secret: string; created_at: string; rotated_at: string | null };

const endpointView = (e: Endpoint) =>
  ({ id: e.id, url: e.url, events: e.events, description: e.description, createdAt: e.created_at, rotatedAt: e.rotated_at });

const deliveryId = z.coerce.number().int().positive();

export function webhooksApp() {
  const app = functionApp("webhooks");
  app.use("*", requireUser);

  // The secret is shown here and at rotation only.
  app.post("/", async (c) => {
    const req = await parseBody(c, webhookRequest);
    // Stored and posted to in its canonical form (an upper-case "HTTPS://" used to fail the insert).
    const url = (await assertReceiver(req.url)).href;
    const [e] = await asUser(c.get("claims"), (sql) => sql<Endpoint[]>`
      select * from app.create_webhook(${url}, ${req.events}, ${req.description}, ${newWebhookSecret()})`);
    return c.json({ ...endpointView(e), secret: e.secret }, 201);
  });

  app.get("/", async (c) => {
    const rows = await asUser(c.get("claims"), (sql) => sql<Endpoint[]>`select * from app.list_webhooks()`);
    return c.json({ endpoints: rows.map(endpointView) });
  });

  // A new secret at once; deliveries signed from now on use it.
  app.post("/:id/rotate", async (c) => {
    const [e] = await asUser(c.get("claims"), (sql) => sql<Endpoint[]>`select * from app.rotate_webhook_secret(${parseId(c.req.param("id"), "Webhook endpoint")}, ${newWebhookSecret()})`);
    return c.json({ ...endpointView(e), secret: e.secret });
  });

  app.delete("/:id", async (c) => {
    const id = parseId(c.req.param("id"), "Webhook endpoint");
    await asUser(c.get("claims"), (sql) => sql`select from app.delete_webhook(${id})`);
    return c.json({ deleted: id });
  });

  app.get("/:id/deliveries", async (c) => {
    const rows = await asUser(c.get("claims"), (sql) => sql`select * from app.webhook_deliveries(${parseId(c.req.param("id"), "Webhook endpoint")})`);
    return c.json({
      deliveries: rows.map((d) => ({
        id: String(d.id), messageId: d.message_id, event: d.event, status: d.status, attempt: d.attempt, payload: d.payload,
        createdAt: d.created_at, completedAt: d.completed_at, attempts: d.attempts,
      })),
    });
  });

  app.post("/deliveries/:deliveryId/replay", async (c) => {
    const id = deliveryId.safeParse(c.req.param("deliveryId"));
    if (!id.success) throw new AppError("NOT_FOUND", "Webhook delivery not found");
    const [r] = await asUser(c.get("claims"), (sql) => sql`select app.replay_webhook_delivery(${id.data}) as id`);
    return c.json({ id: String(r.id), status: "pending" }, 201);
  });
  return app;
}

const DELIVERY_TIMEOUT_MS = 15_000;

type Due = { delivery_id: string; attempt: number; message_id: string; payload: unknown; url: string; secret: string };

/** One attempt: the signed POST; any 2xx is delivered, anything else (a redirect too) is not. */
async function attempt(d: Due) {
  const started = Date.now();
  const body = JSON.stringify(d.payload);
  const timestamp = Math.floor(Date.now() / 1000);
  let status: number | null = null;
  let error: string | null = null;
  try {
    await assertReceiver(d.url);
    const res = await fetch(d.url, {
      method: "POST",
      redirect: "manual",
      signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS),
      headers: {
        "content-type": "application/json",
        "user-agent": "reelforge-webhooks/1",
        "webhook-id": d.message_id,
        "webhook-timestamp": String(timestamp),
        "webhook-signature": await signWebhook(d.secret, d.message_id, timestamp, body),
      },
      body,
    });
    await res.body?.cancel();
    status = res.status;
    if (status < 200 || status > 299) error = `HTTP ${status}`;
  } catch (err) {
    error = err instanceof AppError ? err.message : `no answer: ${(err as Error).name === "TimeoutError" ? "timed out" : (err as Error).message}`;
  }
  await db()`select engine.finish_webhook_attempt(${d.delivery_id}, ${d.attempt}, ${error === null}, ${status}, ${error}, ${Date.now() - started})`;
}

/** Posts every due delivery, a batch at a time, until none is due. */
async function deliverDue() {
  for (;;) {
    const due = await db()<Due[]>`select * from engine.claim_webhook_deliveries(20)`;
    if (due.length === 0) return;
    await Promise.all(due.map((d) => attempt(d).catch((err) => logError("webhook-deliver", err))));
  }
}

export function webhookDeliverApp() {
  const app = functionApp("webhook-deliver");
  app.post("/", requireServiceRole, async (c) => {
    await db()`select engine.consume_wakeup('webhook-deliver')`;
    const work = deliverDue();
    if (!inBackground(work)) await work;
    return c.json({ delivering: true }, 202);
  });
  return app;
}
