// The client-facing API: create, get, list, cancel, retry. Every SQL call runs as the
// signed-in user, so the database's owner checks and RLS decide what they may see.
import { z } from "zod";
import { asUser } from "../db.ts";
import type { GenerationRow } from "../engine.ts";
import { AppError } from "../errors.ts";
import { csvOf, cursorId, functionApp, idempotencyKey, nextCursor, pageQuery, parseBody, parseId, requireUser, validate } from "../http.ts";
import { API_STATUSES, type ApiStatus, PIPELINES } from "../status.ts";
import { removeFolder, signedUrl } from "../storage.ts";

type Row = Pick<GenerationRow, "id" | "user_id" | "pipeline" | "step" | "progress" | "error_code" | "error_message" |
  "credits_charged" | "credits_refunded" | "visibility" | "created_at" | "updated_at" | "completed_at"> & {
  status: ApiStatus;
  inputs: Record<string, unknown>;
  outputs: Record<string, any>;
  queue_position: number | null;
  credits_held: number;
  live: ProgressView;
};

/** Progress as every channel shows it (SQL app.progress_view, also in the Realtime broadcasts):
 * the percent, a revision that grows with each change (keep the view with the highest), the
 * phase and its label, and the estimated seconds left. */
export type ProgressView = { progress: number; revision: number; phase: string; phaseLabel: string; etaSeconds: number | null };

export const cinematicRequest = z.strictObject({
  idea: z.string().trim().min(3, "must be at least 3 characters").max(1000),
  duration: z.union([z.literal(5), z.literal(10)]).default(5),
  aspect_ratio: z.enum(["9:16", "16:9", "1:1"]).default("9:16"),
  selfie_path: z.string().min(1).max(512).regex(/^[0-9a-f-]{36}\/[\w./-]+$/, "must be <your user id>/<file> in the selfies bucket")
    .refine((p) => !p.includes(".."), "must not contain ..").optional(),
  visibility: z.enum(["public", "private"]).default("private"),
});

export const listQuery = z.strictObject({
  ...pageQuery,
  status: csvOf(API_STATUSES).optional(),
  pipeline: csvOf(PIPELINES).optional(),
});

async function urlOf(path: unknown) {
  return typeof path === "string" ? await signedUrl("outputs", path) : null;
}

/** What a client sees of a generation: signed URLs (only once it completed), never provider
 * URLs or tokens. */
export async function generationView(row: Row) {
  const { script } = row.outputs;
  const done = row.status === "completed";
  return {
    id: row.id,
    pipeline: row.pipeline,
    status: row.status,
    step: row.step,
    progress: row.progress,
    progress_revision: row.live.revision,
    phase: row.live.phase,
    phase_label: row.live.phaseLabel,
    eta_seconds: row.live.etaSeconds,
    queue_position: row.queue_position,
    inputs: row.inputs,
    script: script ?? null,
    video_url: done ? await urlOf(row.outputs.video_path) : null,
    base_image_url: done ? await urlOf(row.outputs.base_image_path) : null,
    merged_image_url: done ? await urlOf(row.outputs.merged_image_path) : null,
    error: row.error_code ? { code: row.error_code, message: row.error_message } : null,
    // reserved: what this run holds now (0 once it ended: the rest went back to the balance).
    credits: { reserved: row.credits_held, charged: row.credits_charged, refunded: row.credits_refunded },
    visibility: row.visibility,
    created_at: row.created_at,
    updated_at: row.updated_at,
    completed_at: row.completed_at,
  };
}

/** The credits a run's reservation still holds: this round's reservation less its captures
 * while it runs; 0 once it ended (the rest was released). SQL over a generations row `g`. */
export const CREDITS_HELD = `case when g.status in ('queued', 'running') then g.credits_reserved - (select coalesce(sum(l.amount), 0)::integer
    from public.credit_ledger l where l.generation_id = g.id and l.billing_round = g.billing_round and l.kind = 'capture')
  else 0 end`;

// The status in the API's vocabulary; a queued run's place among its owner's queued runs
// (1 = next to start); the credits it holds.
const COLUMNS = `id, user_id, pipeline, app.api_status(status::text) as status, step, progress, inputs, outputs, error_code,
  error_message, credits_charged, credits_refunded, visibility, created_at, updated_at, completed_at,
  case when status = 'queued' then (select count(*)::integer from public.generations q
    where q.user_id = g.user_id and q.status = 'queued' and q.created_at <= g.created_at) end as queue_position,
  ${CREDITS_HELD} as credits_held, app.progress_view(g) as live`;

export function generationsApp() {
  const app = functionApp("generations");
  app.use("*", requireUser);

  app.post("/", async (c) => {
    const body = await parseBody(c, cinematicRequest);
    const claims = c.get("claims");
    if (body.selfie_path && !body.selfie_path.startsWith(`${claims.sub}/`)) {
      throw new AppError("FORBIDDEN", "selfie_path must be in your own folder of the selfies bucket");
    }
    const { visibility, ...inputs } = body;
    const key = idempotencyKey(c);
    const [row] = await asUser(claims, (sql) => sql<Row[]>`
      select ${sql.unsafe(COLUMNS)} from app.create_generation('cinematic', ${sql.json(inputs)}, ${key}, ${visibility}) g`);
    return c.json({ generation: await generationView(row) }, 201);
  });

  // Newest first, a page at a time: `cursor` (the last page's next_cursor) continues after it.
  app.get("/", async (c) => {
    const q = validate(listQuery, c.req.query());
    const after = cursorId(q.cursor);
    const rows = await asUser(c.get("claims"), (sql) => sql<Row[]>`
      select ${sql.unsafe(COLUMNS)} from public.generations g
      where user_id = ${c.get("claims").sub!}
        and (${q.status ?? null}::text[] is null or app.api_status(status::text) = any(${q.status ?? null}::text[]))
        and (${q.pipeline ?? null}::text[] is null or pipeline::text = any(${q.pipeline ?? null}::text[]))
        and (${after}::uuid is null or (created_at, id) < (select a.created_at, a.id from public.generations a where a.id = ${after}))
      order by created_at desc, id desc limit ${q.limit + 1}`);
    return c.json({ generations: await Promise.all(rows.slice(0, q.limit).map(generationView)), next_cursor: nextCursor(rows, q.limit) });
  });

  app.get("/:id", async (c) => {
    const id = parseId(c.req.param("id"));
    const [row] = await asUser(c.get("claims"), (sql) => sql<Row[]>`
      select ${sql.unsafe(COLUMNS)} from public.generations g where id = ${id} and user_id = ${c.get("claims").sub!}`);
    if (!row) throw new AppError("NOT_FOUND", "Generation not found");
    const [tasks, events] = await asUser(c.get("claims"), (sql) => Promise.all([
      sql`select * from app.generation_tasks(${id})`,
      sql`select app.api_status(status) as status, step, task_index, attempt, progress, message, created_at from public.generation_events
          where generation_id = ${id} order by id`,
    ]));
    return c.json({ generation: { ...(await generationView(row)), tasks }, events });
  });

  for (const action of ["cancel", "retry"] as const) {
    app.post(`/:id/${action}`, async (c) => {
      const id = parseId(c.req.param("id"));
      const [row] = await asUser(c.get("claims"), (sql) => sql<Row[]>`
        select ${sql.unsafe(COLUMNS)} from ${sql.unsafe(`app.${action}_generation`)}(${id}) g`);
      if (row.status === "canceled") await removeFolder("outputs", row.id);
      return c.json({ generation: await generationView(row) });
    });
  }
  return app;
}
