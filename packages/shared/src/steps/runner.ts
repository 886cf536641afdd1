// Runs one claimed step: the provider work, then exactly one compare-and-set commit.
import { z } from "zod";
import { type Claim, awaitTask, claimStep, completeStep, failStep, scheduleRetry } from "../engine.ts";
import { AppError } from "../errors.ts";
import { logError } from "../log.ts";
import { functionApp, parseBody, requireServiceRole } from "../http.ts";
import { ProviderError } from "../providers/http.ts";
import { checkTask } from "./tasks.ts";

export type StepOutcome =
  | { next: string | null; outputs?: Record<string, unknown> }
  | { awaitTask: { provider: string; taskId: string }; outputs?: Record<string, unknown> };

export type StepHandler = (claim: Claim) => Promise<StepOutcome>;

export async function runClaimed(claim: Claim, step: string, handler: StepHandler): Promise<void> {
  let retryAt: Date | null = null;
  try {
    const outcome = await handler(claim);
    if ("awaitTask" in outcome) {
      // A fast provider can finish, and its webhook arrive, before this commit: look once now.
      if (await awaitTask(claim, outcome.awaitTask.provider, outcome.awaitTask.taskId, outcome.outputs)) {
        await checkTask(claim.generation_id);
      }
    } else {
      await completeStep(claim, outcome.outputs ?? {}, outcome.next);
    }
  } catch (err) {
    if (err instanceof ProviderError && err.retryable) {
      retryAt = await scheduleRetry(claim, err.code, err.message, err.retryAfterMs);
    } else if (err instanceof ProviderError || err instanceof AppError) {
      await failStep(claim, err.code, err.message);
    } else {
      logError(`step ${step} crashed`, err);
      retryAt = await scheduleRetry(claim, "INTERNAL_ERROR", "The step failed unexpectedly");
    }
  }
  if (retryAt) await retryWhenDue(claim.generation_id, step, handler, retryAt);
}

/** Backoffs are shorter than reconcile's tick: wait here and claim again. Should this
 * process die meanwhile, reconcile dispatches the due retry. */
async function retryWhenDue(generationId: string, step: string, handler: StepHandler, at: Date) {
  await new Promise((r) => setTimeout(r, Math.max(0, at.getTime() - Date.now()) + 25));
  const again = await claimStep(generationId, step);
  if (again) await runClaimed(again, step, handler);
}

type EdgeRuntimeGlobal = { EdgeRuntime?: { waitUntil(p: Promise<unknown>): void } };

/** Keeps work going after the response where the runtime allows it (edge functions). */
export function inBackground(work: Promise<unknown>): boolean {
  const runtime = (globalThis as EdgeRuntimeGlobal).EdgeRuntime;
  if (!runtime) return false;
  runtime.waitUntil(work);
  return true;
}

const wakeUp = z.object({ generation_id: z.string().uuid(), step: z.string().min(1).max(64) });

/** The function that owns `step`: pg_net posts {generation_id, step}; a claim wins or no-ops. */
export function stepFunction(name: string, handlers: Record<string, StepHandler>) {
  const app = functionApp(name);
  app.post("/", requireServiceRole, async (c) => {
    const { generation_id, step } = await parseBody(c, wakeUp);
    const handler = handlers[step];
    if (!handler) throw new AppError("INVALID_REQUEST", `${name} does not run step ${step}`);
    const claim = await claimStep(generation_id, step);
    if (!claim) return c.json({ claimed: false });
    const work = runClaimed(claim, step, handler);
    if (!inBackground(work)) await work;
    return c.json({ claimed: true, attempt: claim.attempt }, 202);
  });
  return app;
}
