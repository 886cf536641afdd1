// The unified generation endpoints: status for every pipeline, the public gallery, and
// the one webhook entry for all providers.
import { asUser } from "../db.ts";
import { AppError } from "../errors.ts";
import { functionApp, parseId, requireUser } from "../http.ts";
import { signedUrl } from "../storage.ts";
import { providerWebhook } from "./tasks.ts";

const CONTRACT_STATUS: Record<string, string> = {
  queued: "pending", running: "processing", completed: "completed", failed: "failed", canceled: "failed",
};

export function generationApp() {
  const app = functionApp("generation");

  app.post("/webhook", providerWebhook);

  app.get("/status/:id", requireUser, async (c) => {
    const id = parseId(c.req.param("id"));
    const [g] = await asUser(c.get("claims"), (sql) => sql`
      select id, status, progress, outputs ->> 'video_path' as video_path, error_message, credits_charged,
             (select count(*) from public.generation_events e where e.generation_id = g.id and e.step is not null and e.status = 'running') as runs
      from public.generations g where id = ${id}`);
    if (!g) throw new AppError("NOT_FOUND", "Generation not found");
    const video = g.status === "completed" && g.video_path ? await signedUrl("outputs", g.video_path) : null;
    return c.json({
      uuid: g.id,
      status: g.status === "running" && Number(g.runs) === 0 ? "pending" : CONTRACT_STATUS[g.status],
      progress: g.progress,
      results: video ? [{ image_url: video, video_url: video }] : [],
      error_message: g.status === "failed" || g.status === "canceled" ? g.error_message : null,
      credits_used: g.credits_charged,
    });
  });

  app.get("/gallery", requireUser, async (c) => {
    const limit = Math.min(Math.max(Number(c.req.query("limit") ?? 20) || 20, 1), 100);
    const rows = await asUser(c.get("claims"), (sql) => sql`
      select id, pipeline, video_path, completed_at from public.public_gallery(${limit})`);
    const items = await Promise.all(rows.map(async (r) => ({
      uuid: r.id, pipeline: r.pipeline, completed_at: r.completed_at, video_url: await signedUrl("outputs", r.video_path),
    })));
    return c.json({ success: true, data: items });
  });
  return app;
}
