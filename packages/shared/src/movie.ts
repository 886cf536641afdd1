// MovieFlow's request (seed 002) and the engine inputs it becomes. The seed's field names and
// limits: at most 6 scenes and 60 s, scenes of 5 or 10 s (121 or 241 frames at 24 fps).
import { z } from "zod";
import { AppError } from "./errors.ts";
import { JIMENG_MODELS, type JimengMode } from "./providers/volcengine.ts";
import { EMOTIONS, TTS_MAX_TEXT_BYTES, VOICE_NAMES } from "./providers/volcengine-tts.ts";
import { objectExists } from "./storage.ts";

export const MAX_SCENES = 6;
export const MAX_MOVIE_SECONDS = 60;
export const MAX_BATCH_SEGMENTS = 3;
const FRAMES = { 5: 121, 10: 241 } as const;

/** Canvas per platform (all three are vertical 9:16 feeds) and resolution. */
const RESOLUTIONS = { "1080x1920": { width: 1080, height: 1920 }, "720x1280": { width: 720, height: 1280 } } as const;

export type MovieScene = {
  id: string;
  prompt: string;
  duration: 5 | 10;
  frames: 121 | 241;
  mode: JimengMode;
  aspect_ratio: string;
  seed: number;
  first_frame_path?: string;
  last_frame_path?: string;
};
export type SceneImageRequest = { scene_id: string; prompt: string };
export type Narration = { scene_id: string; text: string; voice: string; emotion: string | null };
export type MovieInputs = {
  project_name: string;
  platform: "douyin" | "wechat" | "bilibili";
  aspect_ratio: string;
  width: number;
  height: number;
  fps: number;
  /** Jimeng's 1080P models (quality high) or 720P ones. */
  hd: boolean;
  transitions: boolean;
  watermark: string | null;
  music_path: string | null;
  scenes: MovieScene[];
  scene_images: SceneImageRequest[];
  narrations: Narration[];
  /** Present for a movie: the merge runs (absent for POST video/segment). */
  merge?: true;
};

const utf8Bytes = (s: string) => new TextEncoder().encode(s).length;
const sceneId = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "must be 1 to 64 letters, digits, _ or -");
const storagePath = z.string().min(1).max(512).regex(/^[0-9a-f-]{36}\/[\w./-]+$/, "must be <your user id>/<file> in the assets bucket")
  .refine((p) => !p.includes(".."), "must not contain ..");
const prompt = z.string().trim().min(1, "must not be empty").max(800, "must be at most 800 characters (Jimeng's limit)");

const scene = z.strictObject({
  id: sceneId,
  prompt,
  duration: z.union([z.literal(5), z.literal(10)], { error: "must be 5 or 10 (seconds)" }),
  frames: z.union([z.literal(121), z.literal(241)]).optional(),
  firstFrame: storagePath.optional(),
  lastFrame: storagePath.optional(),
  sceneImage: z.union([z.literal(true), z.strictObject({ prompt: z.string().trim().min(1).max(2000).optional(), style: z.string().max(100).optional() })]).optional(),
  audio: z.strictObject({
    text: z.string().trim().min(1).refine((t) => utf8Bytes(t) <= TTS_MAX_TEXT_BYTES, `must be at most ${TTS_MAX_TEXT_BYTES} bytes of UTF-8`),
    voice: z.enum(VOICE_NAMES as [string, ...string[]]).default("narrator"),
    emotion: z.enum(EMOTIONS).optional(),
  }).optional(),
}).superRefine((s, ctx) => {
  if (s.frames !== undefined && s.frames !== FRAMES[s.duration]) {
    ctx.addIssue({ code: "custom", path: ["frames"], message: `must be ${FRAMES[s.duration]} for ${s.duration} s` });
  }
  if (s.firstFrame && s.sceneImage) ctx.addIssue({ code: "custom", path: ["sceneImage"], message: "a scene has a firstFrame or a sceneImage, not both" });
  if (s.lastFrame && !s.firstFrame && !s.sceneImage) ctx.addIssue({ code: "custom", path: ["lastFrame"], message: "needs a firstFrame or a sceneImage" });
});

export const movieRequest = z.strictObject({
  projectName: z.string().trim().min(1).max(100),
  template: z.undefined({ error: "templates are not available yet: describe every scene" }).optional(),
  scenes: z.array(scene).min(1).max(MAX_SCENES, `at most ${MAX_SCENES} scenes`)
    .refine((s) => new Set(s.map((x) => x.id)).size === s.length, "scene ids must be unique")
    .refine((s) => s.reduce((sum, x) => sum + x.duration, 0) <= MAX_MOVIE_SECONDS, `scenes must add up to at most ${MAX_MOVIE_SECONDS} s`),
  config: z.strictObject({
    platform: z.enum(["douyin", "wechat", "bilibili"]).default("douyin"),
    aspectRatio: z.literal("9:16").default("9:16"),
    resolution: z.enum(["1080x1920", "720x1280"]).default("1080x1920"),
    fps: z.union([z.literal(24), z.literal(25), z.literal(30)]).default(24),
    quality: z.enum(["high", "medium", "low"]).default("high"),
  }).default({ platform: "douyin", aspectRatio: "9:16", resolution: "1080x1920", fps: 24, quality: "high" }),
  effects: z.strictObject({
    transitions: z.boolean().default(true),
    backgroundMusic: storagePath.nullable().default(null),
    watermark: z.union([z.boolean(), z.string().trim().min(1).max(40)]).default(false),
  }).default({ transitions: true, backgroundMusic: null, watermark: false }),
});
export type MovieRequest = z.infer<typeof movieRequest>;

// `model` is a Jimeng 3.0 req_key; `scale` and `ddimSteps` belong to older models and are ignored.
const segment = z.strictObject({
  batch: z.literal(false).optional(),
  segmentId: sceneId,
  prompt,
  model: z.enum(Object.keys(JIMENG_MODELS) as [keyof typeof JIMENG_MODELS]).default("jimeng_t2v_v30_1080p"),
  firstFrame: storagePath.optional(),
  lastFrame: storagePath.optional(),
  parameters: z.strictObject({
    frames: z.union([z.literal(121), z.literal(241)]).default(121),
    seed: z.number().int().min(-1).max(2 ** 32 - 1).default(-1),
    scale: z.number().optional(),
    ddimSteps: z.number().int().optional(),
    aspectRatio: z.enum(["16:9", "4:3", "1:1", "3:4", "9:16", "21:9"]).default("9:16"),
  }).default({ frames: 121, seed: -1, aspectRatio: "9:16" }),
}).superRefine((s, ctx) => {
  const images = { t2v: 0, i2v_first: 1, i2v_first_tail: 2 }[JIMENG_MODELS[s.model].mode];
  const given = Number(!!s.firstFrame) + Number(!!s.lastFrame);
  if (given !== images || (s.lastFrame && !s.firstFrame)) {
    ctx.addIssue({ code: "custom", path: ["firstFrame"], message: `${s.model} takes ${["no images", "a firstFrame", "a firstFrame and a lastFrame"][images]}` });
  }
});

export const segmentRequest = z.discriminatedUnion("batch", [
  z.strictObject({ batch: z.literal(true), segments: z.array(segment).min(1).max(MAX_BATCH_SEGMENTS, `at most ${MAX_BATCH_SEGMENTS} segments per batch`) }),
  segment,
]);
export type SegmentRequest = z.infer<typeof segment>;

/** The user's own files only; one that does not exist is refused before anything is stored. */
async function requireOwnFile(userId: string, path: string | null | undefined, field: string) {
  if (!path) return;
  if (!path.startsWith(`${userId}/`)) throw new AppError("FORBIDDEN", `${field} must be in your own folder of the assets bucket`);
  if (!(await objectExists("assets", path))) throw new AppError("NOT_FOUND", `${field}: no such file in your assets folder`);
}

const modeOf = (first: unknown, last: unknown): JimengMode => (last ? "i2v_first_tail" : first ? "i2v_first" : "t2v");
const framePaths = (first?: string, last?: string) => ({
  ...(first ? { first_frame_path: first } : {}),
  ...(last ? { last_frame_path: last } : {}),
});

export async function movieInputs(userId: string, req: MovieRequest): Promise<MovieInputs> {
  for (const [i, s] of req.scenes.entries()) {
    await requireOwnFile(userId, s.firstFrame, `scenes.${i}.firstFrame`);
    await requireOwnFile(userId, s.lastFrame, `scenes.${i}.lastFrame`);
  }
  await requireOwnFile(userId, req.effects.backgroundMusic, "effects.backgroundMusic");
  const { platform, resolution, fps, quality } = req.config;
  const watermark = req.effects.watermark === true ? "reelforge" : req.effects.watermark || null;
  return {
    project_name: req.projectName,
    platform,
    aspect_ratio: "9:16",
    ...RESOLUTIONS[resolution],
    fps,
    hd: quality === "high",
    transitions: req.effects.transitions,
    watermark,
    music_path: req.effects.backgroundMusic,
    scenes: req.scenes.map((s) => ({
      id: s.id,
      prompt: s.prompt,
      duration: s.duration,
      frames: FRAMES[s.duration],
      mode: modeOf(s.firstFrame || s.sceneImage, s.lastFrame),
      aspect_ratio: "9:16",
      seed: -1,
      ...framePaths(s.firstFrame, s.lastFrame),
    })),
    scene_images: req.scenes.filter((s) => s.sceneImage).map((s) => {
      const opts = s.sceneImage === true ? {} : s.sceneImage!;
      return { scene_id: s.id, prompt: [opts.prompt ?? s.prompt, opts.style && `${opts.style} style`].filter(Boolean).join(", ") };
    }),
    narrations: req.scenes.filter((s) => s.audio).map((s) => ({ scene_id: s.id, text: s.audio!.text, voice: s.audio!.voice, emotion: s.audio!.emotion ?? null })),
    merge: true,
  };
}

/** POST video/segment: segments alone (no narration, no merge), stored as Jimeng made them. */
export async function segmentInputs(userId: string, segments: SegmentRequest[]): Promise<MovieInputs> {
  if (new Set(segments.map((s) => s.segmentId)).size !== segments.length) throw new AppError("INVALID_REQUEST", "segmentId must be unique within a batch");
  for (const [i, s] of segments.entries()) {
    await requireOwnFile(userId, s.firstFrame, `segments.${i}.firstFrame`);
    await requireOwnFile(userId, s.lastFrame, `segments.${i}.lastFrame`);
  }
  const hd = segments.map((s) => JIMENG_MODELS[s.model].hd);
  if (hd.some((h) => h !== hd[0])) throw new AppError("INVALID_REQUEST", "A batch uses either 1080P or 720P models, not both");
  return {
    project_name: segments.map((s) => s.segmentId).join(", "),
    platform: "douyin",
    aspect_ratio: segments[0].parameters.aspectRatio,
    width: 1080,
    height: 1920,
    fps: 24,
    hd: hd[0],
    transitions: false,
    watermark: null,
    music_path: null,
    scenes: segments.map((s) => ({
      id: s.segmentId,
      prompt: s.prompt,
      duration: s.parameters.frames === 241 ? 10 : 5,
      frames: s.parameters.frames,
      mode: JIMENG_MODELS[s.model].mode,
      aspect_ratio: s.parameters.aspectRatio,
      seed: s.parameters.seed,
      ...framePaths(s.firstFrame, s.lastFrame),
    })),
    scene_images: [],
    narrations: [],
  };
}

/** A rough wait: Jimeng makes a segment in one to two minutes, five at a time. */
export function estimatedSeconds(inputs: MovieInputs): number {
  return Math.ceil(inputs.scenes.length / 5) * 120 + (inputs.scene_images.length ? 20 : 0) + (inputs.merge ? 15 : 0);
}
