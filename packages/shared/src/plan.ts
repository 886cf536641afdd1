// MovieFlow's video-plan: what a spec becomes for an optimisation goal, which model makes each
// scene, and how long each takes. Prices are not here: they come from the database's one
// pricing function over the inputs (plan = quote = charge).
import type { MovieInputs, MovieRequest } from "./movie.ts";
import { jimengReqKey } from "./providers/volcengine.ts";

export type Goal = "speed" | "quality" | "cost";

/** The spec a goal asks for, and what it changed. quality: Jimeng's 1080P models; speed:
 * 720P (faster at the provider); cost: 720P and text-to-video instead of a generated first
 * frame (no scene image to pay for or wait for). */
export function optimizeSpec(spec: MovieRequest, goal: Goal | undefined, quality?: "low" | "medium" | "high"): { spec: MovieRequest; changes: string[] } {
  const changes: string[] = [];
  const wanted = quality ?? (goal === "quality" ? "high" : goal ? "low" : spec.config.quality);
  if (wanted !== spec.config.quality) changes.push(`quality ${spec.config.quality} -> ${wanted} (${wanted === "high" ? "1080P" : "720P"} models)`);
  let scenes = spec.scenes;
  if (goal === "cost" && scenes.some((s) => s.sceneImage && !s.lastFrame)) {
    scenes = scenes.map((s) => (s.sceneImage && !s.lastFrame ? { ...s, sceneImage: undefined } : s));
    changes.push("scene images dropped: those scenes are made from their prompt alone");
  }
  return { spec: { ...spec, scenes, config: { ...spec.config, quality: wanted } }, changes };
}

// Seconds a provider takes, by what it makes (estimates: Jimeng 3.0 takes about a minute for
// 5 s at 720P and two for 10 s at 1080P; OmniHuman about 10x the audio in fast mode).
const SEGMENT_SECONDS = { "720p": { 5: 45, 10: 70 }, "1080p": { 5: 70, 10: 120 } } as const;
const TALKING_HEAD_SECONDS = { "720p": { 5: 50, 10: 100 }, "1080p": { 5: 90, 10: 160 } } as const;
const SCENE_IMAGE_SECONDS = 15;
const NARRATION_SECONDS = 3;
const MERGE_SECONDS = 5;
/** Jimeng tasks in flight at once (the engine's volcengine:jimeng capacity). */
export const SEGMENTS_IN_FLIGHT = 5;

export type PlannedScene = { id: string; kind: "video" | "talking_head"; model: string; credits: number; seconds: number };

/** Per scene: the model and its time; priced by `prices` ("step:index" -> credits). */
export function planScenes(inputs: MovieInputs, prices: Record<string, number>) {
  const tier = inputs.hd ? "1080p" : "720p";
  const scenes: PlannedScene[] = inputs.scenes.map((s, i) => ({
    id: s.id,
    kind: s.kind,
    model: s.kind === "talking_head" ? `omnihuman-1.5 (${inputs.hd ? 1080 : 720})` : jimengReqKey(s.mode, inputs.hd),
    credits: prices[`segment:${i}`] ?? 0,
    seconds: (s.kind === "talking_head" ? TALKING_HEAD_SECONDS : SEGMENT_SECONDS)[tier][s.duration],
  }));
  const extras = [
    ...inputs.scene_images.map((img, i) => ({ item: `scene image ${img.scene_id}`, credits: prices[`scene_image:${i}`] ?? 0 })),
    ...inputs.narrations.map((n, i) => ({ item: `narration ${n.scene_id}`, credits: prices[`narration:${i}`] ?? 0 })),
    ...(inputs.merge ? [{ item: "merge", credits: prices["merge:0"] ?? 0 }] : []),
  ];
  // Segments run in waves; a wave waits for its scene images (and narrations, with talking heads).
  const waves: number[] = [];
  for (let i = 0; i < scenes.length; i += SEGMENTS_IN_FLIGHT) waves.push(Math.max(...scenes.slice(i, i + SEGMENTS_IN_FLIGHT).map((s) => s.seconds)));
  const before = Math.max(inputs.scene_images.length ? SCENE_IMAGE_SECONDS : 0, inputs.talking_heads ? NARRATION_SECONDS : 0);
  const seconds = before + waves.reduce((a, b) => a + b, 0) + (inputs.merge ? MERGE_SECONDS : 0);
  const credits = scenes.reduce((sum, s) => sum + s.credits, 0) + extras.reduce((sum, e) => sum + e.credits, 0);
  return { scenes, extras, totals: { credits, seconds } };
}
