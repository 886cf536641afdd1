// The model-direct catalog: the five models of the anime-video contract, what each accepts,
// and how a validated request becomes a kie.ai createTask body (shared/providers/kie.md).
// Prices live in SQL (price_list) so quote and reserve share one function.
import { z } from "zod";
import { AppError } from "./errors.ts";

export type TaskSubtype = "text_to_video" | "image_to_video";

type ModelSpec = {
  name: string;
  subtypes: TaskSubtype[];
  aspectRatios?: string[];
  durations: number[];
  resolutions?: string[];
  /** Send a resolution only when the user picked one (no default is filled in). */
  resolutionOnlyWhenGiven?: boolean;
  modes?: string[];
  qualities?: string[];
  multiShots?: boolean;
  maxImages: number;
  estimatedSeconds: number;
};

export const MODELS = {
  "wan/2.5": {
    name: "Wan 2.5", subtypes: ["text_to_video", "image_to_video"], aspectRatios: ["1:1", "9:16", "16:9"],
    durations: [5, 10], resolutions: ["720p", "1080p"], maxImages: 1, estimatedSeconds: 120,
  },
  "kling/video-v2.5": {
    name: "Kling 2.5", subtypes: ["text_to_video", "image_to_video"], aspectRatios: ["1:1", "9:16", "16:9"],
    // kie's Kling 2.5 field list does not name `resolution` ([SECONDARY] transcription); the
    // product contract offers it, so it is sent when the user asks, never by default.
    durations: [5, 10], resolutions: ["720p", "1080p"], resolutionOnlyWhenGiven: true, maxImages: 2, estimatedSeconds: 150,
  },
  "kling-3.0/video": {
    name: "Kling 3.0", subtypes: ["text_to_video", "image_to_video"], aspectRatios: ["1:1", "9:16", "16:9"],
    durations: [5, 10], modes: ["std", "pro"], multiShots: true, maxImages: 2, estimatedSeconds: 240,
  },
  "sora-2": {
    name: "Sora-2", subtypes: ["text_to_video", "image_to_video"], aspectRatios: ["landscape", "portrait"],
    durations: [10, 15], maxImages: 1, estimatedSeconds: 180,
  },
  "sora-2-pro": {
    name: "Sora-2 Pro", subtypes: ["text_to_video", "image_to_video"], aspectRatios: ["landscape", "portrait"],
    durations: [10, 15], qualities: ["standard", "high"], maxImages: 1, estimatedSeconds: 300,
  },
} satisfies Record<string, ModelSpec>;

export type ModelId = keyof typeof MODELS;

// The request fields of create-task and quote, as in the contract.
export const videoRequest = z.strictObject({
  prompt: z.string().trim().min(1).max(2500).optional(),
  model_id: z.enum(Object.keys(MODELS) as [ModelId, ...ModelId[]]),
  task_subtype: z.enum(["text_to_video", "image_to_video"]).optional(),
  aspect_ratio: z.string().max(16).optional(),
  duration_seconds: z.number().int().optional(),
  resolution: z.string().max(16).optional(),
  mode: z.string().max(16).optional(),
  quality: z.string().max(16).optional(),
  multi_shots: z.boolean().default(false),
  motion: z.string().max(500).optional(),
  style_preset: z.string().max(100).optional(),
  reference_image_url: z.string().url().max(2048).optional(),
  reference_image_urls: z.array(z.string().url().max(2048)).max(10).optional(),
  character_uuid: z.string().uuid().optional(),
  visibility_level: z.enum(["public", "private"]).default("private"),
});
export type VideoRequest = z.infer<typeof videoRequest>;

/** The validated, normalized inputs stored on the generation and priced in SQL. */
export type ModelDirectInputs = {
  model_id: ModelId;
  prompt: string;
  task_subtype: TaskSubtype;
  image_urls: string[];
  aspect_ratio?: string;
  duration_seconds: number;
  resolution?: string;
  mode?: string;
  quality?: string;
  multi_shots: boolean;
  character_uuid?: string;
  /** The character's reference image in Storage, used when no image URL was given. */
  character_image_path?: string;
};

function refuse(message: string): never {
  throw new AppError("INVALID_REQUEST", message);
}

function pick(value: string | number | undefined, allowed: readonly (string | number)[] | undefined, field: string, model: string, fallback: string | number | undefined) {
  if (!allowed) {
    if (value !== undefined) refuse(`${field} is not supported by ${model}`);
    return undefined;
  }
  if (value === undefined) return fallback;
  if (!allowed.includes(value)) refuse(`${field} must be one of ${allowed.join(", ")} for ${model}`);
  return value;
}

/** Applies the contract's rules. `characterImagePath` is the picked character's reference
 * image; it stands in for the images when none is given (the OC / reference switch). */
export function normalizeVideoRequest(req: VideoRequest, opts: { characterImagePath?: string; forQuote?: boolean } = {}): ModelDirectInputs {
  const spec: ModelSpec = MODELS[req.model_id];
  const urls = [...(req.reference_image_url ? [req.reference_image_url] : []), ...(req.reference_image_urls ?? [])];
  const useCharacter = urls.length === 0 && opts.characterImagePath !== undefined;
  const images = useCharacter ? [opts.characterImagePath!] : urls;

  if (req.multi_shots) {
    if (!spec.multiShots) refuse(`multi_shots is not supported by ${spec.name}`);
    if (images.length !== 1) refuse("Kling 3.0 multi-shot needs exactly one first-frame image");
  }
  if (images.length > spec.maxImages) {
    refuse(spec.maxImages === 2
      ? `${spec.name} takes at most 2 reference images (start and end frame)`
      : `${spec.name} takes at most 1 reference image`);
  }
  const subtype = req.task_subtype ?? (images.length ? "image_to_video" : "text_to_video");
  if (subtype === "image_to_video" && images.length === 0) refuse("image_to_video needs a reference image");
  if (subtype === "text_to_video" && images.length > 0) refuse("text_to_video takes no reference image; use image_to_video");
  if (!req.prompt && !opts.forQuote) refuse("prompt is required");

  return {
    model_id: req.model_id,
    prompt: [req.prompt ?? "", req.motion && `Motion: ${req.motion}`, req.style_preset && `Style: ${req.style_preset}`].filter(Boolean).join(". "),
    task_subtype: subtype,
    image_urls: urls,
    aspect_ratio: pick(req.aspect_ratio, spec.aspectRatios, "aspect_ratio", spec.name, spec.aspectRatios?.[0]) as string | undefined,
    duration_seconds: pick(req.duration_seconds, spec.durations, "duration_seconds", spec.name, spec.durations[0]) as number,
    resolution: pick(req.resolution, spec.resolutions, "resolution", spec.name, spec.resolutionOnlyWhenGiven ? undefined : spec.resolutions?.[0]) as string | undefined,
    mode: pick(req.mode, spec.modes, "mode", spec.name, spec.modes?.[0]) as string | undefined,
    quality: pick(req.quality, spec.qualities, "quality", spec.name, spec.qualities?.[0]) as string | undefined,
    multi_shots: req.multi_shots,
    ...(req.character_uuid ? { character_uuid: req.character_uuid } : {}),
    ...(useCharacter ? { character_image_path: opts.characterImagePath } : {}),
  };
}

/** The kie.ai createTask `model` and `input` for normalized inputs. */
export function kieTask(i: ModelDirectInputs): { model: string; input: Record<string, unknown> } {
  const i2v = i.task_subtype === "image_to_video";
  const duration = String(i.duration_seconds);
  switch (i.model_id) {
    case "wan/2.5":
      return {
        model: i2v ? "wan/2-5-image-to-video" : "wan/2-5-text-to-video",
        input: { prompt: i.prompt, duration, resolution: i.resolution, ...(i2v ? { image_url: i.image_urls[0] } : { aspect_ratio: i.aspect_ratio }) },
      };
    case "kling/video-v2.5":
      return {
        model: i2v ? "kling/v2-5-turbo-image-to-video-pro" : "kling/v2-5-turbo-text-to-video-pro",
        input: {
          prompt: i.prompt, duration, ...(i.resolution ? { resolution: i.resolution } : {}),
          ...(i2v ? { image_url: i.image_urls[0], ...(i.image_urls[1] ? { tail_image_url: i.image_urls[1] } : {}) } : { aspect_ratio: i.aspect_ratio }),
        },
      };
    case "kling-3.0/video":
      return {
        model: "kling-3.0",
        input: {
          ...(i.multi_shots
            ? { multi_shots: true, multi_prompt: [{ prompt: i.prompt.slice(0, 500), duration: i.duration_seconds }], image_urls: i.image_urls.slice(0, 1) }
            : { multi_shots: false, prompt: i.prompt, ...(i.image_urls.length ? { image_urls: i.image_urls } : {}) }),
          duration, aspect_ratio: i.aspect_ratio, mode: i.mode, sound: i.multi_shots,
        },
      };
    case "sora-2":
    case "sora-2-pro": {
      const pro = i.model_id === "sora-2-pro";
      return {
        model: `${i.model_id}-${i2v ? "image" : "text"}-to-video`,
        input: {
          prompt: i.prompt, aspect_ratio: i.aspect_ratio, n_frames: duration, remove_watermark: true,
          ...(i2v ? { image_urls: i.image_urls.slice(0, 1) } : {}), ...(pro ? { size: i.quality } : {}),
        },
      };
    }
  }
}
