// Google Gemini generateContent simulator (shared/providers/gemini.md).
import { count, injectedFault, knobs, quirk, scripted, sleep } from "./common.ts";

export const GEMINI_KEY = "sim-gemini-key";

/** Google's RPC error; now and then wrapped in a one-element array, as some fixtures show. */
function googleError(code: number, status: string, message: string, details: unknown[] = []) {
  const error = { error: { code, message, status, details } };
  return Response.json(quirk("array_errors") ? [error] : error, { status: code });
}

const ALLOWED_TOP = new Set(["contents", "systemInstruction", "system_instruction", "generationConfig", "generation_config", "safetySettings", "safety_settings", "tools", "toolConfig"]);

function promptText(body: Record<string, any>): string {
  return (body.contents ?? []).flatMap((c: any) => c?.parts ?? []).map((p: any) => p?.text ?? "").join("\n");
}

/** A plausible answer of the requested schema, written from the prompt. */
function answerFor(prompt: string, schema: Record<string, any>) {
  const subject = (prompt.match(/(?:Idea|Prompt): (.*)/)?.[1] ?? prompt).trim().slice(0, 300);
  const known: Record<string, unknown> = {
    concept: `A vertical cinematic short about ${subject}.`,
    visual_script: `Open on a wide establishing shot; slow push-in on the subject of "${subject}"; golden-hour light; end on a close-up.`,
    t2i_prompt: `cinematic portrait, ${subject}, golden hour, shallow depth of field, 35mm film look, 8k`,
    motion_prompt: "slow dolly-in toward the subject, gentle parallax, hair and fabric moving in the wind",
    optimized_prompt: `${subject}, cinematic lighting, smooth camera motion, detailed textures, consistent character, 24 fps`,
    improvements: ["Added lighting and camera direction", "Made the motion explicit", "Asked for a consistent character"],
  };
  const props: Record<string, { type?: string }> = schema?.properties ?? {};
  return Object.fromEntries(Object.entries(props).map(([k, p]) => [k, known[k] ?? (p.type === "ARRAY" ? [subject] : subject)]));
}

export async function handleGemini(req: Request, url: URL): Promise<Response> {
  const m = url.pathname.match(/^\/v1beta\/models\/([^/:]+):generateContent$/);
  if (!m || req.method !== "POST") return googleError(404, "NOT_FOUND", `Method not found: ${url.pathname}`);
  const key = req.headers.get("x-goog-api-key") ?? url.searchParams.get("key");
  if (key !== GEMINI_KEY) {
    return googleError(400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.", [
      { "@type": "type.googleapis.com/google.rpc.ErrorInfo", reason: "API_KEY_INVALID", domain: "googleapis.com" },
    ]);
  }
  let body: Record<string, any>;
  try {
    body = await req.json();
  } catch {
    return googleError(400, "INVALID_ARGUMENT", "Invalid JSON payload received.");
  }
  const unknown = Object.keys(body ?? {}).find((k) => !ALLOWED_TOP.has(k));
  if (unknown) return googleError(400, "INVALID_ARGUMENT", `Invalid JSON payload received. Unknown name "${unknown}": Cannot find field.`);
  if (!Array.isArray(body.contents) || body.contents.length === 0) {
    return googleError(400, "INVALID_ARGUMENT", "* GenerateContentRequest.contents: contents is not specified");
  }
  const gen = body.generationConfig ?? body.generation_config ?? {};
  if (gen.responseSchema && gen.responseJsonSchema) {
    return googleError(400, "INVALID_ARGUMENT", "responseSchema and responseJsonSchema cannot both be set.");
  }
  if ((gen.responseSchema || gen.responseJsonSchema) && gen.responseMimeType !== "application/json") {
    return googleError(400, "INVALID_ARGUMENT", "responseMimeType must be application/json with a response schema.");
  }
  count("gemini_requests");
  const script = scripted("generateContent");
  if (script) return script;
  const fault = injectedFault();
  if (fault === 429) {
    return googleError(429, "RESOURCE_EXHAUSTED", "You exceeded your current quota. Please retry in 2s.", [
      { "@type": "type.googleapis.com/google.rpc.QuotaFailure", violations: [{ quotaId: "GenerateRequestsPerMinutePerProjectPerModel-FreeTier" }] },
      { "@type": "type.googleapis.com/google.rpc.RetryInfo", retryDelay: "2s" },
    ]);
  }
  if (fault === 500) return googleError(503, "UNAVAILABLE", "The model is overloaded. Please try again later.");
  await sleep(knobs.latency_ms.gemini ?? 0);

  const prompt = promptText(body);
  if (knobs.block_prompt || prompt.includes("[[blocked]]")) {
    return Response.json({
      promptFeedback: { blockReason: "SAFETY", safetyRatings: [] },
      usageMetadata: { promptTokenCount: 40, totalTokenCount: 40 }, modelVersion: m[1],
    });
  }
  if (quirk("content_finish")) {
    return Response.json({
      candidates: [{ content: { role: "model" }, finishReason: Math.random() < 0.5 ? "SAFETY" : "RECITATION", index: 0, safetyRatings: [] }],
      usageMetadata: { promptTokenCount: 40, totalTokenCount: 40 }, modelVersion: m[1], responseId: crypto.randomUUID(),
    });
  }
  const json = JSON.stringify(answerFor(prompt, gen.responseSchema ?? gen.responseJsonSchema));
  // gemini-2.5 thinks first unless thinkingConfig.thinkingBudget caps it (0 turns it off on
  // Flash); thoughts count against maxOutputTokens, so a small budget can leave no answer.
  const budget = gen.thinkingConfig?.thinkingBudget ?? gen.thinking_config?.thinking_budget;
  const thoughts = typeof budget === "number" && budget >= 0 ? Math.min(budget, knobs.quirks.thinking_tokens) : knobs.quirks.thinking_tokens;
  const maxOut = typeof gen.maxOutputTokens === "number" ? gen.maxOutputTokens : 65_536;
  const answerTokens = Math.ceil(json.length / 4);
  const room = Math.max(0, maxOut - thoughts);
  const forced = knobs.max_tokens || prompt.includes("[[max_tokens]]");
  const cut = forced ? Math.floor(json.length / 2) : room < answerTokens ? room * 4 : json.length;
  const text = json.slice(0, cut);
  const outTokens = Math.ceil(text.length / 4);
  return Response.json({
    candidates: [{
      content: text ? { parts: [{ text }], role: "model" } : { role: "model" },
      finishReason: cut < json.length ? "MAX_TOKENS" : "STOP",
      index: 0,
      safetyRatings: [],
    }],
    usageMetadata: {
      promptTokenCount: 40, candidatesTokenCount: outTokens, totalTokenCount: 40 + outTokens + thoughts,
      ...(thoughts ? { thoughtsTokenCount: thoughts } : {}),
    },
    modelVersion: m[1],
    responseId: crypto.randomUUID(),
  });
}
