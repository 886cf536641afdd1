// Google Gemini generateContent simulator (shared/providers/gemini.md).
import { blockedWord, count, injectedFault, knobs, nextFault, quirk, scripted, sleep } from "./common.ts";
import { imageSize, makeEditedImage, makeImage } from "./media.ts";
import { fromBase64, toBase64 } from "../packages/shared/src/providers/http.ts";

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
  const subject = (prompt.match(/(?:Idea|Prompt|Description): (.*)/)?.[1] ?? prompt).trim().slice(0, 300);
  const known: Record<string, unknown> = {
    concept: `A vertical cinematic short about ${subject}.`,
    visual_script: `Open on a wide establishing shot; slow push-in on the subject of "${subject}"; golden-hour light; end on a close-up.`,
    t2i_prompt: `cinematic portrait, ${subject}, golden hour, shallow depth of field, 35mm film look, 8k`,
    motion_prompt: "slow dolly-in toward the subject, gentle parallax, hair and fabric moving in the wind",
    optimized_prompt: `${subject}, cinematic lighting, smooth camera motion, detailed textures, consistent character, 24 fps`,
    improvements: ["Added lighting and camera direction", "Made the motion explicit", "Asked for a consistent character"],
  };
  const props: Record<string, { type?: string; items?: Record<string, any> }> = schema?.properties ?? {};
  // A list of objects (a movie's scenes): as many as the prompt asks, each about its place.
  const many = (items: Record<string, any>) => {
    const n = Number(prompt.match(/Scenes: (\d+)/)?.[1] ?? 3);
    return Array.from({ length: n }, (_, i) => answerFor(`Prompt: ${subject}, scene ${i + 1} of ${n}`, items));
  };
  return Object.fromEntries(Object.entries(props).map(([k, p]) =>
    [k, known[k] ?? (p.type === "ARRAY" ? (p.items?.type === "OBJECT" ? many(p.items) : [subject]) : subject)]
  ));
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
  if (/image/.test(m[1])) return await imageAnswer(m[1], body, gen);
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

// ---------------------------------------------------------------- image models (gemini-image.md)

// Output size per aspect ratio of 2.5 Flash Image (section 8).
const IMAGE_SIZES: Record<string, [number, number]> = {
  "1:1": [1024, 1024], "2:3": [832, 1248], "3:2": [1248, 832], "3:4": [864, 1184], "4:3": [1184, 864],
  "4:5": [896, 1152], "5:4": [1152, 896], "9:16": [768, 1344], "16:9": [1344, 768], "21:9": [1536, 672],
};
const IMAGE_GEN_FIELDS = new Set([
  "responseModalities", "response_modalities", "imageConfig", "image_config", "temperature", "topP", "top_p", "topK", "top_k",
  "candidateCount", "candidate_count", "maxOutputTokens", "max_output_tokens", "seed", "stopSequences", "stop_sequences",
  "thinkingConfig", "thinking_config",
]);
const IMAGE_CONFIG_FIELDS = new Set(["aspectRatio", "aspect_ratio", "imageSize", "image_size"]);
const FLASH_MAX_INPUT_IMAGES = 3;

const unknownName = (name: string, where: string) =>
  googleError(400, "INVALID_ARGUMENT", `Invalid JSON payload received. Unknown name "${name}" at '${where}': Cannot find field.`);

function imageUsage(outTokens: number) {
  return {
    promptTokenCount: 40, candidatesTokenCount: outTokens, totalTokenCount: 40 + outTokens,
    ...(outTokens ? { candidatesTokensDetails: [{ modality: "IMAGE", tokenCount: outTokens }] } : {}),
  };
}

/** A refusal or a miss, all HTTP 200 unless said (section 13's failure injection). */
function imageFailure(model: string, fault: string): Response {
  const common = { usageMetadata: imageUsage(0), modelVersion: model, responseId: crypto.randomUUID() };
  switch (fault) {
    case "blocked":
      return Response.json({ promptFeedback: { blockReason: "IMAGE_SAFETY" }, ...common });
    case "text_only":
      return Response.json({
        candidates: [{ content: { role: "model", parts: [{ text: "I can't draw that. Could you describe the scene differently?" }] }, finishReason: "STOP", index: 0 }],
        ...common,
      });
    case "no_content":
      return Response.json({ candidates: [{ finishReason: "IMAGE_OTHER", index: 0 }], ...common });
    case "free_tier":
      return googleError(429, "RESOURCE_EXHAUSTED", `You exceeded your current quota. * Quota exceeded for metric: generativelanguage.googleapis.com/generate_content_free_tier_requests, limit: 0, model: ${model}`, [
        { "@type": "type.googleapis.com/google.rpc.QuotaFailure", violations: [{ quotaMetric: "generativelanguage.googleapis.com/generate_content_free_tier_requests", quotaId: "GenerateRequestsPerMinutePerProjectPerModel-FreeTier" }] },
        { "@type": "type.googleapis.com/google.rpc.RetryInfo", retryDelay: "44s" },
      ]);
    case "rate_limited":
      return googleError(429, "RESOURCE_EXHAUSTED", "You exceeded your current quota. Please retry in 7s.", [
        { "@type": "type.googleapis.com/google.rpc.QuotaFailure", violations: [{ quotaId: "GenerateRequestsPerMinutePerProjectPerModel" }] },
        { "@type": "type.googleapis.com/google.rpc.RetryInfo", retryDelay: "7s" },
      ]);
    default: // IMAGE_SAFETY, NO_IMAGE, IMAGE_OTHER, ...: a finish reason without an image
      return Response.json({ candidates: [{ content: { role: "model", parts: [] }, finishReason: fault, index: 0 }], ...common });
  }
}

/** generateContent of an image model: one PNG showing the prompt at the ratio's size. */
async function imageAnswer(model: string, body: Record<string, any>, gen: Record<string, any>): Promise<Response> {
  const unknownGen = Object.keys(gen).find((k) => !IMAGE_GEN_FIELDS.has(k));
  if (unknownGen) return unknownName(unknownGen, "generation_config");
  const imageConfig = gen.imageConfig ?? gen.image_config ?? {};
  const unknownImage = Object.keys(imageConfig).find((k) => !IMAGE_CONFIG_FIELDS.has(k));
  if (unknownImage) return unknownName(unknownImage, "generation_config.image_config");
  const ratio = imageConfig.aspectRatio ?? imageConfig.aspect_ratio;
  if (ratio !== undefined && !(ratio in IMAGE_SIZES)) return googleError(400, "INVALID_ARGUMENT", `Unsupported aspect ratio: ${ratio}`);
  const parts: any[] = body.contents.flatMap((c: any) => c?.parts ?? []);
  if (parts.some((p) => p && "mask" in p)) return unknownName("mask", "contents[0].parts[0]");
  const inputs = parts.map((p) => p?.inlineData ?? p?.inline_data).filter(Boolean);
  if (/flash/.test(model) && inputs.length > FLASH_MAX_INPUT_IMAGES) {
    return googleError(400, "INVALID_ARGUMENT", `At most ${FLASH_MAX_INPUT_IMAGES} input images are supported by this model`);
  }
  const inputSizes = [];
  for (const input of inputs) {
    const size = typeof input.data === "string" ? imageSize(fromBase64(input.data)) : null;
    if (!size) return googleError(400, "INVALID_ARGUMENT", "Unable to process input image. Please retry or report in https://developers.generativeai.google/guide/troubleshooting");
    inputSizes.push(size);
  }
  const script = scripted("generateContent");
  if (script) return script;
  const fault = injectedFault();
  if (fault === 429) return imageFailure(model, "rate_limited");
  if (fault === 500) return googleError(503, "UNAVAILABLE", "The model is overloaded. Please try again later.");
  await sleep(knobs.latency_ms.gemini_image ?? 0);
  const prompt = promptText(body);
  const injected = nextFault("image_faults");
  if (injected) return imageFailure(model, injected);
  if (knobs.block_prompt || prompt.includes("[[blocked]]") || blockedWord(prompt)) {
    return Response.json({ promptFeedback: { blockReason: "PROHIBITED_CONTENT" }, usageMetadata: imageUsage(0), modelVersion: model, responseId: crypto.randomUUID() });
  }
  // Without a ratio: the (first) input image's shape, else square.
  const [width, height] = ratio ? IMAGE_SIZES[ratio] : inputSizes[0] ? [inputSizes[0].width, inputSizes[0].height] : IMAGE_SIZES["1:1"];
  // Given an image, the answer is that image edited by the prompt; else a picture of the prompt.
  const png = inputs[0] ? await makeEditedImage(fromBase64(inputs[0].data), prompt, width, height) : await makeImage(prompt, width, height, "png");
  count("gemini_images");
  return Response.json({
    candidates: [{
      content: { role: "model", parts: [{ text: "Here is the image: " }, { inlineData: { mimeType: "image/png", data: toBase64(png) } }] },
      finishReason: "STOP", index: 0,
    }],
    usageMetadata: imageUsage(1290),
    modelVersion: model,
    responseId: crypto.randomUUID(),
  });
}
