// Fixed settings of the local stack: ports, paths and the well-known local keys.
import { signJwt } from "../packages/shared/src/jwt.ts";

export const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
export const STACK_DIR = Deno.env.get("REELFORGE_STACK_DIR") ?? `${ROOT}/.stack`;
export const ENV_FILE = `${STACK_DIR}/env`;
export const STORAGE_DIR = `${STACK_DIR}/storage`;

export const API_PORT = 54321;
/** The mail catcher ([local_smtp] port in config.toml): Mailpit's API for Auth's mails. */
export const MAIL_PORT = 54324;
export const DB_PORT = 54322;
// Gemini's image model is served by the gemini simulator.
export const SIM_PORTS = { gemini: 54340, novita: 54341, kie: 54342, volcengine: 54343, tts: 54344 } as const;
/** The movie simulators' credentials (simulators/volcengine.ts, simulators/volcengine-tts.ts). */
export const SIM_VOLC = { accessKey: "AKSIMVOLC", secretKey: "sim-volc-secret", ttsAppId: "sim-appid", ttsToken: "sim-tts-token" } as const;

export const API_URL = `http://127.0.0.1:${API_PORT}`;
export const DB_URL = `postgresql://postgres:postgres@127.0.0.1:${DB_PORT}/postgres`;
// The same secret and claims as `supabase start`, so its demo keys come out identical.
export const JWT_SECRET = "super-secret-jwt-token-with-at-least-32-characters-long";
const DEMO_EXP = 1983812996;

export async function localKeys() {
  return {
    ANON_KEY: await signJwt({ iss: "supabase-demo", role: "anon", exp: DEMO_EXP }, JWT_SECRET),
    SERVICE_ROLE_KEY: await signJwt(
      { iss: "supabase-demo", role: "service_role", exp: DEMO_EXP },
      JWT_SECRET,
    ),
  };
}

/** The variables `supabase status -o env` prints, plus where the simulators listen. */
export async function stackEnv(): Promise<Record<string, string>> {
  return {
    API_URL,
    DB_URL,
    ...(await localKeys()),
    JWT_SECRET,
    GEMINI_SIM_URL: `http://127.0.0.1:${SIM_PORTS.gemini}`,
    NOVITA_SIM_URL: `http://127.0.0.1:${SIM_PORTS.novita}`,
    KIE_SIM_URL: `http://127.0.0.1:${SIM_PORTS.kie}`,
    VOLC_SIM_URL: `http://127.0.0.1:${SIM_PORTS.volcengine}`,
    TTS_SIM_URL: `http://127.0.0.1:${SIM_PORTS.tts}`,
    MAILPIT_URL: `http://127.0.0.1:${MAIL_PORT}`,
  };
}

/** Environment the edge functions get: Supabase's own variables, and provider settings
 * that point at the simulators unless real keys are set. Each provider switches on its own
 * key; nothing of a simulator (its keys, its HMAC key, its webhook variant) is applied to a
 * real provider. `real` reads the caller's environment (a parameter for tests). */
export async function functionsEnv(real: (name: string) => string | undefined = (n) => Deno.env.get(n) || undefined): Promise<Record<string, string>> {
  const e = await stackEnv();
  const gemini = real("GEMINI_API_KEY");
  const novita = real("NOVITA_API_KEY");
  const kie = real("KIE_API_KEY");
  const hmac = real("KIE_WEBHOOK_HMAC_KEY") ?? (kie ? undefined : "sim-kie-hmac-key");
  const publicStorage = real("PUBLIC_STORAGE_URL");
  // A real key pair or token switches that provider to the real host; a half-set pair is
  // passed as it is, so requiredKey names the missing variable.
  const volc = real("VOLC_ACCESS_KEY") ?? real("VOLC_SECRET_KEY");
  const tts = real("VOLC_TTS_TOKEN") ?? real("VOLC_TTS_APPID");
  const imageModel = real("GEMINI_IMAGE_MODEL");
  return {
    SUPABASE_URL: e.API_URL,
    SUPABASE_ANON_KEY: e.ANON_KEY,
    SUPABASE_SERVICE_ROLE_KEY: e.SERVICE_ROLE_KEY,
    SUPABASE_DB_URL: e.DB_URL,
    JWT_SECRET: e.JWT_SECRET,
    GEMINI_API_KEY: gemini ?? "sim-gemini-key",
    GEMINI_BASE_URL: gemini ? "https://generativelanguage.googleapis.com" : e.GEMINI_SIM_URL,
    NOVITA_API_KEY: novita ?? "sk_sim_novita_key",
    NOVITA_BASE_URL: novita ? "https://api.novita.ai" : e.NOVITA_SIM_URL,
    // The simulator implements the webhook variant of kling-v2.1-i2v-master ([UNCONFIRMED]
    // for the real API, which gets the contract's table alone).
    NOVITA_WEBHOOK_ENDPOINTS: novita ? (real("NOVITA_WEBHOOK_ENDPOINTS") ?? "") : "kling-v2.1-i2v-master",
    KIE_API_KEY: kie ?? "sim-kie-key",
    KIE_BASE_URL: kie ? "https://api.kie.ai" : e.KIE_SIM_URL,
    ...(hmac ? { KIE_WEBHOOK_HMAC_KEY: hmac } : {}),
    ...(volc
      ? { VOLC_BASE_URL: "https://visual.volcengineapi.com", ...defined({ VOLC_ACCESS_KEY: real("VOLC_ACCESS_KEY"), VOLC_SECRET_KEY: real("VOLC_SECRET_KEY") }) }
      : { VOLC_BASE_URL: e.VOLC_SIM_URL, VOLC_ACCESS_KEY: SIM_VOLC.accessKey, VOLC_SECRET_KEY: SIM_VOLC.secretKey }),
    ...(tts
      ? {
        VOLC_TTS_BASE_URL: "https://openspeech.bytedance.com",
        ...defined({ VOLC_TTS_APPID: real("VOLC_TTS_APPID"), VOLC_TTS_TOKEN: real("VOLC_TTS_TOKEN"), VOLC_TTS_CLUSTER: real("VOLC_TTS_CLUSTER") }),
      }
      : { VOLC_TTS_BASE_URL: e.TTS_SIM_URL, VOLC_TTS_APPID: SIM_VOLC.ttsAppId, VOLC_TTS_TOKEN: SIM_VOLC.ttsToken }),
    ...(imageModel ? { GEMINI_IMAGE_MODEL: imageModel } : {}),
    PUBLIC_FUNCTIONS_URL: real("PUBLIC_FUNCTIONS_URL") ?? `${e.API_URL}/functions/v1`,
    ...(publicStorage ? { PUBLIC_STORAGE_URL: publicStorage } : {}),
    REELFORGE_LOCAL_SIMULATORS: "1",
    // Every function shares one process (and one pool) here.
    DB_POOL_MAX: "10",
    // No CDN here: the gateway serves the API reference page's viewer from node_modules.
    SCALAR_SCRIPT_URL: `${e.API_URL}${SCALAR_PATH}`,
  };
}

/** Where the gateway serves the Scalar viewer for the API reference page. */
export const SCALAR_PATH = "/_stack/scalar/standalone.js";

/** The entries whose value is set. */
function defined(vars: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(vars).filter((e): e is [string, string] => e[1] !== undefined));
}
