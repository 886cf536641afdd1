// Volcengine Jimeng video 3.0 simulator (shared/providers/volcengine.md): the gateway checks
// the HMAC-SHA256 signature, then CVSync2AsyncSubmitTask / CVSync2AsyncGetResult answer in
// the business shape. Tasks go in_queue -> generating -> done over latency_ms.jimeng and
// end with a real MP4 of exactly `frames` frames. Poll only: no callbacks exist.
import { blockedWord, count, injectedFault, knobs, onReset, overLimit, publishFile, scripted, submissionAccepted } from "./common.ts";
import { audioSeconds, imageSize, makeImage, makeJimengVideo, makeTalkingHead } from "./media.ts";
import { SIM_VOLC } from "../stack/env.ts";
import { logError } from "../packages/shared/src/log.ts";

const VERSION = "2022-08-31";
const REGION = "cn-north-1";
const SERVICE = "cv";
/** How far X-Date may be from the simulator's clock (Volcengine's window is not in the contract). */
const CLOCK_SKEW_MS = 15 * 60_000;

type Mode = "t2v" | "i2v_first" | "i2v_first_tail";
const REQ_KEYS: Record<string, { mode: Mode; hd: boolean }> = {
  jimeng_t2v_v30: { mode: "t2v", hd: false },
  jimeng_t2v_v30_1080p: { mode: "t2v", hd: true },
  jimeng_i2v_first_v30: { mode: "i2v_first", hd: false },
  jimeng_i2v_first_v30_1080: { mode: "i2v_first", hd: true },
  jimeng_i2v_first_tail_v30: { mode: "i2v_first_tail", hd: false },
  jimeng_i2v_first_tail_v30_1080: { mode: "i2v_first_tail", hd: true },
};
const IMAGES: Record<Mode, number> = { t2v: 0, i2v_first: 1, i2v_first_tail: 2 };

// Output sizes per aspect ratio and tier. Not in the contract: the sizes Jimeng's product
// pages list for 3.0 (720P: 9:16 720x1280; 1080P: 9:16 1088x1920). i2v takes the row
// closest to the image's shape ("the output follows the image").
const SIZES: Record<string, [[number, number], [number, number]]> = {
  "16:9": [[1280, 720], [1920, 1088]],
  "4:3": [[1112, 834], [1664, 1248]],
  "1:1": [[960, 960], [1440, 1440]],
  "3:4": [[834, 1112], [1248, 1664]],
  "9:16": [[720, 1280], [1088, 1920]],
  "21:9": [[1470, 630], [2176, 928]],
};

function closestRatio(width: number, height: number): string {
  const r = Math.log(width / height);
  return Object.keys(SIZES).reduce((best, k) => {
    const [w, h] = SIZES[k][0];
    const [bw, bh] = SIZES[best][0];
    return Math.abs(Math.log(w / h) - r) < Math.abs(Math.log(bw / bh) - r) ? k : best;
  });
}

type Task = {
  id: string;
  reqKey: string;
  created: number;
  /** latency_ms.jimeng when it was submitted: how long it runs. */
  latency: number;
  failCode: number | null;
  video: Promise<Uint8Array<ArrayBuffer>> | null;
  url?: string;
};
const tasks = new Map<string, Task>();
// Tasks still running would hold the concurrency limit across a reset.
onReset(() => tasks.clear());

// ---------------------------------------------------------------- the gateway

const requestId = () => `${new Date().toISOString().replace(/\D/g, "").slice(0, 14)}${crypto.randomUUID().replace(/-/g, "").slice(0, 20).toUpperCase()}`;

function gatewayError(status: number, action: string, code: string, message: string) {
  return Response.json({
    ResponseMetadata: { RequestId: requestId(), Action: action, Version: VERSION, Service: SERVICE, Region: REGION, Error: { Code: code, Message: message } },
  }, { status });
}

const utf8 = (s: string) => new TextEncoder().encode(s);
const hex = (b: ArrayBuffer) => [...new Uint8Array(b)].map((x) => x.toString(16).padStart(2, "0")).join("");
const sha256 = async (data: Uint8Array<ArrayBuffer>) => hex(await crypto.subtle.digest("SHA-256", data));
async function hmac(key: ArrayBuffer | Uint8Array<ArrayBuffer>, data: string) {
  const k = await crypto.subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return await crypto.subtle.sign("HMAC", k, utf8(data));
}
const encode = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** Checks the request's signature as the gateway does; answers the refusal, or null. Its own
 * implementation of section 6.1, written apart from the adapter it checks. */
async function refuseSignature(req: Request, url: URL, body: Uint8Array<ArrayBuffer>, action: string): Promise<Response | null> {
  const auth = req.headers.get("authorization");
  if (!auth) return gatewayError(401, action, "MissingAuthenticationToken", "The request must be signed (Authorization header missing)");
  const m = auth.match(/^HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$/);
  if (!m) return gatewayError(401, action, "InvalidAuthorization", "The Authorization header is malformed");
  const [, ak, date, region, service, signedHeaders, signature] = m;
  if (ak !== SIM_VOLC.accessKey) return gatewayError(401, action, "InvalidAccessKey", `The access key ${ak} does not exist`);
  if (region !== REGION || service !== SERVICE) return gatewayError(401, action, "InvalidCredential", `The credential scope must be ${REGION}/${SERVICE}`);
  const names = signedHeaders.split(";");
  if (!names.includes("host") || !names.includes("x-date")) return gatewayError(401, action, "InvalidAuthorization", "host and x-date must be signed");
  const xDate = req.headers.get("x-date") ?? "";
  const at = Date.parse(xDate.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, "$1-$2-$3T$4:$5:$6Z"));
  if (Number.isNaN(at) || xDate.slice(0, 8) !== date) return gatewayError(401, action, "InvalidTimestamp", "X-Date is missing, malformed or not the credential's date");
  if (Math.abs(Date.now() - at) > CLOCK_SKEW_MS) return gatewayError(401, action, "RequestExpired", "X-Date is too far from the server's time");
  const bodyHash = await sha256(body);
  if ((req.headers.get("x-content-sha256") ?? bodyHash) !== bodyHash) {
    return gatewayError(403, action, "SignatureDoesNotMatch", "X-Content-Sha256 is not the hash of the body");
  }
  const query = [...url.searchParams.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, v]) => `${encode(k)}=${encode(v)}`).join("&");
  const header = (n: string) => (n === "host" ? req.headers.get("host") ?? url.host : req.headers.get(n) ?? "").trim();
  const canonical = [req.method, url.pathname || "/", query, names.map((n) => `${n}:${header(n)}\n`).join(""), signedHeaders, bodyHash].join("\n");
  const scope = `${date}/${region}/${service}/request`;
  const toSign = ["HMAC-SHA256", xDate, scope, await sha256(utf8(canonical))].join("\n");
  let key = await hmac(utf8(SIM_VOLC.secretKey), date);
  for (const part of [region, service, "request"]) key = await hmac(key, part);
  if (hex(await hmac(key, toSign)) !== signature) {
    count("volc_bad_signatures");
    return gatewayError(403, action, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided");
  }
  return null;
}

// ---------------------------------------------------------------- the business answers

const CODE_STATUS: Record<number, number> = { 10000: 200, 50429: 429, 50430: 429, 50500: 500, 50501: 500 };
const MESSAGES: Record<number, string> = {
  50411: "Pre Img Risk Not Pass", 50511: "Post Img Risk Not Pass", 50412: "Text Risk Not Pass", 50512: "Post Text Risk Not Pass",
  50413: "Post Text Risk Not Pass", 50516: "Post Video Risk Not Pass", 50517: "Post Audio Risk Not Pass",
  50518: "Pre Img Risk Not Pass: Copyright", 50519: "Post Img Risk Not Pass: Copyright", 50520: "Risk Internal Error",
  50521: "Antidirt Internal Error", 50522: "Image Copyright Internal Error",
  50429: "Request Has Reached API Limit, Please Try Later", 50430: "Request Has Reached API Concurrent Limit, Please Try Later",
  50500: "Internal Error", 50501: "Internal RPC Error", 30404: "FeatNotFound",
};

/** The business envelope; the outer `status` mirrors `code`; `data` is null unless code is 10000. */
function business(code: number, data: unknown = null, message = MESSAGES[code] ?? "Success", httpStatus = CODE_STATUS[code] ?? 400) {
  count(`jimeng_code_${code}`);
  return Response.json({ code, data: code === 10000 ? data : null, message, request_id: requestId(), status: code, time_elapsed: "12.3ms" }, { status: httpStatus });
}

// The contract gives no code for a malformed parameter; the simulator answers this one.
const badParam = (message: string) => business(50200, null, `Invalid Parameter: ${message}`, 400);

type Decoded = { bytes: Uint8Array<ArrayBuffer>; width: number; height: number };

async function loadImages(body: Record<string, any>, want: number): Promise<Decoded[] | Response> {
  const urls = body.image_urls;
  const b64 = body.binary_data_base64;
  if (want === 0) {
    if (urls !== undefined || b64 !== undefined) return badParam("text-to-video takes no image");
    return [];
  }
  if ((urls === undefined) === (b64 === undefined)) return badParam("pass exactly one of image_urls and binary_data_base64");
  const list = urls ?? b64;
  if (!Array.isArray(list) || list.length !== want || !list.every((x) => typeof x === "string" && x)) {
    return badParam(`${urls !== undefined ? "image_urls" : "binary_data_base64"} must hold exactly ${want} image(s)`);
  }
  const out: Decoded[] = [];
  for (const item of list as string[]) {
    let bytes: Uint8Array<ArrayBuffer>;
    if (urls !== undefined) {
      const res = await fetch(item).catch(() => null);
      if (!res?.ok) return badParam("an image_urls entry could not be downloaded");
      bytes = new Uint8Array(await res.arrayBuffer());
    } else {
      try {
        bytes = Uint8Array.from(atob(item), (c) => c.charCodeAt(0));
      } catch {
        return badParam("binary_data_base64 entries must be base64");
      }
    }
    const size = imageSize(bytes);
    if (!size) return badParam("images must be JPEG or PNG");
    if (bytes.length > 4.7 * 1024 * 1024) return badParam("images must be at most 4.7 MB");
    if (size.width > 4096 || size.height > 4096) return badParam("images must be at most 4096x4096");
    if (Math.min(size.width, size.height) < 320) return badParam("an image's short side must be at least 320 px");
    if (Math.max(size.width, size.height) / Math.min(size.width, size.height) > 3) return badParam("an image's long/short ratio must be at most 3");
    out.push({ bytes, width: size.width, height: size.height });
  }
  if (out.length === 2 && Math.abs(Math.log((out[0].width / out[0].height) / (out[1].width / out[1].height))) > 0.02) {
    return badParam("the first and tail frames must have the same aspect ratio");
  }
  return out;
}

const running = () => [...tasks.values()].filter((t) => Date.now() - t.created < t.latency).length;

async function submit(body: Record<string, any>): Promise<Response> {
  const key = REQ_KEYS[body.req_key];
  if (!key) return business(30404, null, `FeatNotFound: req_key ${String(body.req_key)} is not supported`, 400);
  if (typeof body.prompt !== "string" || !body.prompt.trim()) return badParam("prompt is required");
  if ([...body.prompt].length > 800) return badParam("prompt must be at most 800 characters");
  const frames = body.frames ?? 121;
  if (frames !== 121 && frames !== 241) return badParam("frames must be 121 or 241");
  if (body.seed !== undefined && !Number.isInteger(body.seed)) return badParam("seed must be an integer");
  if (body.aspect_ratio !== undefined) {
    if (key.mode !== "t2v") return badParam("aspect_ratio is for text-to-video only");
    if (!(body.aspect_ratio in SIZES)) return badParam(`aspect_ratio must be one of ${Object.keys(SIZES).join(", ")}`);
  }
  const images = await loadImages(body, IMAGES[key.mode]);
  if (images instanceof Response) return images;
  if (overLimit("jimeng_submit_qps", knobs.jimeng_qps, 1000)) return business(50429);
  if (running() >= knobs.jimeng_concurrency * knobs.limits_scale) return business(50430);
  if (blockedWord(body.prompt)) return business(50413);

  const ratio = key.mode === "t2v" ? body.aspect_ratio ?? "16:9" : closestRatio(images[0].width, images[0].height);
  const [width, height] = SIZES[ratio][key.hd ? 1 : 0];
  const failCode = knobs.jimeng_fail_code;
  const first = key.mode === "t2v" ? makeImage(body.prompt, width, height, "png") : Promise.resolve(images[0].bytes);
  const video = failCode ? null : first.then((f) => makeJimengVideo({ first: f, tail: images[1]?.bytes, width, height, frames, prompt: body.prompt, mode: key.mode }));
  video?.catch((err) => logError("jimeng video", err));
  const t: Task = {
    id: String(7_000_000_000_000_000_000n + BigInt(Math.floor(Math.random() * 1e15))),
    reqKey: body.req_key,
    created: Date.now(),
    latency: knobs.latency_ms.jimeng ?? 0,
    failCode,
    video,
  };
  tasks.set(t.id, t);
  await submissionAccepted("jimeng_submissions");
  return business(10000, { task_id: t.id });
}

async function getResult(origin: string, body: Record<string, any>): Promise<Response> {
  if (!REQ_KEYS[body.req_key]) return business(30404, null, `FeatNotFound: req_key ${String(body.req_key)} is not supported`, 400);
  if (typeof body.task_id !== "string" || !body.task_id) return badParam("task_id is required");
  if (body.req_json !== undefined && typeof body.req_json !== "string") return badParam("req_json must be a JSON string");
  if (overLimit("jimeng_result_qps", knobs.jimeng_qps, 1000)) return business(50429);
  const t = tasks.get(body.task_id);
  if (!t || t.reqKey !== body.req_key || Date.now() - t.created > knobs.volc_task_ttl_seconds * 1000) {
    return business(10000, { status: "not_found", video_url: "" });
  }
  const elapsed = Date.now() - t.created;
  const latency = t.latency;
  if (elapsed < latency * 0.2) return business(10000, { status: "in_queue", video_url: "" });
  if (elapsed < latency) return business(10000, { status: "generating", video_url: "" });
  if (t.failCode) return business(t.failCode);
  // The clip may still be rendering on a slow machine: keep generating until it is ready.
  const video = await Promise.race([t.video!, new Promise<null>((r) => setTimeout(() => r(null), 200))]);
  if (!video) return business(10000, { status: "generating", video_url: "" });
  t.url ??= publishFile(origin, video, "video/mp4", "mp4").url;
  return business(10000, { aigc_meta_tagged: body.req_json !== undefined, status: "done", video_url: t.url });
}

// ---------------------------------------------------------------- OmniHuman 1.5 (volcengine-digital-human.md)
// CVSubmitTask / CVGetResult / CVProcess on the same host and signature. Step 1 checks that
// the portrait shows a person (knob omnihuman_person); step 2 walks processing -> in_queue ->
// generating -> done over latency_ms.omnihuman and ends with the portrait speaking the audio
// (a real MP4 as long as the audio), or 50215 at query time for audio of 60 s or more.

const ROLE_KEY = "jimeng_realman_avatar_picture_create_role_omni_v15";
const VIDEO_KEY = "jimeng_realman_avatar_picture_omni_v15";
const DETECT_KEY = "jimeng_realman_avatar_object_detection";

type HeadTask = { id: string; reqKey: string; created: number; latency: number; outcome: Promise<{ code: number; video?: Uint8Array<ArrayBuffer> }>; person: boolean; url?: string; tagged: boolean };
const headTasks = new Map<string, HeadTask>();
onReset(() => headTasks.clear());

async function download(url: unknown, what: string): Promise<Uint8Array<ArrayBuffer> | Response> {
  if (typeof url !== "string" || !/^https?:\/\//.test(url)) return badParam(`${what} must be a URL`);
  const res = await fetch(url).catch(() => null);
  if (!res?.ok) {
    await res?.body?.cancel();
    return business(50207, null, `Image Decode Error: ${what} could not be downloaded`, 400);
  }
  return new Uint8Array(await res.arrayBuffer());
}

async function headSubmit(body: Record<string, any>): Promise<Response> {
  if (body.req_key !== ROLE_KEY && body.req_key !== VIDEO_KEY) return business(30404, null, `FeatNotFound: req_key ${String(body.req_key)} is not supported`, 400);
  const image = await download(body.image_url, "image_url");
  if (image instanceof Response) return image;
  if (!imageSize(image)) return business(50207, null, "Image Decode Error", 400);
  if (knobs.omnihuman_fail_code) return business(knobs.omnihuman_fail_code);
  let outcome: HeadTask["outcome"] = Promise.resolve({ code: 10000 });
  if (body.req_key === VIDEO_KEY) {
    if (body.output_resolution !== undefined && ![720, 1080].includes(body.output_resolution)) return badParam("output_resolution must be 720 or 1080");
    if (body.pe_fast_mode !== undefined && typeof body.pe_fast_mode !== "boolean") return badParam("pe_fast_mode must be a boolean");
    if (typeof body.prompt === "string" && blockedWord(body.prompt)) return business(50412);
    const audio = await download(body.audio_url, "audio_url");
    if (audio instanceof Response) return audio;
    // A long audio is accepted here and refused by the query (contract section 5).
    outcome = audioSeconds(audio).then(async (seconds) =>
      seconds >= 60 ? { code: 50215 } : { code: 10000, video: await makeTalkingHead({ image, audio, resolution: body.output_resolution ?? 1080 }) }
    );
    outcome.catch((err) => logError("omnihuman video", err));
  }
  const t: HeadTask = {
    id: String(7_300_000_000_000_000_000n + BigInt(Math.floor(Math.random() * 1e15))),
    reqKey: body.req_key, created: Date.now(), latency: body.req_key === VIDEO_KEY ? knobs.latency_ms.omnihuman ?? 0 : 0,
    outcome, person: knobs.omnihuman_person, tagged: false,
  };
  headTasks.set(t.id, t);
  count(body.req_key === VIDEO_KEY ? "omnihuman_videos" : "omnihuman_person_checks");
  return business(10000, { task_id: t.id });
}

async function headResult(origin: string, body: Record<string, any>): Promise<Response> {
  const t = headTasks.get(String(body.task_id ?? ""));
  if (!t || t.reqKey !== body.req_key || Date.now() - t.created > knobs.volc_task_ttl_seconds * 1000) return business(10000, { status: "not_found" });
  const elapsed = Date.now() - t.created;
  if (t.reqKey === ROLE_KEY) return business(10000, { resp_data: JSON.stringify({ status: t.person ? 1 : 0 }), status: "done" });
  if (elapsed < t.latency * 0.1) return business(10000, { status: "processing" });
  if (elapsed < t.latency * 0.3) return business(10000, { status: "in_queue" });
  const outcome = await Promise.race([t.outcome, new Promise<null>((r) => setTimeout(() => r(null), 200))]);
  if (elapsed < t.latency || !outcome) return business(10000, { status: "generating" });
  if (outcome.code === 50215) return business(50215, null, "Input invalid for this service.");
  t.url ??= publishFile(origin, outcome.video!, "video/mp4", "mp4").url;
  return business(10000, { aigc_meta_tagged: typeof body.req_json === "string" && body.req_json.includes("aigc_meta"), status: "done", video_url: t.url });
}

function headDetect(body: Record<string, any>): Response {
  if (body.req_key !== DETECT_KEY) return business(30404, null, `FeatNotFound: req_key ${String(body.req_key)} is not supported`, 400);
  if (typeof body.image_url !== "string") return badParam("image_url is required");
  const masks = ["mask-1"].map((m) => `${SIM_VOLC}/_sim/masks/${m}.png`);
  return business(10000, { resp_data: JSON.stringify({ code: 0, object_detection_result: { mask: { url: masks } }, status: 1 }) });
}

export async function handleVolcengine(req: Request, url: URL): Promise<Response> {
  const action = url.searchParams.get("Action") ?? "";
  const body = new Uint8Array(await req.arrayBuffer());
  const refused = await refuseSignature(req, url, body, action);
  if (refused) return refused;
  const known = ["CVSync2AsyncSubmitTask", "CVSync2AsyncGetResult", "CVSubmitTask", "CVGetResult", "CVProcess"].includes(action);
  if (!known || url.searchParams.get("Version") !== VERSION || req.method !== "POST") {
    return gatewayError(404, action, "InvalidActionOrVersion", `Could not find operation ${action} for version ${url.searchParams.get("Version")}`);
  }
  let json: Record<string, any>;
  try {
    json = JSON.parse(new TextDecoder().decode(body));
    if (!json || typeof json !== "object" || Array.isArray(json)) throw new Error();
  } catch {
    return badParam("the body must be a JSON object");
  }
  if (action === "CVSubmitTask") return await headSubmit(json);
  if (action === "CVGetResult") return await headResult(url.origin, json);
  if (action === "CVProcess") return headDetect(json);
  const submitting = action === "CVSync2AsyncSubmitTask";
  const script = scripted(submitting ? "jimeng-submit" : "jimeng-result", { task_id: String(json.task_id ?? "") });
  if (script) return script;
  if (knobs.down_endpoints.includes(submitting ? "jimeng-submit" : "jimeng-result")) return business(50500);
  const fault = injectedFault();
  if (fault === 429) return business(50429);
  if (fault === 500) return business(50500);
  return submitting ? await submit(json) : await getResult(url.origin, json);
}
