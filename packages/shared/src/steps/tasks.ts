// Finishing provider tasks: webhooks and polls both end here, and both trust only a
// freshly fetched task result.
import { completeTask, failTask, type ProviderTask, reportProviderProgress, waitingTask } from "../engine.ts";
import { ProviderError } from "../providers/http.ts";
import { kieConfig, novitaConfig, volcengineConfig } from "../providers/index.ts";
import { recordInfo } from "../providers/kie.ts";
import { getTaskResult, type TaskResult } from "../providers/novita.ts";
import { getTalkingHeadResult } from "../providers/omnihuman.ts";
import { getJimengResult } from "../providers/volcengine.ts";

async function fetchResult(t: ProviderTask): Promise<TaskResult> {
  if (t.provider === "novita") return await getTaskResult(novitaConfig(), t.provider_task_id);
  if (t.provider === "kie") return await recordInfo(kieConfig(), t.provider_task_id);
  if (t.provider === "volcengine") return await getJimengResult(volcengineConfig(), t.provider_task_id);
  if (t.provider === "omnihuman") return await getTalkingHeadResult(volcengineConfig(), t.provider_task_id);
  throw new ProviderError("INTERNAL_ERROR", `No poller for provider ${t.provider}`, false);
}

async function applyTaskResult(t: ProviderTask, result: TaskResult) {
  if (result.taskId !== t.provider_task_id) return;
  if (result.state === "succeeded") {
    if (!result.videoUrl) {
      await failTask(t, "TASK_FAILED", "The provider finished without a video");
      return;
    }
    await completeTask(t, { provider_video_url: result.videoUrl });
  } else if (result.state === "failed") {
    await failTask(t, result.code ?? "TASK_FAILED", `Video generation failed: ${result.reason || "no reason given"}`);
  } else {
    await reportProviderProgress(t, result.progress);
  }
}

/** Looks at the provider task of a waiting task; a transient error leaves it for the next poll. */
export async function checkTask(taskId: string) {
  const t = await waitingTask(taskId);
  if (t) await checkProviderTask(t);
}

/** checkTask for a waiting task already loaded (webhooks find it by token). Only an answer
 * that says the task is lost fails it; anything else (5xx, a 401 while keys rotate, a 404
 * before the provider indexed it) leaves it for the next poll, until the deadline. */
export async function checkProviderTask(t: ProviderTask) {
  try {
    await applyTaskResult(t, await fetchResult(t));
  } catch (err) {
    if (err instanceof ProviderError && err.failsTask) await failTask(t, err.code, err.message);
    else if (!(err instanceof ProviderError)) throw err;
  }
}
