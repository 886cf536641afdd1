// The step functions' side of the engine: thin typed calls of the SQL worker API.
import type { Database } from "./database.types.ts";
import { db } from "./db.ts";

export type Pipeline = Database["public"]["Enums"]["pipeline_kind"];
export type GenerationStatus = Database["public"]["Enums"]["generation_status"];

export type Claim = {
  generation_id: string;
  lease_token: string;
  attempt: number;
  user_id: string;
  pipeline: Pipeline;
  inputs: Record<string, unknown>;
  outputs: Record<string, unknown>;
  webhook_token: string;
};

export type Waiting = { id: string; provider: string; provider_task_id: string };

type Json = Parameters<ReturnType<typeof db>["json"]>[0];

export async function claimStep(generationId: string, step: string): Promise<Claim | null> {
  const [row] = await db()<Claim[]>`select * from public.claim_step(${generationId}, ${step})`;
  return row ?? null;
}

export async function completeStep(c: Claim, outputs: Record<string, unknown>, nextStep: string | null) {
  const [r] = await db()`select public.complete_step(${c.generation_id}, ${c.lease_token}, ${db().json(outputs as Json)}, ${nextStep}) as ok`;
  return r.ok as boolean;
}

export async function awaitTask(c: Claim, provider: string, taskId: string, outputs: Record<string, unknown> = {}) {
  const [r] = await db()`select public.await_task(${c.generation_id}, ${c.lease_token}, ${provider}, ${taskId}, ${db().json(outputs as Json)}) as ok`;
  return r.ok as boolean;
}

export async function failStep(c: Claim, code: string, message: string) {
  const [r] = await db()`select public.fail_step(${c.generation_id}, ${c.lease_token}, ${code}, ${message}) as ok`;
  return r.ok as boolean;
}

export async function scheduleRetry(c: Claim, code: string, message: string, retryAfterMs?: number) {
  const [r] = await db()`select public.schedule_retry(${c.generation_id}, ${c.lease_token}, ${code}, ${message}, ${retryAfterMs ?? null}) as retry_at`;
  return r.retry_at as Date | null;
}

export async function waitingGeneration(where: { id: string } | { webhookToken: string }): Promise<Waiting | null> {
  const rows = "id" in where
    ? await db()<Waiting[]>`select id, provider, provider_task_id from public.generations where id = ${where.id} and status = 'waiting'`
    : await db()<Waiting[]>`select id, provider, provider_task_id from public.generations where webhook_token = ${where.webhookToken} and status = 'waiting'`;
  return rows[0] ?? null;
}

export async function resolveTask(w: Waiting, outputs: Record<string, unknown>, nextStep: string) {
  const [r] = await db()`select public.resolve_task(${w.id}, ${w.provider_task_id}, ${db().json(outputs as Json)}, ${nextStep}) as ok`;
  return r.ok as boolean;
}

export async function failTask(w: Waiting, code: string, message: string) {
  const [r] = await db()`select public.fail_task(${w.id}, ${w.provider_task_id}, ${code}, ${message}) as ok`;
  return r.ok as boolean;
}

export async function reportTaskProgress(w: Waiting, progress: number) {
  await db()`select public.report_task_progress(${w.id}, ${w.provider_task_id}, ${Math.round(progress)})`;
}
