// Runs the tasks of one function: woken by pg_net, it claims its due tasks (fairly, within
// provider capacity), runs each handler while renewing its lease, and commits the result
// with one compare-and-set. A handler returns only its output (or the provider task it
// submitted); the database decides what runs next.
import { z } from "zod";
import type { Json } from "../database.types.ts";
import {
  awaitProvider, completeTask, consumeWakeup, failTask, generationStatus, heartbeat, nextDue, requeueRateLimited,
  retryTask, startTasks, type Task,
} from "../engine.ts";
import { AppError } from "../errors.ts";
import { functionApp, parseBody, requireServiceRole } from "../http.ts";
import { logError } from "../log.ts";
import { ProviderError } from "../providers/http.ts";
import { removeFolder } from "../storage.ts";
import { checkTask } from "./tasks.ts";

export type Submitted = { submitted: { provider: string; taskId: string } };
export type StepResult = Json | Submitted;
/** `signal` aborts when the task is canceled or no longer this process's: long work (ffmpeg)
 * takes it and stops. */
export type StepHandler = (task: Task, signal: AbortSignal) => Promise<StepResult>;

const CLAIM_BATCH = 10;
/** How often a running task's lease is renewed, which is also how soon its handler learns
 * that the task was canceled or taken over and is stopped. Provider calls are short and
 * cheap to let finish; the media worker renews every second (a canceled movie's ffmpeg
 * stops within 2 s). */
const HEARTBEAT_MS = 5_000;
/** A capacity wait or backoff due sooner than this is waited out here; later ones are
 * reconcile's (its tick is 10 s). */
const WAIT_IN_PROCESS_MS = 30_000;
/** A due task another process holds right now is not spun on. */
const MIN_WAIT_MS = 100;

const isSubmitted = (r: StepResult): r is Submitted => typeof r === "object" && r !== null && "submitted" in r;

/** A canceled run's files go: users must not keep what they did not pay for. */
async function discardCanceled(t: Task) {
  if ((await generationStatus(t.generation_id)) === "canceled") {
    await removeFolder("outputs", t.generation_id);
  }
}

async function runTask(t: Task, handler: StepHandler, heartbeatMs: number): Promise<void> {
  const stop = new AbortController();
  const beat = setInterval(() => {
    heartbeat(t).then((ours) => {
      if (!ours) stop.abort(new Error(`The ${t.step} task was canceled or is no longer this worker's`));
    }).catch((err) => logError(`heartbeat ${t.step}`, err));
  }, heartbeatMs);
  try {
    const result = await handler(t, stop.signal);
    if (isSubmitted(result)) {
      // A fast provider can finish, and its webhook arrive, before this commit: look once now.
      if (await awaitProvider(t, result.submitted.provider, result.submitted.taskId)) await checkTask(t.task_id);
    } else if (!(await completeTask(t, result))) {
      await discardCanceled(t);
    }
  } catch (err) {
    if (stop.signal.aborted) {
      // Someone else ends this task (the cancel did, or the worker that holds it now): no retry, no failure.
      await discardCanceled(t);
    } else if (err instanceof ProviderError && err.code === "RATE_LIMIT_EXCEEDED") {
      await requeueRateLimited(t, err.message, err.retryAfterMs);
    } else if (err instanceof ProviderError && err.retryable) {
      await retryTask(t, err.code, err.message, err.retryAfterMs);
    } else if (err instanceof ProviderError || err instanceof AppError) {
      await failTask(t, err.code, err.message);
    } else {
      logError(`step ${t.step} crashed`, err);
      await retryTask(t, "INTERNAL_ERROR", "The step failed unexpectedly");
    }
  } finally {
    clearInterval(beat);
  }
}

/** A function's drain in this process: a wake-up, or a task ending, nudges it to claim. */
type Drain = { woken: boolean; nudged: boolean; nudge: () => void };
const draining = new Map<string, Drain>();

/** Claims and runs due tasks until none is left; waits out short backoffs and capacity waits.
 * `maxInFlight` bounds CPU-bound work (the media worker); provider calls mostly wait, so an
 * edge function takes all it can. One drain per function and process. It claims whenever it
 * has room: while tasks run it sleeps only until one ends, a wake-up comes or the next task
 * is due, so a slow task never holds back another user's task of the same function. */
export async function drain(name: string, handlers: Record<string, StepHandler>, maxInFlight = Infinity, heartbeatMs = HEARTBEAT_MS) {
  const running = draining.get(name);
  if (running) {
    running.woken = true;
    running.nudge();
    return;
  }
  const state: Drain = { woken: true, nudged: false, nudge: () => {} };
  draining.set(name, state);
  try {
    const inFlight = new Set<Promise<void>>();
    for (;;) {
      // Armed before the claim: a nudge while claiming makes the wait below return at once.
      const nudged = new Promise<void>((resolve) => {
        state.nudge = () => {
          state.nudged = true;
          resolve();
        };
      });
      state.nudged = false;
      if (state.woken) {
        state.woken = false;
        await consumeWakeup(name);
      }
      const room = Math.min(CLAIM_BATCH, maxInFlight - inFlight.size);
      const claimed = room > 0 ? await startTasks(name, room) : [];
      for (const t of claimed) {
        const handler = handlers[t.step];
        const work = (handler ? runTask(t, handler, heartbeatMs) : failTask(t, "INTERNAL_ERROR", `${name} does not run step ${t.step}`).then(() => {}))
          .catch((err) => logError(`task ${t.step}`, err))
          .finally(() => {
            inFlight.delete(work);
            state.nudge();
          });
        inFlight.add(work);
      }
      if (room > 0 && claimed.length === room) continue; // a full batch: more may be due
      const due = inFlight.size < maxInFlight ? await nextDue(name) : null;
      const wait = due ? Math.max(due.getTime() - Date.now(), MIN_WAIT_MS) : Infinity;
      if (inFlight.size === 0 && wait >= WAIT_IN_PROCESS_MS && !state.nudged) break;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const dueSoon = wait < WAIT_IN_PROCESS_MS ? [new Promise<void>((r) => (timer = setTimeout(r, wait)))] : [];
      await Promise.race([nudged, ...dueSoon]);
      clearTimeout(timer);
    }
  } finally {
    draining.delete(name);
  }
}

type EdgeRuntimeGlobal = { EdgeRuntime?: { waitUntil(p: Promise<unknown>): void } };

/** Keeps work going after the response where the runtime allows it (edge functions). */
export function inBackground(work: Promise<unknown>): boolean {
  const runtime = (globalThis as EdgeRuntimeGlobal).EdgeRuntime;
  if (!runtime) return false;
  runtime.waitUntil(work);
  return true;
}

const wakeUp = z.object({ handler: z.string().min(1).max(64) });

/** The function that owns some steps: pg_net posts {handler}; it claims what is due. */
export function stepFunction(name: string, handlers: Record<string, StepHandler>) {
  const app = functionApp(name);
  app.post("/", requireServiceRole, async (c) => {
    const { handler } = await parseBody(c, wakeUp);
    if (handler !== name) throw new AppError("INVALID_REQUEST", `This is ${name}, not ${handler}`);
    const work = drain(name, handlers);
    if (!inBackground(work)) await work;
    return c.json({ draining: true }, 202);
  });
  return app;
}
