// Google Gemini generateContent with structured JSON output (shared/providers/gemini.md).
import { z } from "zod";
import { ProviderError, providerFetch, providerHttpError, readJsonBody } from "./http.ts";

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

const BLOCKING_FINISH = new Set([
  "SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "IMAGE_SAFETY", "IMAGE_PROHIBITED_CONTENT",
]);

type GeminiError = { error?: { code?: number; message?: string; status?: string; details?: Array<Record<string, unknown>> } };

function geminiError(status: number, body: unknown): ProviderError {
  const err = (Array.isArray(body) ? body[0] : body as GeminiError)?.error ?? {};
  const details = err.details ?? [];
  const retryDelay = details.find((d: Record<string, unknown>) => String(d["@type"]).endsWith("RetryInfo"))?.retryDelay;
  const retryAfterMs = typeof retryDelay === "string" ? Math.ceil(parseFloat(retryDelay) * 1000) : undefined;
  const perDay = JSON.stringify(details).includes("PerDay");
  if (status === 429 && perDay) {
    return new ProviderError("RATE_LIMIT_EXCEEDED", "gemini: daily quota exhausted", false);
  }
  return providerHttpError("gemini", status, err.status ?? `HTTP ${status}`, err.message ?? "", retryAfterMs);
}

/** Text of the first candidate, or the reason there is none. */
function candidateText(body: Record<string, any>): string {
  const candidates = body.candidates ?? [];
  if (candidates.length === 0) {
    const reason = body.promptFeedback?.blockReason ?? "no candidates";
    throw new ProviderError("CONTENT_VIOLATION", `The idea was blocked by the script model's safety filter (${reason})`, false);
  }
  const c = candidates[0];
  if (BLOCKING_FINISH.has(c.finishReason)) {
    throw new ProviderError("CONTENT_VIOLATION", `The script model refused the idea (${c.finishReason})`, false);
  }
  const text = (c.content?.parts ?? []).map((p: { text?: string }) => p.text ?? "").join("");
  if (c.finishReason === "MAX_TOKENS") {
    throw new ProviderError("INTERNAL_ERROR", "The script model ran out of tokens", true);
  }
  return text;
}

/** One structured-JSON generateContent call, parsed and validated with `schema`. */
async function generateJson<T extends z.ZodType>(
  cfg: GeminiConfig,
  req: { system: string; prompt: string; responseSchema: Record<string, unknown>; schema: T; what: string },
): Promise<z.infer<T>> {
  const res = await providerFetch("gemini", `${cfg.baseUrl}/v1beta/models/${cfg.model}:generateContent`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-goog-api-key": cfg.apiKey },
    body: JSON.stringify({
      systemInstruction: { parts: [{ text: req.system }] },
      contents: [{ role: "user", parts: [{ text: req.prompt }] }],
      generationConfig: { temperature: 0.8, maxOutputTokens: 2048, responseMimeType: "application/json", responseSchema: req.responseSchema },
    }),
  });
  const body = await readJsonBody("gemini", res);
  if (!res.ok) throw geminiError(res.status, body);
  const text = candidateText(body as Record<string, any>);
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
