// Provider settings from the one config schema.
import { config } from "../config.ts";

export const geminiConfig = () => ({ baseUrl: config().GEMINI_BASE_URL, apiKey: config().GEMINI_API_KEY, model: config().GEMINI_MODEL });
export const novitaConfig = () => ({ baseUrl: config().NOVITA_BASE_URL, apiKey: config().NOVITA_API_KEY });
export const kieConfig = () => ({ baseUrl: config().KIE_BASE_URL, apiKey: config().KIE_API_KEY });
