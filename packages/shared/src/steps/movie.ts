// The movie pipeline's provider steps: a scene image (Gemini image), a narration
// (Volcengine TTS) and a segment (Jimeng video 3.0, poll only). Normalising and merging run
// in the media worker (worker/media.ts). Files live under the run's id in `outputs`.
import { beginSubmission, cacheForget, cacheGet, cachePut, type CacheKind, type Task } from "../engine.ts";
import { AppError } from "../errors.ts";
import { type MovieInputs, type MovieScene, type Narration, type SceneImageRequest, sha256Hex } from "../movie.ts";
import { generateSceneImage } from "../providers/gemini-image.ts";
import { toBase64 } from "../providers/http.ts";
import { geminiImageConfig, ttsConfig, volcengineConfig } from "../providers/index.ts";
import { submitJimeng } from "../providers/volcengine.ts";
import { synthesize } from "../providers/volcengine-tts.ts";
import { checkPerson, submitTalkingHead as submitOmniHuman } from "../providers/omnihuman.ts";
import { MAX_ASSET_BYTES } from "../media-sniff.ts";
import { downloadObject, signedUrl, uploadObject } from "../storage.ts";
import { outputPath } from "./cinematic.ts";
import type { StepHandler, StepResult } from "./runner.ts";

const inputs = (t: Task) => t.inputs as MovieInputs;
const scenePath = (t: Task, sceneId: string, file: string) => outputPath(t, `scenes/${sceneId}/${file}`);

/** A file of the media cache, copied into this run's folder (the run it came from may be
 * deleted); null when there is none, or its file is gone. */
async function fromCache(t: Task, kind: CacheKind, key: string, target: (ext: string) => string) {
  const hit = await cacheGet(t.user_id, kind, key);
  if (!hit) return null;
  try {
    const path = target(hit.path.split(".").pop()!);
    await uploadObject("outputs", path, await downloadObject("outputs", hit.path), String(hit.facts.mime_type));
    return { path, facts: hit.facts };
  } catch (err) {
    if (!(err instanceof AppError && err.code === "NOT_FOUND")) throw err;
    await cacheForget(t.user_id, kind, key);
    return null;
  }
}

/** A scene image; the same prompt at the same ratio within 15 minutes is the same image. */
export const makeSceneImage: StepHandler = async (t) => {
  const req = t.element as SceneImageRequest;
  const aspectRatio = inputs(t).aspect_ratio;
  const key = await sha256Hex(JSON.stringify(["gemini-image", req.prompt, aspectRatio]));
  const cached = await fromCache(t, "scene_image", key, (ext) => scenePath(t, req.scene_id, `image.${ext}`));
  if (cached) return { scene_id: req.scene_id, image_path: cached.path, width: Number(cached.facts.width), height: Number(cached.facts.height), cached: true };
  const image = await generateSceneImage(geminiImageConfig(), { prompt: req.prompt, aspectRatio });
  const path = scenePath(t, req.scene_id, `image.${image.mimeType === "image/jpeg" ? "jpg" : "png"}`);
  await uploadObject("outputs", path, image.bytes, image.mimeType);
  await cachePut(t.user_id, "scene_image", key, path, { width: image.width, height: image.height, mime_type: image.mimeType });
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
  // A user's frame is at most an image asset's size, checked before it is read (the request
  // checked it too; the limit holds whatever happened to the file since).
  const first = scene.first_frame_path
    ? await downloadObject("assets", scene.first_frame_path, MAX_ASSET_BYTES.image)
    : await downloadObject("outputs", images.find((i) => i.scene_id === scene.id)!.image_path);
  if (scene.mode === "i2v_first") return [toBase64(first)];
  return [toBase64(first), toBase64(await downloadObject("assets", scene.last_frame_path!, MAX_ASSET_BYTES.image))];
}

/** URLs OmniHuman can download for the whole task (its queue can take a while). */
const PROVIDER_URL_SECONDS = 6 * 3600;

/** A talking head: the avatar must show a person (OmniHuman's subject check, not retried),
 * then it speaks the scene's narration (a clip as long as the speech). */
async function submitTalkingHead(t: Task, scene: MovieScene): Promise<StepResult> {
  const narration = ((t.deps.narration ?? []) as { scene_id: string; audio_path: string }[]).find((n) => n.scene_id === scene.id)!;
  const [imageUrl, audioUrl] = await Promise.all([
    signedUrl("assets", scene.avatar_path!, PROVIDER_URL_SECONDS),
    signedUrl("outputs", narration.audio_path, PROVIDER_URL_SECONDS),
  ]);
  if (!(await checkPerson(volcengineConfig(), imageUrl))) {
    throw new AppError("CONTENT_VIOLATION", `Scene ${scene.id}: the avatar shows no person (or person-like subject) to animate; use a clear frontal portrait`);
  }
  await beginSubmission(t, "omnihuman");
  const { taskId } = await submitOmniHuman(volcengineConfig(), {
    imageUrl, audioUrl, prompt: scene.prompt, resolution: inputs(t).hd ? 1080 : 720,
  });
  return { submitted: { provider: "omnihuman", taskId } };
}

/** A segment: from the cache when the same request (fixed seed, same frames) was made in the
 * last 7 days, else a Jimeng task (or, for a talking head, an OmniHuman one). */
export const submitSegment: StepHandler = async (t) => {
  const scene = t.element as MovieScene;
  if (scene.cache_key) {
    const cached = await fromCache(t, "segment", scene.cache_key, () => outputPath(t, `segments/${scene.id}.mp4`));
    if (cached) return { video_path: cached.path, cached: true };
  }
  if (scene.kind === "talking_head") return await submitTalkingHead(t, scene);
  const imagesBase64 = await frames(t, scene);
  await beginSubmission(t, "volcengine");
  const { taskId } = await submitJimeng(volcengineConfig(), {
    mode: scene.mode,
    hd: inputs(t).hd,
    prompt: scene.prompt,
    frames: scene.frames,
    aspectRatio: scene.mode === "t2v" ? scene.aspect_ratio : undefined,
    imagesBase64,
    seed: scene.seed,
  });
  return { submitted: { provider: "volcengine", taskId } };
};
