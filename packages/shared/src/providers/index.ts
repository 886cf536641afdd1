// Provider settings from the one config schema; each throws, naming the variable, when the
// pipeline that calls it runs without its key.
import { config, requiredKey } from "../config.ts";

export const geminiConfig = () => ({ baseUrl: config().GEMINI_BASE_URL, apiKey: requiredKey("GEMINI_API_KEY"), model: config().GEMINI_MODEL });
export const novitaConfig = () => ({
  baseUrl: config().NOVITA_BASE_URL,
  apiKey: requiredKey("NOVITA_API_KEY"),
  webhookEndpoints: config().NOVITA_WEBHOOK_ENDPOINTS.split(",").map((s) => s.trim()).filter(Boolean),
});
export const kieConfig = () => ({ baseUrl: config().KIE_BASE_URL, apiKey: requiredKey("KIE_API_KEY") });
