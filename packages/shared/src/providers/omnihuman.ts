// Volcengine OmniHuman 1.5, the seed's "digital human quick mode"
// (shared/providers/volcengine-digital-human.md): a subject check of the portrait, then a
// video of it speaking the audio. CVSubmitTask / CVGetResult on Jimeng's host and signing;
// poll only. Answers are read by their `code` first, as Jimeng's.
import { ProviderError, type TaskResult } from "./http.ts";
import { answerError, call, taskResult, type VolcengineConfig } from "./volcengine.ts";

const ROLE_KEY = "jimeng_realman_avatar_picture_create_role_omni_v15";
const VIDEO_KEY = "jimeng_realman_avatar_picture_omni_v15";
const CHECK_POLL_MS = 1_000;
const CHECK_BUDGET_MS = 20_000;

async function submit(cfg: VolcengineConfig, body: Record<string, unknown>): Promise<string> {
  const { status, json } = await call(cfg, "CVSubmitTask", body, "paid_submit");
  const err = answerError(status, json);
  if (err) throw err;
  const taskId = json.data?.task_id;
  if (typeof taskId !== "string" && typeof taskId !== "number") {
    throw new ProviderError("SERVICE_UNAVAILABLE", "omnihuman: code 10000 without a task_id", true);
  }
  return String(taskId);
}

const query = (cfg: VolcengineConfig, reqKey: string, taskId: string) => call(cfg, "CVGetResult", { req_key: reqKey, task_id: taskId }, "poll");

/** Step 1: whether the portrait shows a person-like subject (`resp_data` is a JSON string
 * whose status is 1 or 0). A short wait in the step itself: it answers in about a second. */
export async function checkPerson(cfg: VolcengineConfig, imageUrl: string): Promise<boolean> {
  const taskId = await submit(cfg, { req_key: ROLE_KEY, image_url: imageUrl });
  for (const until = Date.now() + CHECK_BUDGET_MS; Date.now() < until;) {
    const answer = await query(cfg, ROLE_KEY, taskId);
    const err = answerError(answer.status, answer.json);
    if (err) throw err;
    if (answer.json.data?.status === "done") {
      try {
        return JSON.parse(String(answer.json.data.resp_data)).status === 1;
      } catch {
        throw new ProviderError("SERVICE_UNAVAILABLE", "omnihuman: the subject check answered no verdict", true);
      }
    }
    if (["not_found", "expired"].includes(answer.json.data?.status)) break;
    await new Promise((r) => setTimeout(r, CHECK_POLL_MS));
  }
  throw new ProviderError("SERVICE_UNAVAILABLE", "omnihuman: the subject check did not finish in time", true);
}

/** Step 2: the portrait speaking the audio (both public URLs; audio under 60 s). 720 is
 * OmniHuman's fast mode, as the Jimeng app pairs them. The id is the task id alone: its
 * req_key is fixed. */
export async function submitTalkingHead(
  cfg: VolcengineConfig,
  req: { imageUrl: string; audioUrl: string; prompt?: string; resolution: 720 | 1080; seed?: number },
): Promise<{ taskId: string }> {
  const taskId = await submit(cfg, {
    req_key: VIDEO_KEY, image_url: req.imageUrl, audio_url: req.audioUrl, seed: req.seed ?? -1,
    output_resolution: req.resolution, pe_fast_mode: req.resolution === 720,
    ...(req.prompt ? { prompt: req.prompt.slice(0, 300) } : {}),
  });
  return { taskId };
}

/** `processing`, `in_queue`, `generating`: pending; `done` + 10000: the video; 50215 (audio
 * of 60 s or more) and refusals fail the task; `not_found`/`expired` fail it too. */
export async function getTalkingHeadResult(cfg: VolcengineConfig, taskId: string): Promise<TaskResult> {
  return taskResult(taskId, await query(cfg, VIDEO_KEY, taskId));
}
