// The anime-video contract (seed 001): create-task, optimize-prompt, quote, and the
// characters that create-task can use as reference.
import type { Context } from "hono";
import { z } from "zod";
import { asUser } from "../db.ts";
import { AppError } from "../errors.ts";
import { type Env, functionApp, idempotencyKey, parseBody, requireUser } from "../http.ts";
import { MODELS, type ModelDirectInputs, normalizeVideoRequest, videoRequest } from "../models.ts";
import { paidCall } from "../paid-calls.ts";
import { optimizeVideoPrompt } from "../providers/gemini.ts";
import { ProviderError } from "../providers/http.ts";
import { geminiConfig } from "../providers/index.ts";
import { objectExists } from "../storage.ts";
import { assertPublicUrl } from "../urls.ts";

async function characterImage(c: Context<Env>, characterId: string | undefined) {
  if (!characterId) return undefined;
  const [row] = await asUser(c.get("claims"), (sql) => sql`
    select reference_image_path from public.characters where id = ${characterId}`);
  if (!row) throw new AppError("NOT_FOUND", "Character not found");
  return row.reference_image_path as string;
}

async function quoteOf(c: Context<Env>, inputs: ModelDirectInputs) {
  const [q] = await asUser(c.get("claims"), (sql) => sql`
    select credits, explain from public.price_quote('model_direct', ${sql.json(inputs)})`);
  return { credits: q.credits as number, explain: q.explain as string };
}

export const optimizeRequest = z.strictObject({
  prompt: z.string().trim().min(1).max(2500),
  style: z.string().max(100).optional(),
  duration: z.string().max(16).optional(),
});
export const characterRequest = z.strictObject({
  name: z.string().trim().min(1).max(100),
  reference_image_path: z.string().min(1).max(512),
});

export function animeVideoApp() {
  const app = functionApp("anime-video");
  app.use("*", requireUser);

  app.post("/create-task", async (c) => {
    const req = await parseBody(c, videoRequest);
    const inputs = normalizeVideoRequest(req, { characterImagePath: await characterImage(c, req.character_uuid) });
    // Checked and kept in their canonical form: the provider is sent the URL that was checked.
    for (const [i, url] of inputs.image_urls.entries()) inputs.image_urls[i] = await assertPublicUrl(url, `reference image ${i + 1}`);
    const key = idempotencyKey(c);
    const [row] = await asUser(c.get("claims"), (sql) => sql`
      select id, credits_reserved from app.create_generation('model_direct', ${sql.json(inputs)}, ${key}, ${req.visibility_level})`);
    return c.json({
      success: true,
      data: {
        generation_uuid: row.id,
        status: "pending",
        estimated_time: MODELS[inputs.model_id].estimatedSeconds,
        credits_cost: row.credits_reserved,
        message: "Generation task created successfully",
      },
    }, 201);
  });

  app.post("/quote", async (c) => {
    const req = await parseBody(c, videoRequest);
    const inputs = normalizeVideoRequest(req, { characterImagePath: await characterImage(c, req.character_uuid), forQuote: true });
    const q = await quoteOf(c, inputs);
    return c.json({ estimated_credits: q.credits, explain: q.explain });
  });

  // A free call to a paid provider (priced 0): it needs a positive balance and counts against
  // a daily quota per user, besides the rate limit (requireUser).
  app.post("/optimize-prompt", async (c) => {
    const req = await parseBody(c, optimizeRequest);
    try {
      const result = await paidCall(c.get("claims"), { pipeline: "model_direct", sku: "prompt_optimization" }, () => optimizeVideoPrompt(geminiConfig(), req));
      return c.json({ success: true, data: { original_prompt: req.prompt, ...result } });
    } catch (err) {
      if (err instanceof ProviderError) {
        if (err.code === "CONTENT_VIOLATION") throw new AppError(err.code, err.message);
        // Gemini's rate limit reaches the caller as ours, with its RetryInfo delay.
        const retryAfter = err.retryAfterMs === undefined ? undefined : Math.max(1, Math.ceil(err.retryAfterMs / 1000));
        if (err.code === "RATE_LIMIT_EXCEEDED") {
          throw new AppError("RATE_LIMIT_EXCEEDED", "The prompt optimizer is busy; try again after the Retry-After delay", null, retryAfter);
        }
        throw new AppError("SERVICE_UNAVAILABLE", "The prompt optimizer is unavailable; try again shortly", null, retryAfter);
      }
      throw err;
    }
  });

  app.post("/characters", async (c) => {
    const req = await parseBody(c, characterRequest);
    // Only the caller's own files are looked up (anything else is refused below as FORBIDDEN),
    // so this tells nobody whether someone else's file exists.
    if (req.reference_image_path.startsWith(`${c.get("claims").sub}/`) && !(await objectExists("selfies", req.reference_image_path))) {
      throw new AppError("NOT_FOUND", "reference_image_path: no such image in your selfies folder");
    }
    const [row] = await asUser(c.get("claims"), (sql) => sql`
      select id, name, reference_image_path, created_at from app.create_character(${req.name}, ${req.reference_image_path})`);
    return c.json({ success: true, data: row }, 201);
  });

  app.get("/characters", async (c) => {
    const rows = await asUser(c.get("claims"), (sql) => sql`
      select id, name, reference_image_path, created_at from public.characters order by created_at desc limit 100`);
    return c.json({ success: true, data: rows });
  });
  return app;
}
