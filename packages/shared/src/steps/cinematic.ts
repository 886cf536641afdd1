// The cinematic pipeline's handlers: idea -> script -> base image -> (face merge) -> video
// task. Each returns only its output; the graph (engine.flow_steps) says what runs next.
import { config } from "../config.ts";
import { beginSubmission, type Task } from "../engine.ts";
import { generateScript, type Script } from "../providers/gemini.ts";
import { copyToStorage } from "../fetch-public.ts";
import { toBase64 } from "../providers/http.ts";
import { geminiConfig, kieConfig, novitaConfig } from "../providers/index.ts";
import { createTask } from "../providers/kie.ts";
import { mergeFace, SEEDREAM_SIZES, seedreamTxt2Img, submitImageToVideo } from "../providers/novita.ts";
import { downloadObject, signedUrl, uploadObject } from "../storage.ts";
import type { StepHandler } from "./runner.ts";

export type CinematicInputs = { idea: string; duration: 5 | 10; aspect_ratio: keyof typeof SEEDREAM_SIZES; selfie_path?: string };

type Dep<T> = T | null | undefined;
const inputs = (t: Task) => t.inputs as CinematicInputs;
const dep = <T>(t: Task, step: string) => t.deps[step] as Dep<T>;
/** Outputs live under the generation's id only: the bucket is the functions' (users get signed
 * URLs), and a public video's URL must not carry its owner's user id. */
export const outputPath = (t: { generation_id: string }, file: string) => `${t.generation_id}/${file}`;

export const writeScript: StepHandler = async (t) => {
  const script = await generateScript(geminiConfig(), { idea: inputs(t).idea, durationSeconds: inputs(t).duration });
  return { script };
};

export const makeBaseImage: StepHandler = async (t) => {
  const { script } = dep<{ script: Script }>(t, "script")!;
  const { imageUrl } = await seedreamTxt2Img(novitaConfig(), {
    prompt: script.t2i_prompt,
    size: SEEDREAM_SIZES[inputs(t).aspect_ratio],
  });
  // Seedream's URL lifetime is undocumented: copy the image out at once.
  const path = outputPath(t, "base.jpg");
  await copyToStorage("novita", imageUrl, "image", "outputs", path);
  return { base_image_path: path };
};

export const mergeSelfie: StepHandler = async (t) => {
  const [selfie, base] = await Promise.all([
    downloadObject("selfies", inputs(t).selfie_path!),
    downloadObject("outputs", dep<{ base_image_path: string }>(t, "base_image")!.base_image_path),
  ]);
  const merged = await mergeFace(novitaConfig(), { faceImageBase64: toBase64(selfie), imageBase64: toBase64(base) });
  const path = outputPath(t, "merged.png");
  await uploadObject("outputs", path, merged.bytes, merged.contentType);
  return { merged_image_path: path };
};

/** Kling v2.1 master image-to-video at Novita, or (failover: Novita's circuit open or out of
 * slots, chosen by the engine's claim) the same request at kie, which fetches the frame. */
export const submitVideo: StepHandler = async (t) => {
  const merged = dep<{ merged_image_path: string }>(t, "face_merge");
  const framePath = merged?.merged_image_path ?? dep<{ base_image_path: string }>(t, "base_image")!.base_image_path;
  const { script } = dep<{ script: Script }>(t, "script")!;
  const prompt = `cinematic movement, ${script.motion_prompt}`;
  if (t.capacity_key === KIE_FALLBACK) {
    const imageUrl = await signedUrl("outputs", framePath, 86_400);
    await beginSubmission(t, "kie");
    const { taskId } = await createTask(kieConfig(), {
      model: "kling/v2-1-master-image-to-video",
      input: { prompt: prompt.slice(0, 2500), image_url: imageUrl, duration: String(inputs(t).duration), cfg_scale: 0.5 },
      callBackUrl: `${config().PUBLIC_FUNCTIONS_URL}/generation/webhook?token=${t.webhook_token}`,
    });
    return { submitted: { provider: "kie", taskId } };
  }
  const frame = await downloadObject("outputs", framePath);
  await beginSubmission(t, "novita");
  const { taskId } = await submitImageToVideo(novitaConfig(), {
    imageBase64: toBase64(frame),
    prompt,
    durationSeconds: inputs(t).duration,
    webhookUrl: `${config().PUBLIC_FUNCTIONS_URL}/handle-novita-webhook?token=${t.webhook_token}`,
  });
  return { submitted: { provider: "novita", taskId } };
};

/** The capacity row of kie's Market API: a video task that got it runs at kie. */
const KIE_FALLBACK = "kie:createTask";

/** Last step of every pipeline: the provider's video becomes ours before completion. */
export const storeOutput: StepHandler = async (t) => {
  const path = outputPath(t, "video.mp4");
  await copyToStorage("provider", dep<{ provider_video_url: string }>(t, "video")!.provider_video_url, "video", "outputs", path);
  return { video_path: path };
};
