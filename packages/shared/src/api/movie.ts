// MovieFlow's API (seed 002) with /api/v1 as /functions/v1: `video` (generate, segment,
// quote) and `task` (status, retry, cancel). Field names and shapes are the seed's.
import type { Context } from "hono";
import { z } from "zod";
import { asUser } from "../db.ts";
import type { GenerationRow } from "../engine.ts";
import { AppError } from "../errors.ts";
import { conditionalJson, type Env, functionApp, idempotencyKey, parseBody, parseId, requireUser } from "../http.ts";
import type { JwtClaims } from "../jwt.ts";
import { estimatedSeconds, type MovieInputs, movieInputs, segmentInputs, segmentRequest, type SegmentRequest } from "../movie.ts";
import { downloadObject, removeFolder, signedUrl } from "../storage.ts";
import { editedAsset, editRequest } from "./assets.ts";
import { CREDITS_HELD, type ProgressView } from "./generations.ts";
import { fileResolver } from "./files.ts";
import { planRoutes } from "./plan.ts";
import { resolveSpec, templateRoutes } from "./templates.ts";

type Run = Pick<GenerationRow, "id" | "status" | "step" | "progress" | "error_code" | "error_message" | "credits_reserved" |
  "credits_charged" | "credits_refunded" | "created_at" | "updated_at" | "completed_at" | "pipeline"> & {
  batch_id: string | null;
  /** When the run or one of its tasks last changed (read answers only): what they depend on. */
  changed_at?: string;
  /** What its reservation holds now (read answers only). */
  credits_held?: number;
  /** Progress as every channel shows it (read answers only): app.progress_view. */
  live?: ProgressView;
  inputs: MovieInputs;
  outputs: Record<string, unknown>;
};
type Segment = {
  task_index: number; scene_id: string; status: string; progress: number; attempt: number;
  error_code: string | null; error_message: string | null; video_path: string | null; duration: string | null;
};
type Event = { step: string | null; task_index: number | null; status: string; attempt: number; message: string | null; created_at: string };

const RUN_COLUMNS = `id, pipeline, batch_id, status, step, progress, inputs, outputs, error_code, error_message, credits_reserved,
  credits_charged, credits_refunded, created_at, updated_at, completed_at`;
/** Reads only: a run created in the same statement is not in a stable function's snapshot. */
const READ_COLUMNS = `${RUN_COLUMNS}, app.run_changed_at(id) as changed_at, ${CREDITS_HELD} as credits_held, app.progress_view(g) as live`;

/** The seed's status vocabulary: a running movie is processing, then merging. */
export function movieStatus(run: Pick<Run, "status" | "step">): string {
  if (run.status === "running") return run.step === "merge" ? "merging" : "processing";
  return run.status;
}

const PHASES: Record<string, string> = { queued: "queued", processing: "generating_segments", merging: "merging" };

async function create(c: Context<Env>, inputs: MovieInputs): Promise<Run> {
  const [row] = await asUser(c.get("claims"), (sql) => sql<Run[]>`
    select ${sql.unsafe(RUN_COLUMNS)} from app.create_generation('movie', ${sql.json(inputs)}, ${idempotencyKey(c)}, 'private')`);
  return row;
}

/** The movie a body asks for: a spec or a template, its files resolved. */
async function movieFromBody(claims: JwtClaims, json: unknown): Promise<MovieInputs> {
  return await movieInputs(fileResolver(claims), await resolveSpec(claims, json));
}

const jsonBody = z.record(z.string(), z.unknown());

async function ownRun(c: Context<Env>, id: string): Promise<Run> {
  const [row] = await asUser(c.get("claims"), (sql) => sql<Run[]>`
    select ${sql.unsafe(READ_COLUMNS)} from public.generations g where id = ${id} and pipeline = 'movie'`);
  if (!row) throw new AppError("NOT_FOUND", "Task not found");
  return row;
}

/** One line of the task's log per event, in words. */
function logLine(inputs: MovieInputs, e: Event) {
  const scene = (list: { scene_id?: string; id?: string }[]) => {
    const item = list[e.task_index ?? 0];
    return item?.scene_id ?? item?.id ?? "?";
  };
  const what = e.step === null ? "Task"
    : e.step === "segment" ? `Scene ${scene(inputs.scenes)}`
    : e.step === "normalize" ? `Scene ${scene(inputs.scenes)} normalisation`
    : e.step === "scene_image" ? `Scene image of ${scene(inputs.scene_images)}`
    : e.step === "narration" ? `Narration of ${scene(inputs.narrations)}`
    : "Merge";
  const verb: Record<string, string> = {
    retry_requested: "retry requested", queued: e.message ? "will be retried" : "queued", running: e.step ? "started" : "processing", waiting: "generating at Jimeng",
    completed: "completed", failed: "failed", canceled: "canceled",
  };
  const level = e.status === "failed" ? "error" : e.status === "queued" && e.message ? "warn" : "info";
  const message = `${what} ${verb[e.status] ?? e.status}${e.attempt > 1 ? ` (attempt ${e.attempt})` : ""}${e.message ? `: ${e.message}` : ""}`;
  return { timestamp: e.created_at, level, message };
}

const signed = (path: unknown) => (typeof path === "string" ? signedUrl("outputs", path) : Promise.resolve(null));

async function taskView(c: Context<Env>, run: Run) {
  const [segments, events, [{ metrics }]] = await asUser(c.get("claims"), (sql) => Promise.all([
    sql<Segment[]>`select * from app.movie_segments(${run.id})`,
    sql<Event[]>`select step, task_index, status, attempt, message, created_at from public.generation_events
                 where generation_id = ${run.id} order by id`,
    sql<{ metrics: Record<string, unknown> }[]>`select app.task_metrics(${run.id}) as metrics`,
  ]));
  const status = movieStatus(run);
  const done = run.status === "completed";
  return {
    taskId: run.id,
    projectName: run.inputs.project_name,
    status,
    progress: run.progress,
    currentPhase: PHASES[status] ?? status,
    phaseLabel: run.live?.phaseLabel ?? null,
    estimatedTimeLeft: run.live?.etaSeconds ?? null,
    progressRevision: run.live?.revision ?? null,
    segments: await Promise.all(segments.map(async (s) => ({
      id: s.scene_id,
      status: s.status,
      progress: s.progress,
      attempt: s.attempt,
      videoUrl: s.status === "completed" ? await signed(s.video_path) : null,
      duration: s.duration === null ? null : Number(s.duration),
      error: s.error_code ? { code: s.error_code, message: s.error_message } : null,
    }))),
    videoUrl: done ? await signed(run.outputs.video_path) : null,
    posterUrl: done ? await signed(run.outputs.poster_path) : null,
    duration: done ? run.outputs.seconds ?? null : null,
    error: run.error_code ? { code: run.error_code, message: run.error_message } : null,
    credits: { reserved: run.credits_held ?? run.credits_reserved, charged: run.credits_charged, refunded: run.credits_refunded },
    logs: events.map((e) => logLine(run.inputs, e)),
    metrics,
    batchId: run.batch_id,
    createdAt: run.created_at,
    updatedAt: run.updated_at,
    completedAt: run.completed_at,
  };
}

function segmentAnswer(run: Run) {
  const estimatedTime = estimatedSeconds(run.inputs);
  // The engine submits to Jimeng right after this answer: its task id is not known yet. The
  // seed's word for a segment accepted for generation is `submitted`.
  return run.inputs.scenes.map((s) => ({ taskId: run.id, segmentId: s.id, status: "submitted", volcanoTaskId: null, estimatedTime }));
}

export function videoApp() {
  const app = functionApp("video");
  app.use("*", requireUser);

  app.post("/generate", async (c) => {
    const inputs = await movieFromBody(c.get("claims"), await parseBody(c, jsonBody));
    return c.json(createdAnswer(await create(c, inputs)), 201);
  });

  // MovieFlow's batch_generate: every spec is checked and reserved in one transaction (all or
  // none), each becomes its own task; `parallel: false` runs them one after another.
  app.post("/batch", async (c) => {
    const claims = c.get("claims");
    const body = await parseBody(c, batchRequest);
    const all = await Promise.all(body.specs.map((spec, i) => inSpec(i, () => movieFromBody(claims, spec))));
    const key = idempotencyKey(c);
    const runs = await asUser(claims, async (sql) => {
      const [repeat] = key ? await sql<{ batch_id: string }[]>`select batch_id from public.generations where idempotency_key = ${`${key}:0`}` : [];
      const [batch] = repeat ? [{ id: repeat.batch_id }] : await sql<{ id: string }[]>`select id from app.create_batch(${body.parallel})`;
      const made: Run[] = [];
      for (const [i, inputs] of all.entries()) {
        const [run] = await sql<Run[]>`select ${sql.unsafe(RUN_COLUMNS)} from app.create_generation('movie', ${sql.json(inputs)},
          ${key && `${key}:${i}`}, 'private', ${batch.id})`;
        made.push(run);
      }
      return made;
    });
    return c.json({ batchId: runs[0].batch_id, parallel: body.parallel, tasks: runs.map(createdAnswer),
                    credits: runs.reduce((sum, r) => sum + r.credits_reserved, 0) }, 201);
  });

  // One call to follow a whole batch.
  app.get("/batch/:id", async (c) => {
    const id = parseId(c.req.param("id"));
    const runs = await asUser(c.get("claims"), (sql) => sql<Run[]>`
      select ${sql.unsafe(READ_COLUMNS)} from public.generations g where batch_id = ${id} order by created_at, id`);
    if (runs.length === 0) throw new AppError("NOT_FOUND", "Batch not found");
    const ended = runs.every((r) => ["completed", "failed", "canceled"].includes(r.status));
    return await conditionalJson(c, runs.map((r) => r.changed_at), ended, async () => batchView(id, runs));
  });

  app.post("/segment", async (c) => {
    const body = await parseBody(c, segmentRequest);
    const segments: SegmentRequest[] = body.batch ? body.segments : [body];
    const run = await create(c, await segmentInputs(fileResolver(c.get("claims")), segments));
    const answers = segmentAnswer(run);
    return c.json(body.batch ? { taskId: run.id, segments: answers } : answers[0], 201);
  });

  app.post("/quote", async (c) => {
    const inputs = await movieFromBody(c.get("claims"), await parseBody(c, jsonBody));
    const [q] = await asUser(c.get("claims"), (sql) => sql`select credits, explain from public.price_quote('movie', ${sql.json(inputs)})`);
    return c.json({ estimatedCredits: q.credits, explain: q.explain });
  });

  templateRoutes(app);
  planRoutes(app);
  return app;
}

function createdAnswer(run: Run) {
  return {
    taskId: run.id,
    projectName: run.inputs.project_name,
    status: movieStatus(run),
    estimatedTime: estimatedSeconds(run.inputs),
    segments: run.inputs.scenes.map((s) => ({ id: s.id, status: "queued", progress: 0 })),
    credits: run.credits_reserved,
    createdAt: run.created_at,
  };
}

const MAX_BATCH_SPECS = 10;
export const batchRequest = z.strictObject({
  specs: z.array(z.record(z.string(), z.unknown())).min(1).max(MAX_BATCH_SPECS, `at most ${MAX_BATCH_SPECS} specs per batch`),
  parallel: z.boolean().default(true),
});

/** Errors of one spec of a batch name it. */
async function inSpec<T>(i: number, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof AppError) throw new AppError(err.code, `specs.${i}: ${err.message}`, err.details);
    throw err;
  }
}

async function batchView(id: string, runs: Run[]) {
  const statuses = runs.map(movieStatus);
  const count = (s: string) => statuses.filter((x) => x === s).length;
  const active = statuses.some((s) => ["queued", "processing", "merging"].includes(s));
  return {
    batchId: id,
    status: active ? (statuses.some((s) => s !== "queued") ? "processing" : "queued") : count("completed") === runs.length ? "completed" : "failed",
    progress: Math.floor(runs.reduce((sum, r) => sum + r.progress, 0) / runs.length),
    counts: Object.fromEntries(["queued", "processing", "merging", "completed", "failed", "canceled"].map((s) => [s, count(s)])),
    tasks: await Promise.all(runs.map(async (r, i) => ({
      taskId: r.id, projectName: r.inputs.project_name, status: statuses[i], progress: r.progress,
      videoUrl: r.status === "completed" ? await signed(r.outputs.video_path) : null,
      error: r.error_code ? { code: r.error_code, message: r.error_message } : null,
    }))),
  };
}

export const retryRequest = z.strictObject({
  segmentIds: z.array(z.string().min(1).max(64)).max(6).default([]),
  reason: z.string().max(200).optional(),
});

export function taskApp() {
  const app = functionApp("task");
  app.use("*", requireUser);

  app.get("/:id", async (c) => {
    const run = await ownRun(c, parseId(c.req.param("id")));
    const ended = ["completed", "failed", "canceled"].includes(run.status);
    return await conditionalJson(c, [run.id, run.changed_at], ended, () => taskView(c, run));
  });

  app.post("/:id/retry", async (c) => {
    const run = await ownRun(c, parseId(c.req.param("id")));
    const { segmentIds, reason } = await parseBody(c, retryRequest);
    const indexes = segmentIds.map((id) => {
      const i = run.inputs.scenes.findIndex((s) => s.id === id);
      if (i < 0) throw new AppError("INVALID_REQUEST", `segmentIds: this task has no scene ${id}`);
      return i;
    });
    await asUser(c.get("claims"), async (sql) => {
      await (indexes.length ? sql`select from app.retry_segments(${run.id}, ${indexes})` : sql`select from app.retry_generation(${run.id})`);
      // Why the owner asked, in the task's logs.
      if (reason) await sql`select app.log_retry_reason(${run.id}, ${reason}, ${segmentIds})`;
    });
    return c.json(await taskView(c, await ownRun(c, run.id)));
  });

  // Edits a scene's first frame (its firstFrame, or the scene image made for it) into a new
  // asset that becomes the scene's first frame; retry the scene to regenerate it.
  app.post("/:id/scenes/:sceneId/edit", async (c) => {
    const claims = c.get("claims");
    const run = await ownRun(c, parseId(c.req.param("id")));
    const req = await parseBody(c, editRequest);
    const index = run.inputs.scenes.findIndex((s) => s.id === c.req.param("sceneId"));
    if (index < 0) throw new AppError("NOT_FOUND", `This task has no scene ${c.req.param("sceneId")}`);
    const [frame] = await asUser(claims, (sql) => sql<{ bucket: string; path: string }[]>`
      select bucket, path from app.scene_first_frame(${run.id}, ${index}) where path is not null`);
    if (!frame) throw new AppError("INVALID_REQUEST", `Scene ${run.inputs.scenes[index].id} has no image to edit yet: give it a firstFrame, or a sceneImage and wait until it is made`);
    // Refused before the paid edit when the scene cannot take it (app.set_scene_first_frame decides).
    if (!["completed", "failed"].includes(run.status)) {
      throw new AppError("INVALID_REQUEST", `A scene can be changed once the task has ended; this one is ${run.status}`);
    }
    const scene = run.inputs.scenes[index];
    const asset = await editedAsset(claims, await downloadObject(frame.bucket, frame.path), `${scene.id} first frame`, ["scene"], req);
    await asUser(claims, (sql) => sql`select from app.set_scene_first_frame(${run.id}, ${index}, ${asset.path})`);
    return c.json({ asset, scene: { id: scene.id, firstFrame: asset.id } }, 201);
  });

  app.delete("/:id", async (c) => {
    const run = await ownRun(c, parseId(c.req.param("id")));
    await asUser(c.get("claims"), (sql) => sql`select from app.cancel_generation(${run.id})`);
    await removeFolder("outputs", run.id);
    return c.json(await taskView(c, await ownRun(c, run.id)));
  });
  return app;
}
