// MovieFlow's request (seed 002) and the engine inputs it becomes. The seed's field names and
// limits: at most 6 scenes and 60 s, scenes of 5 or 10 s (121 or 241 frames at 24 fps).
import { z } from "zod";
import { AppError } from "./errors.ts";
import { JIMENG_MODELS, type JimengMode } from "./providers/volcengine.ts";
import { EMOTIONS, TTS_MAX_TEXT_BYTES, VOICE_NAMES } from "./providers/volcengine-tts.ts";

export const MAX_SCENES = 6;
export const MAX_MOVIE_SECONDS = 60;
export const MAX_BATCH_SEGMENTS = 3;
const FRAMES = { 5: 121, 10: 241 } as const;

/** Canvas per platform (all three are vertical 9:16 feeds) and resolution. */
const RESOLUTIONS = { "1080x1920": { width: 1080, height: 1920 }, "720x1280": { width: 720, height: 1280 } } as const;

export type MovieScene = {
  id: string;
  /** A Jimeng clip, or a talking head (OmniHuman) speaking the scene's narration. */
  kind: "video" | "talking_head";
  prompt: string;
  duration: 5 | 10;
  frames: 121 | 241;
  mode: JimengMode;
  aspect_ratio: string;
  seed: number;
  first_frame_path?: string;
  last_frame_path?: string;
  avatar_path?: string;
  /** Set when the same request may be answered from the media cache (a fixed seed, frames
   * known by content). */
  cache_key?: string;
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
  /** Present when a scene is a talking head: segments wait for the narrations. */
  talking_heads?: true;
};

/** A file a spec names: a path in the caller's assets folder, or an asset id. */
export type FileRef = { path: string; sha256: string | null };
/** Finds the caller's file for a spec field (and checks its kind), or refuses. */
export type FileResolver = (ref: string, field: string, kind: "image" | "audio") => Promise<FileRef>;

const utf8Bytes = (s: string) => new TextEncoder().encode(s).length;
const sceneId = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "must be 1 to 64 letters, digits, _ or -");
const storagePath = z.string().min(1).max(512).regex(/^[0-9a-f-]{36}\/[\w./-]+$/, "must be <your user id>/<file> in the assets bucket")
  .refine((p) => !p.includes(".."), "must not contain ..");
/** An asset's id, or its path in the assets bucket. */
const fileRef = z.union([z.uuid(), storagePath], { error: "must be an asset id or <your user id>/<file> in the assets bucket" });
/** A track of the music library by name (the seed's "chinese_traditional.mp3"): an extension,
 * if any, is ignored, since the library stores every track as FLAC. */
export const MUSIC_TRACK = /^[a-z0-9][a-z0-9_-]{0,62}(\.(mp3|flac|wav|m4a|aac|ogg))?$/i;
const musicRef = z.union([z.uuid(), storagePath, z.string().regex(MUSIC_TRACK)],
  { error: "must be an asset id, <your user id>/<file> in the assets bucket, or the name of a track of the music library" });
const seed = z.number().int().min(-1).max(2 ** 32 - 1);
const prompt = z.string().trim().min(1, "must not be empty").max(800, "must be at most 800 characters (Jimeng's limit)");

const scene = z.strictObject({
  id: sceneId,
  prompt,
  duration: z.union([z.literal(5), z.literal(10)], { error: "must be 5 or 10 (seconds)" }),
  frames: z.union([z.literal(121), z.literal(241)]).optional(),
  seed: seed.optional(),
  firstFrame: fileRef.optional(),
  lastFrame: fileRef.optional(),
  avatar: fileRef.optional(),
  digitalHuman: z.strictObject({
    drivenMode: z.number().int().optional(),
    mouthSync: z.boolean().optional(),
    headMotion: z.boolean().optional(),
    emotionExpression: z.string().trim().max(40).optional(),
  }).optional(),
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
  if (s.avatar && !s.audio) ctx.addIssue({ code: "custom", path: ["audio"], message: "a talking head (avatar) speaks its audio: give the scene an audio text" });
  if (s.avatar && (s.firstFrame || s.lastFrame || s.sceneImage)) {
    ctx.addIssue({ code: "custom", path: ["avatar"], message: "a talking head takes no firstFrame, lastFrame or sceneImage" });
  }
  if (s.digitalHuman && !s.avatar) ctx.addIssue({ code: "custom", path: ["digitalHuman"], message: "needs an avatar" });
});

export const movieRequest = z.strictObject({
  projectName: z.string().trim().min(1).max(100),
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
    backgroundMusic: musicRef.nullable().default(null),
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
  firstFrame: fileRef.optional(),
  lastFrame: fileRef.optional(),
  parameters: z.strictObject({
    frames: z.union([z.literal(121), z.literal(241)]).default(121),
    seed: seed.default(-1),
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

/** A batch item names its segment `id`, as the seed's batch example does, or `segmentId`. */
const batchItem = z.preprocess((v) => {
  if (!v || typeof v !== "object" || !("id" in v)) return v;
  const { id, ...rest } = v as Record<string, unknown>;
  return "segmentId" in rest ? v : { segmentId: id, ...rest };
}, segment);

export const segmentRequest = z.discriminatedUnion("batch", [
  z.strictObject({ batch: z.literal(true), segments: z.array(batchItem).min(1).max(MAX_BATCH_SEGMENTS, `at most ${MAX_BATCH_SEGMENTS} segments per batch`) }),
  segment,
]);
export type SegmentRequest = z.infer<typeof segment>;

const modeOf = (first: unknown, last: unknown): JimengMode => (last ? "i2v_first_tail" : first ? "i2v_first" : "t2v");

const hex = (b: ArrayBuffer) => [...new Uint8Array(b)].map((x) => x.toString(16).padStart(2, "0")).join("");
export async function sha256Hex(data: string | Uint8Array<ArrayBuffer>): Promise<string> {
  return hex(await crypto.subtle.digest("SHA-256", typeof data === "string" ? new TextEncoder().encode(data) : data));
}

/** What decides a Jimeng segment: the same request with a fixed seed and the same frame
 * contents gives the same video, so it may come from the cache. Null when it may not. */
async function segmentCacheKey(scene: Omit<MovieScene, "cache_key">, hd: boolean, frames: (FileRef | undefined)[]) {
  if (scene.kind !== "video" || scene.seed === -1 || frames.some((f) => f && !f.sha256)) return undefined;
  return await sha256Hex(JSON.stringify(["jimeng-3.0", hd, scene.mode, scene.prompt, scene.seed, scene.frames, scene.aspect_ratio,
    ...frames.map((f) => f?.sha256 ?? null)]));
}

/** A scene's files resolved to paths, and its cache key. */
async function sceneFiles(resolve: FileResolver, scene: Omit<MovieScene, "cache_key">, hd: boolean, field: string,
  refs: { firstFrame?: string; lastFrame?: string; avatar?: string }): Promise<MovieScene> {
  const first = refs.firstFrame ? await resolve(refs.firstFrame, `${field}.firstFrame`, "image") : undefined;
  const last = refs.lastFrame ? await resolve(refs.lastFrame, `${field}.lastFrame`, "image") : undefined;
  const avatar = refs.avatar ? await resolve(refs.avatar, `${field}.avatar`, "image") : undefined;
  const cacheKey = await segmentCacheKey(scene, hd, [first, last]);
  return {
    ...scene,
    ...(first ? { first_frame_path: first.path } : {}),
    ...(last ? { last_frame_path: last.path } : {}),
    ...(avatar ? { avatar_path: avatar.path } : {}),
    ...(cacheKey ? { cache_key: cacheKey } : {}),
  };
}

/** The seed's digital-human switches as OmniHuman takes them: it always syncs the mouth and
 * moves face, head and body from the audio (mouthSync, drivenMode: nothing to switch); an
 * emotion and a still head become words of its prompt. */
function talkingHeadPrompt(prompt: string, emotion: string | undefined, dh: { headMotion?: boolean; emotionExpression?: string } | undefined) {
  const mood = dh?.emotionExpression ?? emotion;
  return [prompt, mood && `speaking with a ${mood} expression`, dh?.headMotion === false && "keeping the head still"].filter(Boolean).join(", ");
}

export async function movieInputs(resolve: FileResolver, req: MovieRequest): Promise<MovieInputs> {
  const { platform, resolution, fps, quality } = req.config;
  const hd = quality === "high";
  const watermark = req.effects.watermark === true ? "reelforge" : req.effects.watermark || null;
  const music = req.effects.backgroundMusic ? await resolve(req.effects.backgroundMusic, "effects.backgroundMusic", "audio") : null;
  const scenes = await Promise.all(req.scenes.map((s, i) =>
    sceneFiles(resolve, {
      id: s.id,
      kind: s.avatar ? "talking_head" : "video",
      prompt: s.avatar ? talkingHeadPrompt(s.prompt, s.audio?.emotion, s.digitalHuman) : s.prompt,
      duration: s.duration,
      frames: FRAMES[s.duration],
      mode: modeOf(s.firstFrame || s.sceneImage, s.lastFrame),
      aspect_ratio: "9:16",
      seed: s.seed ?? -1,
    }, hd, `scenes.${i}`, s)
  ));
  return {
    project_name: req.projectName,
    platform,
    aspect_ratio: "9:16",
    ...RESOLUTIONS[resolution],
    fps,
    hd,
    transitions: req.effects.transitions,
    watermark,
    music_path: music?.path ?? null,
    scenes,
    scene_images: req.scenes.filter((s) => s.sceneImage).map((s) => {
      const opts = s.sceneImage === true ? {} : s.sceneImage!;
      return { scene_id: s.id, prompt: [opts.prompt ?? s.prompt, opts.style && `${opts.style} style`].filter(Boolean).join(", ") };
    }),
    narrations: req.scenes.filter((s) => s.audio).map((s) => ({ scene_id: s.id, text: s.audio!.text, voice: s.audio!.voice, emotion: s.audio!.emotion ?? null })),
    merge: true,
    ...(req.scenes.some((s) => s.avatar) ? { talking_heads: true as const } : {}),
  };
}

/** POST video/segment: segments alone (no narration, no merge), stored as Jimeng made them. */
export async function segmentInputs(resolve: FileResolver, segments: SegmentRequest[]): Promise<MovieInputs> {
  if (new Set(segments.map((s) => s.segmentId)).size !== segments.length) throw new AppError("INVALID_REQUEST", "segmentId must be unique within a batch");
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
    scenes: await Promise.all(segments.map((s, i) =>
      sceneFiles(resolve, {
        id: s.segmentId,
        kind: "video",
        prompt: s.prompt,
        duration: s.parameters.frames === 241 ? 10 : 5,
        frames: s.parameters.frames,
        mode: JIMENG_MODELS[s.model].mode,
        aspect_ratio: s.parameters.aspectRatio,
        seed: s.parameters.seed,
      }, hd[0], `segments.${i}`, s)
    )),
    scene_images: [],
    narrations: [],
  };
}

/** A rough wait: Jimeng makes a segment in one to two minutes, five at a time. */
export function estimatedSeconds(inputs: MovieInputs): number {
  return Math.ceil(inputs.scenes.length / 5) * 120 + (inputs.scene_images.length ? 20 : 0) + (inputs.merge ? 15 : 0);
}
