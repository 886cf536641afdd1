// MovieFlow's video-specify and video-plan in the `video` function: `POST video/specify`
// drafts a spec with Gemini; `POST video/plan` shows what a spec costs and takes per goal;
// `POST video/from-spec` imports a Spec-Kit spec.
import type { Hono } from "hono";
import { z } from "zod";
import { asUser } from "../db.ts";
import { AppError } from "../errors.ts";
import { type Env, parseBody, validate } from "../http.ts";
import { MAX_MOVIE_SECONDS, MAX_SCENES, movieInputs, movieRequest } from "../movie.ts";
import { paidCall } from "../paid-calls.ts";
import { optimizeSpec, planScenes } from "../plan.ts";
import { fromSpecKit, MAX_SPEC_BYTES } from "../spec-kit.ts";
import { draftMovie } from "../providers/gemini.ts";
import { ProviderError } from "../providers/http.ts";
import { geminiConfig } from "../providers/index.ts";
import { TTS_MAX_TEXT_BYTES } from "../providers/volcengine-tts.ts";
import { fileResolver } from "./files.ts";
import { resolveSpec } from "./templates.ts";

export const specifyRequest = z.strictObject({
  description: z.string().trim().min(1).max(2000),
  duration: z.number().int().min(5).max(MAX_MOVIE_SECONDS).multipleOf(5, "must be a multiple of 5 seconds").default(60),
  platform: z.enum(["douyin", "wechat", "bilibili"]).default("douyin"),
  style: z.enum(["cartoon", "realistic", "anime"]).default("realistic"),
  scenes: z.number().int().min(1).max(MAX_SCENES).optional(),
});

export const fromSpecRequest = z.strictObject({
  markdown: z.string().min(1).describe(`A spec.md of at most ${MAX_SPEC_BYTES / 1024} KB`),
  file: z.string().max(200).default("spec.md"),
});

export const planRequest = z.strictObject({
  spec: z.record(z.string(), z.unknown()),
  optimize: z.enum(["speed", "quality", "cost"]).optional(),
  quality: z.enum(["low", "medium", "high"]).optional(),
  generator: z.enum(["volcano", "gemini"]).optional(),
});

/** Scenes of 10 s, and one of 5 s when the length asks for it; or `count` equal scenes. */
function sceneLengths(seconds: number, count?: number): (5 | 10)[] {
  if (count) {
    const each = seconds / count;
    if (each !== 5 && each !== 10) throw new AppError("INVALID_REQUEST", `scenes: ${count} scenes cannot share ${seconds} s (each must be 5 or 10 s)`);
    return Array(count).fill(each);
  }
  return [...Array(Math.floor(seconds / 10)).fill(10), ...(seconds % 10 ? [5] : [])];
}

const cutToBytes = (text: string, max: number) => {
  let out = text;
  while (new TextEncoder().encode(out).length > max) out = out.slice(0, -1);
  return out;
};

export function planRoutes(app: Hono<Env>) {
  app.post("/specify", async (c) => {
    const req = await parseBody(c, specifyRequest);
    const lengths = sceneLengths(req.duration, req.scenes);
    // Paid as a spec draft: a spec that fails our own validation is refunded too.
    const spec = await paidCall(c.get("claims"), { pipeline: "movie", sku: "spec_draft" }, async () => {
      const draft = await draftMovie(geminiConfig(), { description: req.description, scenes: lengths.length, seconds: req.duration, platform: req.platform, style: req.style })
        .catch((err) => {
          throw err instanceof ProviderError ? new AppError(err.retryable ? "SERVICE_UNAVAILABLE" : "INTERNAL_ERROR", `The draft failed: ${err.message}`) : err;
        });
      return validate(movieRequest, {
        projectName: draft.title.slice(0, 100),
        scenes: lengths.map((duration, i) => {
          const s = draft.scenes[i % draft.scenes.length];
          return { id: `scene${i + 1}`, prompt: `${s.prompt}, ${req.style} style`.slice(0, 800), duration, audio: { text: cutToBytes(s.narration, TTS_MAX_TEXT_BYTES), voice: "narrator" } };
        }),
        config: { platform: req.platform, resolution: "1080x1920", fps: 24, quality: "high" },
        effects: { transitions: true, backgroundMusic: null, watermark: false },
      });
    });
    return c.json({ spec });
  });

  // A Spec-Kit spec.md as a MovieFlow spec (what `movieflow from-spec` does on the command line).
  app.post("/from-spec", async (c) => {
    const req = await parseBody(c, fromSpecRequest);
    const { spec, warnings } = fromSpecKit(req.markdown, req.file);
    return c.json({ spec: validate(movieRequest, spec), warnings });
  });

  app.post("/plan", async (c) => {
    const claims = c.get("claims");
    const req = await parseBody(c, planRequest);
    const { spec, changes } = optimizeSpec(await resolveSpec(claims, req.spec), req.optimize, req.quality);
    const inputs = await movieInputs(fileResolver(claims), spec);
    const [q] = await asUser(claims, (sql) => sql<{ plan: Record<string, number> }[]>`select plan from public.price_quote('movie', ${sql.json(inputs)})`);
    // Gemini makes scene images; every video is Volcengine's: `generator` has nothing else to choose.
    return c.json({ optimize: req.optimize ?? null, quality: spec.config.quality, changes, ...planScenes(inputs, q.plan), spec });
  });
}
