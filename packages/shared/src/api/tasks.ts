// Provider task endpoints: webhooks (Novita's unsigned, with a per-task URL token; kie's
// optionally HMAC-signed) and the poll function that reconcile calls with due ids. Every
// path ends in checkTask, which trusts only a freshly fetched result.
import type { Context } from "hono";
import { z } from "zod";
import { config } from "../config.ts";
import { webhookTask } from "../engine.ts";
import { AppError } from "../errors.ts";
import { type Env, functionApp, parseBody, requireServiceRole } from "../http.ts";
import { constantTimeEqual } from "../jwt.ts";
import { callbackSignature } from "../providers/kie.ts";
import { inBackground } from "../steps/runner.ts";
import { checkProviderTask, checkTask } from "../steps/tasks.ts";

// Any event is acknowledged (2xx), as Novita asks: only ASYNC_TASK_RESULT with a task id wakes anything.
const novitaEvent = z.object({
  event_type: z.string(),
  payload: z.object({ task: z.object({ task_id: z.string().optional() }).passthrough().nullish() }).passthrough().nullish(),
});
const kieCallback = z.object({
  code: z.number().optional(),
  data: z.object({ taskId: z.string().optional(), task_id: z.string().optional() }).passthrough(),
}).passthrough();
const webhookBody = z.union([novitaEvent, kieCallback]);

const MAX_SIGNATURE_AGE_S = 300;

function tokenOf(c: Context): string {
  const token = c.req.query("token") ?? "";
  if (!/^[0-9a-f]{48}$/.test(token)) throw new AppError("UNAUTHORIZED", "Unknown webhook token");
  return token;
}

/** Re-checks the task waiting on this provider task (at most once per few seconds however
 * many webhooks arrive); late, duplicate or unknown deliveries are acknowledged and change nothing. */
async function wake(token: string, provider: string, taskId: string) {
  const t = await webhookTask(token, provider, taskId);
  if (!t || t.provider !== provider || t.provider_task_id !== taskId) return { ignored: "no waiting task, or checked just now" };
  const work = checkProviderTask(t);
  if (!inBackground(work)) await work;
  return {};
}

async function novita(c: Context, event: z.infer<typeof novitaEvent>) {
  const token = tokenOf(c);
  if (event.event_type !== "ASYNC_TASK_RESULT") return { ignored: "event type" };
  const taskId = event.payload?.task?.task_id;
  if (!taskId) return { ignored: "no task" };
  return await wake(token, "novita", taskId);
}

async function verifyKieSignature(c: Context, taskId: string) {
  const key = config().KIE_WEBHOOK_HMAC_KEY;
  if (!key) return;
  const ts = c.req.header("x-webhook-timestamp") ?? "";
  const sig = c.req.header("x-webhook-signature") ?? "";
  const age = Math.abs(Date.now() / 1000 - Number(ts));
  const valid = constantTimeEqual(sig, await callbackSignature(key, taskId, ts));
  if (!/^\d+$/.test(ts) || !(age <= MAX_SIGNATURE_AGE_S) || !valid) {
    throw new AppError("UNAUTHORIZED", "The callback signature is missing, wrong or too old");
  }
}

async function kie(c: Context, callback: z.infer<typeof kieCallback>) {
  const taskId = callback.data.taskId ?? callback.data.task_id;
  if (!taskId) throw new AppError("INVALID_REQUEST", "data.taskId is required");
  await verifyKieSignature(c, taskId);
  return await wake(tokenOf(c), "kie", taskId);
}

/** One callback entry for all providers (POST /generation/webhook). */
export async function providerWebhook(c: Context<Env>) {
  const body = await parseBody(c, webhookBody);
  const outcome = "event_type" in body ? await novita(c, body as z.infer<typeof novitaEvent>) : await kie(c, body as z.infer<typeof kieCallback>);
  return c.json({ code: 200, msg: "success", ...outcome });
}

export function novitaWebhookApp() {
  const app = functionApp("handle-novita-webhook");
  app.post("/", async (c) => c.json({ ok: true, ...(await novita(c, await parseBody(c, novitaEvent))) }));
  return app;
}

const pollRequest = z.object({ task_ids: z.array(z.union([z.string().regex(/^\d{1,19}$/), z.number().int().positive()])).min(1).max(100) });

export function pollTaskApp() {
  const app = functionApp("poll-task");
  app.post("/", requireServiceRole, async (c) => {
    const { task_ids } = await parseBody(c, pollRequest);
    const work = Promise.allSettled(task_ids.map((id) => checkTask(String(id))));
    if (!inBackground(work)) await work;
    return c.json({ polling: task_ids.length }, 202);
  });
  return app;
}
