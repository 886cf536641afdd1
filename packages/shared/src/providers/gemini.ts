// Google Gemini generateContent with structured JSON output (shared/providers/gemini.md).
import { z } from "zod";
import { ProviderError, providerFetch, providerHttpError, readJsonBody } from "./errors.ts";

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

export async function generateScript(cfg: GeminiConfig, input: { idea: string; durationSeconds: number }): Promise<Script> {
  const res = await providerFetch("gemini", `${cfg.baseUrl}/v1beta/models/${cfg.model}:generateContent`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-goog-api-key": cfg.apiKey },
    body: JSON.stringify({
      systemInstruction: { parts: [{ text: "You write scripts for short vertical cinematic videos. One continuous shot, photoreal, 9:16." }] },
      contents: [{ role: "user", parts: [{ text: `Idea: ${input.idea}\nLength: ${input.durationSeconds} seconds.` }] }],
      generationConfig: {
        temperature: 0.8,
        maxOutputTokens: 2048,
        responseMimeType: "application/json",
        responseSchema: SCRIPT_RESPONSE_SCHEMA,
      },
    }),
  });
  const body = await readJsonBody("gemini", res);
  if (!res.ok) throw geminiError(res.status, body);
  const text = candidateText(body as Record<string, any>);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ProviderError("INTERNAL_ERROR", "The script model returned invalid JSON", true);
  }
  const script = scriptSchema.safeParse(parsed);
  if (!script.success) throw new ProviderError("INTERNAL_ERROR", "The script model returned an incomplete script", true);
  return script.data;
}
