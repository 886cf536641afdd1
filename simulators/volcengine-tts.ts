// Volcengine speech synthesis simulator, V1 HTTP one-shot (shared/providers/volcengine-tts.md
// section 11): real, decodable audio spoken by espeak-ng, its true duration in
// addition.duration, and the documented refusals. Encodings: mp3, wav, pcm (raw 16-bit
// mono) and ogg_opus (Opus in Ogg, 48000 Hz as Opus requires); default pcm, as documented.
import { count, injectedFault, knobs, nextFault, onReset, scripted, sleep } from "./common.ts";
import { makeSpeech } from "./media.ts";
import { SIM_VOLC } from "../stack/env.ts";
import { toBase64 } from "../packages/shared/src/providers/http.ts";

type Family = "classic" | "bigtts";
// The voice ids of the contract's section 6 (a real account has many more).
const VOICES: Record<string, Family> = {
  BV001_streaming: "classic", BV002_streaming: "classic", BV700_streaming: "classic", BV701_streaming: "classic", BV102_streaming: "classic",
  zh_male_wenrouxiaoge_mars_bigtts: "bigtts", zh_male_ruyayichen_emo_v2_mars_bigtts: "bigtts",
  zh_male_yangguangqingnian_emo_v2_mars_bigtts: "bigtts", zh_male_beijingxiaoye_emo_v2_mars_bigtts: "bigtts",
  zh_female_shuangkuaisisi_moon_bigtts: "bigtts", zh_male_M392_conversation_wvae_bigtts: "bigtts",
};
const SPEED: Record<Family, [number, number]> = { classic: [0.2, 3], bigtts: [0.8, 2] };
const ENCODINGS = ["mp3", "wav", "pcm", "ogg_opus"] as const;
/** espeak-ng's default speed (words per minute) stands for speed_ratio 1. */
const BASE_WPM = 175;

const seenReqids = new Set<string>();
let inFlight = 0;
onReset(() => seenReqids.clear());

function answer(status: number, body: Record<string, unknown>) {
  return Response.json(body, { status, headers: { "X-Tt-Logid": `sim${Date.now()}${Math.floor(Math.random() * 1e6)}` } });
}

const refuse = (reqid: unknown, code: number, message: string, status = 400) => {
  count(`tts_code_${code}`);
  return answer(status, { reqid: typeof reqid === "string" ? reqid : "", code, message });
};

const GRANT_NOT_FOUND = "authenticate request: load grant: requested grant not found";

/** An injected fault (knobs.tts_faults), as the real service words it. */
function injected(fault: string, reqid: unknown): Response {
  switch (fault) {
    case "grant":
      return refuse(reqid, 3001, "[resource_id=volc.tts.default] requested resource not granted", 403);
    case "access_denied":
      return answer(403, { reqid, message: "extract request resource id: get resource id: access denied", code: 403, backend_code: 0 });
    case "lifetime":
      return refuse(reqid, 3001, "quota exceeded for types: 2101234567_lifetime", 403);
    default:
      return refuse(reqid, Number(fault) || 3031, `injected backend fault ${fault}`, 500);
  }
}

function missing(body: Record<string, any>): string | null {
  const required: [string, unknown][] = [
    ["app.appid", body.app?.appid], ["app.token", body.app?.token], ["app.cluster", body.app?.cluster], ["user.uid", body.user?.uid],
    ["audio.voice_type", body.audio?.voice_type], ["request.reqid", body.request?.reqid], ["request.text", body.request?.text],
    ["request.operation", body.request?.operation],
  ];
  const gap = required.find(([, v]) => typeof v !== "string" || v === "");
  return gap ? gap[0] : null;
}

export async function handleTts(req: Request, url: URL): Promise<Response> {
  if (url.pathname !== "/api/v1/tts" || req.method !== "POST") return answer(404, { code: 404, message: "not found" });
  const auth = req.headers.get("authorization") ?? "";
  const token = auth.match(/^Bearer; ?(\S+)$/)?.[1];
  if (token !== SIM_VOLC.ttsToken) return refuse("", 3001, GRANT_NOT_FOUND, 401);
  let body: Record<string, any>;
  try {
    body = await req.json();
    if (!body || typeof body !== "object" || Array.isArray(body)) throw new Error();
  } catch {
    return refuse("", 3001, "invalid request: the body must be a JSON object");
  }
  const reqid = body.request?.reqid;
  const gap = missing(body);
  if (gap) return refuse(reqid, 3001, `invalid request: ${gap} is required`);
  if (body.app.appid !== SIM_VOLC.ttsAppId) return refuse(reqid, 3001, GRANT_NOT_FOUND, 401);
  if (body.request.operation !== "query") return refuse(reqid, 3001, "invalid request: HTTP supports only operation query");
  const script = scripted("tts");
  if (script) return script;
  if (seenReqids.has(reqid)) return refuse(reqid, 3006, "service interrupted: reqid already used");
  seenReqids.add(reqid);

  const voice = String(body.audio.voice_type);
  if (/_uranus_bigtts$/.test(voice)) return refuse(reqid, 3001, "[resource_id=volc.tts.default] requested resource not granted", 403);
  const family = VOICES[voice];
  if (!family) return refuse(reqid, 3050, `voice_type ${voice} does not exist`);
  const encoding = body.audio.encoding ?? "pcm";
  if (!ENCODINGS.includes(encoding)) return refuse(reqid, 3001, `invalid request: encoding must be one of ${ENCODINGS.join(", ")}`);
  const rate = body.audio.rate ?? 24000;
  if (![8000, 16000, 24000].includes(rate)) return refuse(reqid, 3001, "invalid request: rate must be 8000, 16000 or 24000");
  const speed = body.audio.speed_ratio ?? 1;
  const [lo, hi] = SPEED[family];
  if (typeof speed !== "number" || speed < lo || speed > hi) return refuse(reqid, 3001, `invalid request: speed_ratio must be in [${lo}, ${hi}] for this voice`);
  const text: string = body.request.text;
  if (new TextEncoder().encode(text).length > 1024) return refuse(reqid, 3010, "text too long: at most 1024 bytes");
  if (!/[\p{L}\p{N}]/u.test(text)) return refuse(reqid, 3011, "illegal input text!");

  const fault = nextFault("tts_faults");
  if (fault) return injected(fault, reqid);
  const random = injectedFault();
  if (random === 429) return refuse(reqid, 3003, "quota exceeded for types: concurrency", 429);
  if (random === 500 || knobs.down_endpoints.includes("tts")) return refuse(reqid, 3005, "backend busy", 500);
  if (inFlight >= knobs.tts_concurrency * knobs.limits_scale) return refuse(reqid, 3003, "quota exceeded for types: concurrency", 429);
  inFlight++;
  try {
    await sleep(knobs.latency_ms.tts ?? 0);
    const speech = await makeSpeech(text, { wpm: Math.round(BASE_WPM * speed), encoding, rate });
    count("tts_syntheses");
    return answer(200, {
      reqid, code: 3000, operation: "query", message: "Success", sequence: -1,
      data: toBase64(speech.bytes),
      addition: { duration: String(speech.durationMs) },
    });
  } finally {
    inFlight--;
  }
}
