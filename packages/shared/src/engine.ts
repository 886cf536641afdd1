// The functions' side of the engine: typed calls of the SQL worker API (engine schema).
// Row shapes come from the generated Database types.
import type { Database, Json } from "./database.types.ts";
import { db } from "./db.ts";

type EngineFns = Database["engine"]["Functions"];
export type GenerationRow = Database["public"]["Tables"]["generations"]["Row"];

/** A claimed task: what its handler needs (the run's inputs, its dependencies' outputs). */
// Task ids are bigint: postgres.js hands them over as strings.
export type Task = Omit<EngineFns["start_tasks"]["Returns"][number], "task_id" | "inputs" | "deps"> & {
  task_id: string;
  inputs: Record<string, unknown>;
  deps: Record<string, Record<string, unknown> | unknown[] | null>;
};

/** A task waiting on a provider task. */
export type ProviderTask = Omit<EngineFns["webhook_task"]["Returns"][number], "task_id"> & { task_id: string };

const json = (value: unknown) => db().json(value as Parameters<ReturnType<typeof db>["json"]>[0]);

export async function startTasks(handler: string, limit: number): Promise<Task[]> {
  return await db()<Task[]>`select * from engine.start_tasks(${handler}, ${limit})`;
}

export async function consumeWakeup(handler: string) {
  await db()`select engine.consume_wakeup(${handler})`;
}

/** When this function's next queued task is due (a backoff or a capacity wait), if any. */
export async function nextDue(handler: string): Promise<Date | null> {
  const [r] = await db()`select engine.next_due(${handler}) as at`;
  return r.at;
}

export async function heartbeat(t: Task): Promise<boolean> {
  const [r] = await db()`select engine.heartbeat(${t.task_id}, ${t.lease_token}) as ok`;
  return r.ok;
}

/** Says, committed before the request leaves, that this claim is about to send a paid
 * submission: if the claim dies after this, the task is never sent again (engine.reconcile).
 * Throws when the claim is no longer ours: then nothing may be sent. */
export async function beginSubmission(t: Task, provider: string) {
  const [r] = await db()`select engine.begin_submission(${t.task_id}, ${t.lease_token}, ${provider}) as ok`;
  if (!r.ok) throw new Error(`task ${t.task_id} is no longer held by this claim: not submitting to ${provider}`);
}

export async function awaitProvider(t: Task, provider: string, providerTaskId: string): Promise<boolean> {
  const [r] = await db()`select engine.await_provider(${t.task_id}, ${t.lease_token}, ${provider}, ${providerTaskId}) as ok`;
  return r.ok;
}

/** Who may end a task: the lease holder while it runs, the provider task while it waits. */
type Holder = { task_id: string; lease_token: string } | { task_id: string; provider_task_id: string };
const tokenOf = (h: Holder) => ("lease_token" in h ? h.lease_token : h.provider_task_id);

export async function completeTask(h: Holder, output: Json): Promise<boolean> {
  const [r] = await db()`select engine.complete_task(${h.task_id}, ${tokenOf(h)}, ${json(output)}) as ok`;
  return r.ok;
}

export async function failTask(h: Holder, code: string, message: string): Promise<boolean> {
  const [r] = await db()`select engine.fail_task(${h.task_id}, ${tokenOf(h)}, ${code}, ${message}) as ok`;
  return r.ok;
}

/** Backs off and re-queues, or fails once attempts are used up (then null). */
export async function retryTask(t: Task, code: string, message: string, retryAfterMs?: number): Promise<Date | null> {
  const [r] = await db()`select engine.retry_task(${t.task_id}, ${t.lease_token}, ${code}, ${message}, ${retryAfterMs ?? null}) as at`;
  return r.at;
}

/** A 429: pauses the provider endpoint and re-queues without spending an attempt. */
export async function requeueRateLimited(t: Task, message: string, retryAfterMs?: number): Promise<Date | null> {
  const [r] = await db()`select engine.requeue_rate_limited(${t.task_id}, ${t.lease_token}, ${message}, ${retryAfterMs ?? null}) as at`;
  return r.at;
}

export async function waitingTask(taskId: string): Promise<ProviderTask | null> {
  const [row] = await db()<ProviderTask[]>`
    select id as task_id, provider, provider_task_id from engine.tasks where id = ${taskId} and status = 'waiting'`;
  return row ?? null;
}

/** The waiting task behind a webhook token, if a re-check is allowed now (throttled). The
 * callback names its provider task: a submission whose answer died with its worker is known
 * from here on (it is never sent again). */
export async function webhookTask(token: string, provider: string, providerTaskId: string): Promise<ProviderTask | null> {
  const [row] = await db()<ProviderTask[]>`select * from engine.webhook_task(${token}, ${provider}, ${providerTaskId})`;
  return row ?? null;
}

export async function reportProviderProgress(t: ProviderTask, percent: number) {
  await db()`select engine.report_provider_progress(${t.task_id}, ${t.provider_task_id}, ${Math.round(percent)})`;
}

export async function generationStatus(id: string): Promise<GenerationRow["status"] | null> {
  const [r] = await db()`select status from public.generations where id = ${id}`;
  return r?.status ?? null;
}

export type CacheKind = "scene_image" | "segment";

/** A file the user was given for the same request lately (engine.media_cache), if it is still there. */
export async function cacheGet(userId: string, kind: CacheKind, key: string): Promise<{ path: string; facts: Record<string, unknown> } | null> {
  const [r] = await db()`select path, facts from engine.cache_get(${userId}, ${kind}, ${key}) where path is not null`;
  return r ? { path: r.path, facts: r.facts } : null;
}

export async function cachePut(userId: string, kind: CacheKind, key: string, path: string, facts: Record<string, unknown> = {}) {
  await db()`select engine.cache_put(${userId}, ${kind}, ${key}, ${path}, ${json(facts)})`;
}

export async function cacheForget(userId: string, kind: CacheKind, key: string) {
  await db()`select engine.cache_forget(${userId}, ${kind}, ${key})`;
}
