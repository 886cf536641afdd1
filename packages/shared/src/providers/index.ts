// Provider settings from the one config schema; each throws, naming the variable, when the
// pipeline that calls it runs without its key.
import { config, requiredKey } from "../config.ts";
import type { GeminiImageConfig } from "./gemini-image.ts";
import type { TtsConfig } from "./volcengine-tts.ts";
import type { VolcengineConfig } from "./volcengine.ts";

export const geminiConfig = () => ({ baseUrl: config().GEMINI_BASE_URL, apiKey: requiredKey("GEMINI_API_KEY"), model: config().GEMINI_MODEL });
export const novitaConfig = () => ({
  baseUrl: config().NOVITA_BASE_URL,
  apiKey: requiredKey("NOVITA_API_KEY"),
  webhookEndpoints: config().NOVITA_WEBHOOK_ENDPOINTS.split(",").map((s) => s.trim()).filter(Boolean),
});
export const kieConfig = () => ({ baseUrl: config().KIE_BASE_URL, apiKey: requiredKey("KIE_API_KEY") });
export const volcengineConfig = (): VolcengineConfig => ({
  baseUrl: config().VOLC_BASE_URL,
  accessKey: requiredKey("VOLC_ACCESS_KEY"),
  secretKey: requiredKey("VOLC_SECRET_KEY"),
});
export const ttsConfig = (): TtsConfig => ({
  baseUrl: config().VOLC_TTS_BASE_URL,
  appId: requiredKey("VOLC_TTS_APPID"),
  token: requiredKey("VOLC_TTS_TOKEN"),
  cluster: config().VOLC_TTS_CLUSTER,
});
export const geminiImageConfig = (): GeminiImageConfig => ({ baseUrl: config().GEMINI_BASE_URL, apiKey: requiredKey("GEMINI_API_KEY"), model: config().GEMINI_IMAGE_MODEL });
