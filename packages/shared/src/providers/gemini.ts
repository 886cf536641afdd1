// Google Gemini generateContent with structured JSON output (shared/providers/gemini.md).
import { z } from "zod";
import { parseRetryAfter, ProviderError, providerFetch, providerHttpError, readJsonBody } from "./http.ts";

export type GeminiConfig = { baseUrl: string; apiKey: string; model: string };

export const scriptSchema = z.object({
  concept: z.string().min(1),
  visual_script: z.string().min(1),
  t2i_prompt: z.string().min(1).max(2000),
  motion_prompt: z.string().min(1).max(2500),
});
export type Script = z.infer<typeof scriptSchema>;

const SCRIPT_RESPONSE_SCHEMA = {
  type: "OBJECT",
  properties: {
    concept: { type: "STRING", description: "One-sentence concept of the video" },
    visual_script: { type: "STRING", description: "Shot-by-shot visual script" },
    t2i_prompt: { type: "STRING", description: "Prompt for the base frame image" },
    motion_prompt: { type: "STRING", description: "Camera and subject motion for image-to-video" },
  },
  required: ["concept", "visual_script", "t2i_prompt", "motion_prompt"],
  propertyOrdering: ["concept", "visual_script", "t2i_prompt", "motion_prompt"],
};

// Finish reasons that mean the answer was withheld for its content, with what the user is
// told (text and image models alike).
export const CONTENT_FINISH: Record<string, string> = {
  SAFETY: "the model's safety filter stopped the answer",
  RECITATION: "the model stopped an answer that recited existing material",
  BLOCKLIST: "the answer contained blocked terms",
  PROHIBITED_CONTENT: "the answer would contain prohibited content",
  SPII: "the answer would contain sensitive personal information",
  IMAGE_SAFETY: "the image was refused by the safety filter",
  IMAGE_PROHIBITED_CONTENT: "the image would contain prohibited content",
  IMAGE_RECITATION: "the image recited existing material",
};

// Output budget of the answer itself. gemini-2.5 models count thinking tokens against
// maxOutputTokens, so thinking is turned off where the model allows it (Flash: budget 0)
// and otherwise capped and added on top (Pro cannot turn it off; its minimum is 128).
const ANSWER_TOKENS = 2048;
const PRO_THINKING_BUDGET = 1024;

export function thinkingBudget(model: string): number {
  return /flash/i.test(model) ? 0 : PRO_THINKING_BUDGET;
}

function generationConfig(model: string, responseSchema: Record<string, unknown>, answerTokens: number) {
  const budget = thinkingBudget(model);
  return {
    temperature: 0.8,
    maxOutputTokens: answerTokens + budget,
    responseMimeType: "application/json",
    responseSchema,
    thinkingConfig: { thinkingBudget: budget },
  };
}

type GeminiError = { error?: { code?: number; message?: string; status?: string; details?: Array<Record<string, unknown>> } };

/** "44s" / "44.2s" (a protobuf Duration in JSON) as milliseconds. */
function durationMs(value: unknown): number | undefined {
  if (typeof value !== "string" || !/^\d+(\.\d+)?s$/.test(value.trim())) return undefined;
  return Math.ceil(parseFloat(value) * 1000);
}

function geminiError(status: number, body: unknown, retryAfterHeader: string | null): ProviderError {
  const err = (Array.isArray(body) ? body[0] : body as GeminiError)?.error ?? {};
  const details = Array.isArray(err.details) ? err.details : [];
  const retryDelay = details.find((d: Record<string, unknown>) => String(d["@type"]).endsWith("RetryInfo"))?.retryDelay;
  const retryAfterMs = durationMs(retryDelay) ?? parseRetryAfter(retryAfterHeader);
  const code = typeof err.code === "number" ? err.code : status;
  // "limit: 0" on a free-tier quota: the project has no free tier for this model, and
  // waiting does not help (image models are paid-only).
  if (code === 429 && /\blimit: 0\b/.test(err.message ?? "")) {
    return new ProviderError("INTERNAL_ERROR", "gemini: the project has no quota for this model (limit: 0 on the free tier); enable billing", false);
  }
  if (code === 429 && JSON.stringify(details).includes("PerDay")) {
    return new ProviderError("RATE_LIMIT_EXCEEDED", "gemini: daily quota exhausted", false, { retryAfterMs });
  }
  return providerHttpError("gemini", code, err.status ?? `HTTP ${code}`, err.message ?? "", retryAfterMs);
}

/** An error object sent in place of a response (bare or wrapped in a one-element array). */
function embeddedError(body: unknown): boolean {
  const first = Array.isArray(body) ? body[0] : body;
  return !!first && typeof first === "object" && "error" in first && !("candidates" in first);
}

/** One generateContent call: the answer's body, or the error it is (HTTP or embedded). */
export async function generateContent(cfg: GeminiConfig, request: Record<string, unknown>): Promise<Record<string, any>> {
  const res = await providerFetch("gemini", `${cfg.baseUrl}/v1beta/models/${cfg.model}:generateContent`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-goog-api-key": cfg.apiKey },
    body: JSON.stringify(request),
  });
  const body = await readJsonBody("gemini", res);
  if (!res.ok || embeddedError(body)) throw geminiError(res.status, body, res.headers.get("retry-after"));
  return body as Record<string, any>;
}

class OutOfTokens extends Error {}

/** Text of the first candidate, or the reason there is none. */
function candidateText(body: Record<string, any>): string {
  const candidates = Array.isArray(body.candidates) ? body.candidates : [];
  if (candidates.length === 0) {
    // No candidates means blocked only when promptFeedback says so (the API contract).
    const blocked = body.promptFeedback?.blockReason;
    if (blocked) throw new ProviderError("CONTENT_VIOLATION", `The idea was blocked by the script model's safety filter (${blocked})`, false);
    throw new ProviderError("SERVICE_UNAVAILABLE", "gemini answered without candidates or a block reason", true);
  }
  const c = candidates[0];
  const refused = CONTENT_FINISH[c.finishReason];
  if (refused) throw new ProviderError("CONTENT_VIOLATION", `The idea could not be scripted: ${refused} (${c.finishReason})`, false);
  if (c.finishReason === "LANGUAGE") throw new ProviderError("INVALID_REQUEST", "The idea is in a language the script model does not support", false);
  const text = (c.content?.parts ?? []).filter((p: { thought?: boolean }) => !p.thought).map((p: { text?: string }) => p.text ?? "").join("");
  if (c.finishReason === "MAX_TOKENS" && !isJson(text)) throw new OutOfTokens();
  return text;
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** One structured-JSON generateContent call, parsed and validated with `schema`. An answer
 * cut off at MAX_TOKENS is asked once more with a larger budget, never repeated unchanged. */
async function generateJson<T extends z.ZodType>(
  cfg: GeminiConfig,
  req: { system: string; prompt: string; responseSchema: Record<string, unknown>; schema: T; what: string },
): Promise<z.infer<T>> {
  for (const answerTokens of [ANSWER_TOKENS, ANSWER_TOKENS * 4]) {
    const body = await generateContent(cfg, {
      systemInstruction: { parts: [{ text: req.system }] },
      contents: [{ role: "user", parts: [{ text: req.prompt }] }],
      generationConfig: generationConfig(cfg.model, req.responseSchema, answerTokens),
    });
    let text: string;
    try {
      text = candidateText(body);
    } catch (err) {
      if (err instanceof OutOfTokens) continue;
      throw err;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new ProviderError("INTERNAL_ERROR", `The model returned invalid JSON for the ${req.what}`, true);
    }
    const result = req.schema.safeParse(parsed);
    if (!result.success) throw new ProviderError("INTERNAL_ERROR", `The model returned an incomplete ${req.what}`, true);
    return result.data;
  }
  throw new ProviderError("INTERNAL_ERROR", `The script model ran out of output tokens twice writing the ${req.what}`, false);
}

export async function generateScript(cfg: GeminiConfig, input: { idea: string; durationSeconds: number }): Promise<Script> {
  return await generateJson(cfg, {
    system: "You write scripts for short vertical cinematic videos. One continuous shot, photoreal, 9:16.",
    prompt: `Idea: ${input.idea}\nLength: ${input.durationSeconds} seconds.`,
    responseSchema: SCRIPT_RESPONSE_SCHEMA,
    schema: scriptSchema,
    what: "script",
  });
}

export const optimizedPromptSchema = z.object({
  optimized_prompt: z.string().min(1).max(2500),
  improvements: z.array(z.string()).max(10),
});

export async function optimizeVideoPrompt(cfg: GeminiConfig, input: { prompt: string; style?: string; duration?: string }) {
  return await generateJson(cfg, {
    system: "You rewrite prompts for AI video models: concrete subject, action, camera, light and style; keep the user's intent.",
    prompt: [`Prompt: ${input.prompt}`, input.style && `Style: ${input.style}`, input.duration && `Duration: ${input.duration}`].filter(Boolean).join("\n"),
    responseSchema: {
      type: "OBJECT",
      properties: {
        optimized_prompt: { type: "STRING", description: "The rewritten prompt" },
        improvements: { type: "ARRAY", items: { type: "STRING" }, description: "What was improved, one line each" },
      },
      required: ["optimized_prompt", "improvements"],
    },
    schema: optimizedPromptSchema,
    what: "optimized prompt",
  });
}

export const movieDraftSchema = z.object({
  title: z.string().min(1).max(200),
  scenes: z.array(z.object({ prompt: z.string().min(1), narration: z.string().min(1) })).min(1),
});

/** MovieFlow's video-specify: a movie drafted from a description, one prompt and one line of
 * narration per scene. */
export async function draftMovie(cfg: GeminiConfig, input: { description: string; scenes: number; seconds: number; platform: string; style: string }) {
  return await generateJson(cfg, {
    system: "You plan short vertical (9:16) videos for Chinese social platforms. Each scene is one shot of a video model: " +
      "a concrete visual prompt (subject, action, camera, light, the given style) and one short line of narration in the description's language.",
    prompt: `Description: ${input.description}\nScenes: ${input.scenes}\nLength: ${input.seconds} seconds\nPlatform: ${input.platform}\nStyle: ${input.style}`,
    responseSchema: {
      type: "OBJECT",
      properties: {
        title: { type: "STRING", description: "A short project title" },
        scenes: {
          type: "ARRAY", description: `Exactly ${input.scenes} scenes, in order`,
          items: { type: "OBJECT", properties: { prompt: { type: "STRING" }, narration: { type: "STRING" } }, required: ["prompt", "narration"] },
        },
      },
      required: ["title", "scenes"],
    },
    schema: movieDraftSchema,
    what: "movie draft",
  });
}
