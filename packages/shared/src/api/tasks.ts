// Provider task endpoints: Novita's webhook (unsigned, so a per-task URL token) and the
// poll function that reconcile calls with due generation ids.
import { z } from "zod";
import { waitingGeneration } from "../engine.ts";
import { AppError } from "../errors.ts";
import { functionApp, parseBody, requireServiceRole } from "../http.ts";
import { inBackground } from "../steps/runner.ts";
import { checkTask } from "../steps/tasks.ts";

const novitaEvent = z.object({
  event_type: z.string(),
  payload: z.object({ task: z.object({ task_id: z.string() }).passthrough() }).passthrough(),
});

export function novitaWebhookApp() {
  const app = functionApp("handle-novita-webhook");
  app.post("/", async (c) => {
    const token = c.req.query("token") ?? "";
    if (!/^[0-9a-f]{48}$/.test(token)) throw new AppError("UNAUTHORIZED", "Unknown webhook token");
    const event = await parseBody(c, novitaEvent);
    if (event.event_type !== "ASYNC_TASK_RESULT") return c.json({ ok: true, ignored: "event type" });
    const w = await waitingGeneration({ webhookToken: token });
    // Late, duplicate or unknown: acknowledge, change nothing.
    if (!w || w.provider_task_id !== event.payload.task.task_id) return c.json({ ok: true, ignored: "no waiting task" });
    // The webhook is only a wake-up: the result is re-fetched before anything is trusted.
    const work = checkTask(w.id);
    if (!inBackground(work)) await work;
    return c.json({ ok: true });
  });
  return app;
}

const pollRequest = z.object({ generation_ids: z.array(z.string().uuid()).min(1).max(100) });

export function pollTaskApp() {
  const app = functionApp("poll-task");
  app.post("/", requireServiceRole, async (c) => {
    const { generation_ids } = await parseBody(c, pollRequest);
    const work = Promise.allSettled(generation_ids.map(checkTask));
    if (!inBackground(work)) await work;
    return c.json({ polling: generation_ids.length }, 202);
  });
  return app;
}
