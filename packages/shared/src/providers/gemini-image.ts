// Gemini image models (e.g. gemini-2.5-flash-image) through generateContent: scene images
// and reference-guided images (shared/providers/gemini-image.md). Synchronous, inline base64.
import { CONTENT_FINISH, generateContent } from "./gemini.ts";
import { fromBase64, ProviderError, toBase64 } from "./http.ts";

export type GeminiImageConfig = { baseUrl: string; apiKey: string; model: string };

// Asked in words: the model has no switch for it, and captions would end up in the video.
const NO_TEXT = "Do not put any text, letters, captions or watermarks in the image.";

// No image, for a reason a second try may not share (section 6: retry once or twice).
const NO_IMAGE_FINISH: Record<string, string> = {
  NO_IMAGE: "the model made no image",
  IMAGE_OTHER: "the image model stopped for an unspecified reason",
  OTHER: "the model stopped for an unspecified reason",
  MAX_TOKENS: "the answer ran out of tokens before the image",
};

/** Width, height and type of a PNG or baseline/progressive JPEG; null when the bytes are neither. */
export function imageDimensions(b: Uint8Array): { width: number; height: number; mimeType: "image/png" | "image/jpeg" } | null {
  const png = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (b.length >= 24 && png.every((x, i) => b[i] === x)) {
    const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
    const [width, height] = [v.getUint32(16), v.getUint32(20)];
    return width > 0 && height > 0 ? { width, height, mimeType: "image/png" } : null;
  }
  if (b.length > 4 && b[0] === 0xff && b[1] === 0xd8) {
    let i = 2;
    while (i + 9 < b.length && b[i] === 0xff) {
      const marker = b[i + 1];
      const len = (b[i + 2] << 8) | b[i + 3];
      if (marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker)) {
        const [height, width] = [(b[i + 5] << 8) | b[i + 6], (b[i + 7] << 8) | b[i + 8]];
        return width > 0 && height > 0 ? { width, height, mimeType: "image/jpeg" } : null;
      }
      i += 2 + len;
    }
  }
  return null;
}

type Part = { text?: string; thought?: boolean; inlineData?: { mimeType?: string; data?: string }; inline_data?: { mime_type?: string; data?: string } };

/** The image of an answer, or the error that says why there is none. */
export function pickImage(body: Record<string, any>): { bytes: Uint8Array<ArrayBuffer>; mimeType: string; width: number; height: number } {
  const candidates = Array.isArray(body.candidates) ? body.candidates : [];
  if (candidates.length === 0) {
    const blocked = body.promptFeedback?.blockReason;
    if (blocked) throw new ProviderError("CONTENT_VIOLATION", `The scene prompt was blocked by the image model's safety filter (${blocked})`, false);
    throw new ProviderError("SERVICE_UNAVAILABLE", "gemini: the image model answered without candidates or a block reason", true);
  }
  const c = candidates[0];
  const refused = CONTENT_FINISH[c.finishReason];
  if (refused) throw new ProviderError("CONTENT_VIOLATION", `The scene image was refused: ${refused} (${c.finishReason})`, false);
  const parts: Part[] = (c.content?.parts ?? []).filter((p: Part) => p && !p.thought);
  const part = parts.find((p) => (p.inlineData ?? p.inline_data)?.data);
  if (!part) {
    const said = parts.map((p) => p.text ?? "").join(" ").trim().slice(0, 200);
    const why = NO_IMAGE_FINISH[c.finishReason] ??
      (c.content ? "the model answered with text only" : `the candidate had no content (${c.finishReason ?? "no finishReason"})`);
    throw new ProviderError("TASK_FAILED", `gemini: no scene image: ${why}${said ? `: "${said}"` : ""}`, true);
  }
  const bytes = fromBase64((part.inlineData ?? part.inline_data)!.data!);
  const size = imageDimensions(bytes);
  if (!size) throw new ProviderError("TASK_FAILED", "gemini: the scene image is not a decodable PNG or JPEG", true);
  return { bytes, ...size };
}

/** One scene image: the prompt (style included), an aspect ratio such as "9:16", and
 * reference images (a character to keep consistent; at most 3 with the Flash model). */
export async function generateSceneImage(
  cfg: GeminiImageConfig,
  req: { prompt: string; aspectRatio: string; referenceImages?: { bytes: Uint8Array; mimeType: string }[] },
): Promise<{ bytes: Uint8Array<ArrayBuffer>; mimeType: string; width: number; height: number }> {
  const body = await generateContent(cfg, {
    contents: [{
      role: "user",
      parts: [
        { text: `${req.prompt.trim()}\n${NO_TEXT}` },
        ...(req.referenceImages ?? []).map((img) => ({ inlineData: { mimeType: img.mimeType, data: toBase64(img.bytes) } })),
      ],
    }],
    generationConfig: { responseModalities: ["TEXT", "IMAGE"], imageConfig: { aspectRatio: req.aspectRatio } },
  });
  return pickImage(body);
}

/** An image edited by an instruction (Gemini's editing is generateContent with the image
 * and the text; it has no mask). The answer keeps the image's shape unless a ratio is given. */
export async function editSceneImage(
  cfg: GeminiImageConfig,
  req: { image: Uint8Array; mimeType: string; instruction: string; aspectRatio?: string },
): Promise<{ bytes: Uint8Array<ArrayBuffer>; mimeType: string; width: number; height: number }> {
  const body = await generateContent(cfg, {
    contents: [{ role: "user", parts: [{ inlineData: { mimeType: req.mimeType, data: toBase64(req.image) } }, { text: req.instruction.trim() }] }],
    generationConfig: { responseModalities: ["TEXT", "IMAGE"], ...(req.aspectRatio ? { imageConfig: { aspectRatio: req.aspectRatio } } : {}) },
  });
  return pickImage(body);
}
