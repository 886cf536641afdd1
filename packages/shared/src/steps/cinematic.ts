// The cinematic pipeline: idea -> script -> base image -> (face merge) -> video task.
import { config } from "../config.ts";
import type { Claim } from "../engine.ts";
import { generateScript, type Script } from "../providers/gemini.ts";
import { copyToStorage } from "../fetch-public.ts";
import { toBase64 } from "../providers/http.ts";
import { geminiConfig, novitaConfig } from "../providers/index.ts";
import { mergeFace, SEEDREAM_SIZES, seedreamTxt2Img, submitImageToVideo } from "../providers/novita.ts";
import { downloadObject, uploadObject } from "../storage.ts";
import type { StepHandler } from "./runner.ts";

export type CinematicInputs = { idea: string; duration: 5 | 10; aspect_ratio: keyof typeof SEEDREAM_SIZES; selfie_path?: string };

const inputs = (c: Claim) => c.inputs as CinematicInputs;
export const outputPath = (c: { user_id: string; generation_id: string }, file: string) => `${c.user_id}/${c.generation_id}/${file}`;

export const writeScript: StepHandler = async (c) => {
  const script = await generateScript(geminiConfig(), { idea: inputs(c).idea, durationSeconds: inputs(c).duration });
  return { next: "base_image", outputs: { script } };
};

export const makeBaseImage: StepHandler = async (c) => {
  const script = c.outputs.script as Script;
  const { imageUrl } = await seedreamTxt2Img(novitaConfig(), {
    prompt: script.t2i_prompt,
    size: SEEDREAM_SIZES[inputs(c).aspect_ratio],
  });
  // Seedream's URL lifetime is undocumented: copy the image out at once.
  const path = outputPath(c, "base.jpg");
  await copyToStorage("novita", imageUrl, "image", "outputs", path);
  return { next: inputs(c).selfie_path ? "face_merge" : "video", outputs: { base_image_path: path } };
};

export const mergeSelfie: StepHandler = async (c) => {
  const [selfie, base] = await Promise.all([
    downloadObject("selfies", inputs(c).selfie_path!),
    downloadObject("outputs", c.outputs.base_image_path as string),
  ]);
  const merged = await mergeFace(novitaConfig(), { faceImageBase64: toBase64(selfie), imageBase64: toBase64(base) });
  const path = outputPath(c, "merged.png");
  await uploadObject("outputs", path, merged.bytes, merged.contentType);
  return { next: "video", outputs: { merged_image_path: path } };
};

export const submitVideo: StepHandler = async (c) => {
  const frame = await downloadObject("outputs", (c.outputs.merged_image_path ?? c.outputs.base_image_path) as string);
  const script = c.outputs.script as Script;
  const { taskId } = await submitImageToVideo(novitaConfig(), {
    imageBase64: toBase64(frame),
    prompt: `cinematic movement, ${script.motion_prompt}`,
    durationSeconds: inputs(c).duration,
    webhookUrl: `${config().PUBLIC_FUNCTIONS_URL}/handle-novita-webhook?token=${c.webhook_token}`,
  });
  return { awaitTask: { provider: "novita", taskId } };
};

/** Last step of every pipeline: the provider's video becomes ours before completion. */
export const storeOutput: StepHandler = async (c) => {
  const path = outputPath(c, "video.mp4");
  await copyToStorage("provider", c.outputs.provider_video_url as string, "video", "outputs", path);
  return { next: null, outputs: { video_path: path } };
};
