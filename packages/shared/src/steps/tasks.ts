// Finishing provider tasks: webhooks and polls both end here, and both trust only a
// freshly fetched task result.
import { type Waiting, failTask, reportTaskProgress, resolveTask, waitingGeneration } from "../engine.ts";
import { ProviderError } from "../providers/http.ts";
import { kieConfig, novitaConfig } from "../providers/index.ts";
import { recordInfo } from "../providers/kie.ts";
import { getTaskResult, type TaskResult } from "../providers/novita.ts";

async function fetchResult(w: Waiting): Promise<TaskResult> {
  if (w.provider === "novita") return await getTaskResult(novitaConfig(), w.provider_task_id);
  if (w.provider === "kie") return await recordInfo(kieConfig(), w.provider_task_id);
  throw new ProviderError("INTERNAL_ERROR", `No poller for provider ${w.provider}`, false);
}

async function applyTaskResult(w: Waiting, result: TaskResult) {
  if (result.taskId !== w.provider_task_id) return;
  if (result.state === "succeeded") {
    if (!result.videoUrl) {
      await failTask(w, "TASK_FAILED", "The provider finished without a video");
      return;
    }
    await resolveTask(w, { provider_video_url: result.videoUrl }, "store_output");
  } else if (result.state === "failed") {
    await failTask(w, "TASK_FAILED", `Video generation failed: ${result.reason || "no reason given"}`);
  } else {
    await reportTaskProgress(w, result.progress);
  }
}

/** Looks at the provider task of a waiting generation; a transient error leaves it for the next poll. */
export async function checkTask(generationId: string) {
  const w = await waitingGeneration({ id: generationId });
  if (w) await checkWaiting(w);
}

/** checkTask for a waiting row already loaded (webhooks find it by token). */
export async function checkWaiting(w: Waiting) {
  try {
    await applyTaskResult(w, await fetchResult(w));
  } catch (err) {
    if (err instanceof ProviderError && !err.retryable) await failTask(w, err.code, err.message);
    else if (!(err instanceof ProviderError)) throw err;
  }
}
