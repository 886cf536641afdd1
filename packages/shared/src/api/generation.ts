// The unified generation endpoints: status for every pipeline, the public gallery, and
// the one webhook entry for all providers.
import { asUser } from "../db.ts";
import { AppError } from "../errors.ts";
import { functionApp, parseId, requireUser } from "../http.ts";
import { signedUrl } from "../storage.ts";
import { providerWebhook } from "./tasks.ts";

import { z } from "zod";
import { csvOf, cursorId, nextCursor, pageQuery, validate } from "../http.ts";
import { PIPELINES } from "../status.ts";

// The contract's four words, from the API's vocabulary (README: status vocabularies): a
// run is pending until its first provider step starts, and a canceled run reads as failed
// there; `state` carries the API's own word, canceled included.
function contractStatus(state: string, started: boolean): string {
  if (state === "queued" || (state === "processing" && !started)) return "pending";
  return state === "canceled" ? "failed" : state;
}

export const galleryQuery = z.strictObject({ ...pageQuery, pipeline: z.enum(PIPELINES).optional() });

export function generationApp() {
  const app = functionApp("generation");

  app.post("/webhook", providerWebhook);

  app.get("/status/:id", requireUser, async (c) => {
    const id = parseId(c.req.param("id"));
    const [g] = await asUser(c.get("claims"), (sql) => sql`
      select id, app.api_status(status::text) as state, progress, outputs ->> 'video_path' as video_path,
             coalesce(outputs ->> 'poster_path', outputs ->> 'merged_image_path', outputs ->> 'base_image_path') as poster_path,
             error_message, credits_charged,
             exists (select from public.generation_events e where e.generation_id = g.id and e.step is not null and e.status = 'running') as started
      from public.generations g where id = ${id}`);
    if (!g) throw new AppError("NOT_FOUND", "Generation not found");
    const done = g.state === "completed" && g.video_path;
    return c.json({
      uuid: g.id,
      status: contractStatus(g.state, g.started),
      state: g.state,
      progress: g.progress,
      // The seed's example put the MP4 in image_url: each field holds what it names.
      results: done ? [{ video_url: await signedUrl("outputs", g.video_path), poster_url: g.poster_path ? await signedUrl("outputs", g.poster_path) : null }] : [],
      error_message: g.state === "failed" || g.state === "canceled" ? g.error_message : null,
      credits_used: g.credits_charged,
    });
  });

  app.get("/gallery", requireUser, async (c) => {
    const q = validate(galleryQuery, c.req.query());
    const rows = await asUser(c.get("claims"), (sql) => sql`
      select id, pipeline, video_path, poster_path, completed_at
      from public.public_gallery(${q.limit + 1}, ${cursorId(q.cursor)}, ${q.pipeline ?? null})`);
    const items = await Promise.all(rows.slice(0, q.limit).map(async (r) => ({
      uuid: r.id, pipeline: r.pipeline, completed_at: r.completed_at, video_url: await signedUrl("outputs", r.video_path),
      poster_url: r.poster_path ? await signedUrl("outputs", r.poster_path) : null,
    })));
    return c.json({ success: true, data: items, next_cursor: nextCursor(rows, q.limit) });
  });
  return app;
}
