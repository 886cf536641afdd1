// The movie pipeline's provider steps: a scene image (Gemini image), a narration
// (Volcengine TTS) and a segment (Jimeng video 3.0, poll only). Normalising and merging run
// in the media worker (worker/media.ts). Files live under the run's id in `outputs`.
import type { Task } from "../engine.ts";
import type { MovieInputs, MovieScene, Narration, SceneImageRequest } from "../movie.ts";
import { generateSceneImage } from "../providers/gemini-image.ts";
import { toBase64 } from "../providers/http.ts";
import { geminiImageConfig, ttsConfig, volcengineConfig } from "../providers/index.ts";
import { submitJimeng } from "../providers/volcengine.ts";
import { synthesize } from "../providers/volcengine-tts.ts";
import { downloadObject, uploadObject } from "../storage.ts";
import { outputPath } from "./cinematic.ts";
import type { StepHandler } from "./runner.ts";

const inputs = (t: Task) => t.inputs as MovieInputs;
const scenePath = (t: Task, sceneId: string, file: string) => outputPath(t, `scenes/${sceneId}/${file}`);

export const makeSceneImage: StepHandler = async (t) => {
  const req = t.element as SceneImageRequest;
  const image = await generateSceneImage(geminiImageConfig(), { prompt: req.prompt, aspectRatio: inputs(t).aspect_ratio });
  const path = scenePath(t, req.scene_id, `image.${image.mimeType === "image/jpeg" ? "jpg" : "png"}`);
  await uploadObject("outputs", path, image.bytes, image.mimeType);
  return { scene_id: req.scene_id, image_path: path, width: image.width, height: image.height };
};

/** Narration longer than its scene is spoken faster once (up to the voice's limit); what
 * still overflows is cut at the scene's end by the merge. */
export const narrate: StepHandler = async (t) => {
  const req = t.element as Narration;
  const slotMs = inputs(t).scenes.find((s) => s.id === req.scene_id)!.duration * 1000;
  const voice = { text: req.text, voice: req.voice, emotion: req.emotion ?? undefined };
  let speech = await synthesize(ttsConfig(), voice);
  if (speech.durationMs > slotMs) speech = await synthesize(ttsConfig(), { ...voice, speedRatio: Math.min(2, (speech.durationMs / slotMs) * 1.05) });
  const path = scenePath(t, req.scene_id, "narration.mp3");
  await uploadObject("outputs", path, speech.bytes, "audio/mpeg");
  return { scene_id: req.scene_id, audio_path: path, duration_ms: speech.durationMs };
};

/** The scene's frames as base64: the user's own first (and last) frame, or its scene image. */
async function frames(t: Task, scene: MovieScene): Promise<string[]> {
  if (scene.mode === "t2v") return [];
  const images = (t.deps.scene_image ?? []) as { scene_id: string; image_path: string }[];
  const first = scene.first_frame_path
    ? await downloadObject("assets", scene.first_frame_path)
    : await downloadObject("outputs", images.find((i) => i.scene_id === scene.id)!.image_path);
  if (scene.mode === "i2v_first") return [toBase64(first)];
  return [toBase64(first), toBase64(await downloadObject("assets", scene.last_frame_path!))];
}

export const submitSegment: StepHandler = async (t) => {
  const scene = t.element as MovieScene;
  const { taskId } = await submitJimeng(volcengineConfig(), {
    mode: scene.mode,
    hd: inputs(t).hd,
    prompt: scene.prompt,
    frames: scene.frames,
    aspectRatio: scene.mode === "t2v" ? scene.aspect_ratio : undefined,
    imagesBase64: await frames(t, scene),
    seed: scene.seed,
  });
  return { submitted: { provider: "volcengine", taskId } };
};
