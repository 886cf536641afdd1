// Volcengine Doubao speech synthesis, V1 HTTP one-shot (POST /api/v1/tts), for narration
// (shared/providers/volcengine-tts.md). The body `code` decides, whatever the HTTP status.
import type { ErrorCode } from "../errors.ts";
import { fromBase64, lenientNumber, ProviderError, providerFetch, readJsonBody } from "./http.ts";

export type TtsConfig = { baseUrl: string; appId: string; token: string; cluster: string };

/** The product's emotions (MovieFlow `emotion`). Values outside this list get no emotion. */
export const EMOTIONS = ["humble", "happy", "sad", "angry", "excited", "calm", "neutral", "serious", "gentle", "surprised"] as const;
export type Emotion = typeof EMOTIONS[number];

/** `classic`: the BV* small-model voices (speed [0.2, 3]); `bigtts`: the big-model 1.0
 * voices (speed [0.8, 2], `enable_emotion` needed for `emotion`). */
export type VoiceFamily = "classic" | "bigtts";
export type Voice = { voiceType: string; family: VoiceFamily; emotions: Partial<Record<Emotion, string>> };

// Multi-emotion 1.0 voices (section 6: 开心 悲伤 生气 恐惧 激动 冷漠 中性). `humble` is in no
// provider list: section 7 says neutral on a multi-emotion voice; calm, serious and gentle
// likewise have no counterpart and read as neutral rather than the cold `coldness`.
const RUYA_EMOTIONS: Voice["emotions"] = {
  humble: "neutral", happy: "happy", sad: "sad", angry: "angry", excited: "excited",
  calm: "neutral", neutral: "neutral", serious: "neutral", gentle: "neutral",
};

/**
 * The product's `voice` values and the provider voice each one speaks with (section 6).
 * Classic voices get no emotion: their English emotion ids are not published ([UNCONFIRMED]).
 */
export const VOICES = {
  // 儒雅男友（多情感）: soft, refined, with emotions (section 7's first choice for male_soft).
  male_soft: { voiceType: "zh_male_ruyayichen_emo_v2_mars_bigtts", family: "bigtts", emotions: RUYA_EMOTIONS },
  // 擎苍: the classic deep narrating male voice.
  male_deep: { voiceType: "BV701_streaming", family: "classic", emotions: {} },
  // 阳光青年（多情感）: the same emotion set as 儒雅男友.
  male_bright: { voiceType: "zh_male_yangguangqingnian_emo_v2_mars_bigtts", family: "bigtts", emotions: RUYA_EMOTIONS },
  // 通用女声: free without ordering in the console.
  female_soft: { voiceType: "BV001_streaming", family: "classic", emotions: {} },
  // 爽快思思: no emotion list is published for it.
  female_bright: { voiceType: "zh_female_shuangkuaisisi_moon_bigtts", family: "bigtts", emotions: {} },
  // 通用男声: free without ordering, so the default narrator works on any account.
  narrator: { voiceType: "BV002_streaming", family: "classic", emotions: {} },
  // The seed's Tang Monk. 唐僧 2.0 (zh_male_tangseng_uranus_bigtts) exists only on the V3
  // API, and an account holding only 2.0 resources is refused on V1 (section 8.1); on V1 the
  // closest is the refined, gentle 儒雅男友, whose emotions carry the template's `humble`.
  tang_monk: { voiceType: "zh_male_ruyayichen_emo_v2_mars_bigtts", family: "bigtts", emotions: RUYA_EMOTIONS },
} as const satisfies Record<string, Voice>;

export type VoiceName = keyof typeof VOICES;
export const VOICE_NAMES = Object.keys(VOICES) as VoiceName[];

/** A request's text limit: 3010 (not retryable) beyond it (section 5). */
export const TTS_MAX_TEXT_BYTES = 1024;

const SPEED: Record<VoiceFamily, [number, number]> = { classic: [0.2, 3], bigtts: [0.8, 2] };
// A low emotion_scale (1-5, default 4) for emotions that stand in for a quieter one.
const SOFTENED = new Set<string>(["humble", "calm", "gentle", "serious"]);

export function voiceFor(voice: string): Voice {
  const v = (VOICES as Record<string, Voice>)[voice];
  if (!v) throw new ProviderError("INVALID_REQUEST", `Unknown voice "${voice}"; use one of ${VOICE_NAMES.join(", ")}`, false);
  return v;
}

/** The `audio` object for a voice, emotion and speed, per the voice's family. */
export function audioParams(voice: string, emotion?: string, speedRatio = 1): Record<string, unknown> {
  const v = voiceFor(voice);
  const [lo, hi] = SPEED[v.family];
  const speed = Math.min(hi, Math.max(lo, Number.isFinite(speedRatio) ? speedRatio : 1));
  const providerEmotion = emotion ? v.emotions[emotion as Emotion] : undefined;
  return {
    voice_type: v.voiceType,
    encoding: "mp3",
    rate: 24000,
    speed_ratio: speed,
    ...(providerEmotion
      ? { ...(v.family === "bigtts" ? { enable_emotion: true } : {}), emotion: providerEmotion, ...(SOFTENED.has(emotion!) ? { emotion_scale: 2 } : {}) }
      : {}),
  };
}

// Body codes -> [catalog code, retryable, what it means].
const CODES: Record<number, [ErrorCode, boolean, string]> = {
  3001: ["INTERNAL_ERROR", false, "the request was refused as invalid"],
  3003: ["RATE_LIMIT_EXCEEDED", true, "the account's concurrency limit was reached"],
  3005: ["SERVICE_UNAVAILABLE", true, "the speech service is busy"],
  3006: ["INTERNAL_ERROR", false, "the reqid was reused"],
  3010: ["INVALID_REQUEST", false, "the narration text is too long"],
  3011: ["INVALID_REQUEST", false, "the narration text is not speakable (empty, punctuation only, or the wrong language for the voice)"],
  3030: ["SERVICE_UNAVAILABLE", true, "synthesis timed out"],
  3031: ["SERVICE_UNAVAILABLE", true, "synthesis failed on the provider's side"],
  3032: ["SERVICE_UNAVAILABLE", true, "the provider timed out waiting for audio"],
  3040: ["SERVICE_UNAVAILABLE", true, "the provider's backend link failed"],
  3050: ["INTERNAL_ERROR", false, "the configured voice_type does not exist"],
};

// Message-level cases (section 4), checked before the code: they come with 3001, 403 or others.
const MESSAGES: [RegExp, ErrorCode, boolean, string][] = [
  [/quota exceeded for types: concurrency/i, "RATE_LIMIT_EXCEEDED", true, "the account's concurrency limit was reached"],
  [/quota exceeded for types: \S*_lifetime/i, "INTERNAL_ERROR", false, "the trial quota is used up; buy the paid plan"],
  [/grant not found/i, "INTERNAL_ERROR", false, "the appid or token is wrong (the header must be Bearer;<token>)"],
  [/access denied/i, "INTERNAL_ERROR", false, "the voice is not authorised for this account (order it in the console)"],
  [/not granted/i, "INTERNAL_ERROR", false, "the account holds no V1 resource for this voice"],
  [/Init Engine Instance failed/i, "INTERNAL_ERROR", false, "the voice_type or cluster is wrong"],
  [/illegal input text/i, "INVALID_REQUEST", false, "the narration text is not speakable"],
];

function ttsError(status: number, code: number | undefined, message: string): ProviderError {
  const text = (what: string) => `volcengine-tts: ${what} (${code ?? `HTTP ${status}`} ${message})`.replace(/ \)$/, ")");
  const byMessage = MESSAGES.find(([re]) => re.test(message));
  if (byMessage) return new ProviderError(byMessage[1], text(byMessage[3]), byMessage[2]);
  const byCode = code === undefined ? undefined : CODES[code];
  if (byCode) return new ProviderError(byCode[0], text(byCode[2]), byCode[1]);
  if (status === 429) return new ProviderError("RATE_LIMIT_EXCEEDED", text("rate limited"), true);
  if (status >= 500) return new ProviderError("SERVICE_UNAVAILABLE", text("the speech service failed"), true);
  return new ProviderError("INTERNAL_ERROR", text("the request was refused"), false);
}

/** Speaks `text` with a product voice; answers the mp3, its duration and the ids to log. */
export async function synthesize(
  cfg: TtsConfig,
  req: { text: string; voice: string; emotion?: string; speedRatio?: number },
): Promise<{ bytes: Uint8Array<ArrayBuffer>; durationMs: number; reqid: string; logId: string | null }> {
  const audio = audioParams(req.voice, req.emotion, req.speedRatio);
  const bytes = new TextEncoder().encode(req.text).length;
  if (bytes > TTS_MAX_TEXT_BYTES) {
    throw new ProviderError("INVALID_REQUEST", `Narration text is ${bytes} bytes; at most ${TTS_MAX_TEXT_BYTES} UTF-8 bytes can be spoken at once`, false);
  }
  // A fresh reqid on every call, retries included: a reused one is refused with 3006.
  const reqid = crypto.randomUUID();
  const res = await providerFetch("volcengine-tts", `${cfg.baseUrl}/api/v1/tts`, {
    method: "POST",
    headers: { Authorization: `Bearer;${cfg.token}`, "Content-Type": "application/json" },
    body: JSON.stringify({
      // app.token is not checked ("fake token", any non-empty value): the header authenticates.
      app: { appid: cfg.appId, token: "access_token", cluster: cfg.cluster },
      user: { uid: "reelforge-movie" },
      audio,
      request: { reqid, text: req.text, text_type: "plain", operation: "query" },
    }),
    // The service gives up after 60 s; wait a little longer for its answer.
    timeoutMs: 65_000,
  });
  const logId = res.headers.get("x-tt-logid");
  const json = await readJsonBody("volcengine-tts", res) as { code?: unknown; message?: unknown; data?: unknown; addition?: { duration?: unknown } };
  const code = lenientNumber(json?.code);
  if (code === 3000 && typeof json.data === "string" && json.data.length > 0) {
    const audioBytes = fromBase64(json.data);
    return { bytes: audioBytes, durationMs: lenientNumber(json.addition?.duration) ?? mp3DurationMs(audioBytes), reqid, logId };
  }
  if (code === 3000) throw new ProviderError("SERVICE_UNAVAILABLE", "volcengine-tts: code 3000 without audio", true);
  throw ttsError(res.status, code, String(json?.message ?? ""));
}

/** Length of an MPEG-1/2 layer III stream by its frame headers (when addition.duration is missing). */
export function mp3DurationMs(b: Uint8Array): number {
  const BITRATES = [[0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320], [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160]];
  const RATES = [[44100, 48000, 32000], [22050, 24000, 16000], [11025, 12000, 8000]];
  let i = 0;
  if (b[0] === 0x49 && b[1] === 0x44 && b[2] === 0x33) i = 10 + ((b[6] << 21) | (b[7] << 14) | (b[8] << 7) | b[9]);
  let ms = 0;
  while (i + 4 <= b.length) {
    if (b[i] !== 0xff || (b[i + 1] & 0xe0) !== 0xe0) {
      i++;
      continue;
    }
    const version = (b[i + 1] >> 3) & 3; // 3 MPEG-1, 2 MPEG-2, 0 MPEG-2.5
    const bitrate = BITRATES[version === 3 ? 0 : 1][b[i + 2] >> 4];
    const rate = RATES[version === 3 ? 0 : version === 2 ? 1 : 2]?.[(b[i + 2] >> 2) & 3];
    if (!bitrate || !rate || version === 1) {
      i++;
      continue;
    }
    const samples = version === 3 ? 1152 : 576;
    ms += (samples / rate) * 1000;
    i += Math.floor((samples / 8) * bitrate * 1000 / rate) + ((b[i + 2] >> 1) & 1);
  }
  return Math.round(ms);
}
