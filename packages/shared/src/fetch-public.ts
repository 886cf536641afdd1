// Downloads from outside URLs (provider results): https to public addresses only, redirects
// followed by hand with every hop checked, a size cap and a content check per kind, and the
// body streamed (to Storage) so memory stays flat whatever the size. In local mode
// (REELFORGE_LOCAL_SIMULATORS=1) the configured provider base URLs, the simulators on
// loopback, may also be plain http.
import { config } from "./config.ts";
import { ProviderError, providerHttpError } from "./providers/http.ts";
import { uploadObject } from "./storage.ts";
import { assertPublicHost } from "./urls.ts";

const MB = 1024 * 1024;

/** What a download of each kind may be: its size cap and the media types it may hold. */
export const MEDIA_LIMITS = {
  image: { maxBytes: 20 * MB, types: ["image/jpeg", "image/png", "image/webp"] },
  video: { maxBytes: 200 * MB, types: ["video/mp4", "video/quicktime", "video/webm"] },
} as const;
export type MediaKind = keyof typeof MEDIA_LIMITS;

const MAX_REDIRECTS = 5;

/** The media type the first bytes show (magic numbers), or null. */
export function sniffMediaType(head: Uint8Array): string | null {
  const at = (i: number, ...bytes: number[]) => bytes.every((b, j) => head[i + j] === b);
  if (at(0, 0xff, 0xd8, 0xff)) return "image/jpeg";
  if (at(0, 0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)) return "image/png";
  if (at(0, 0x52, 0x49, 0x46, 0x46) && at(8, 0x57, 0x45, 0x42, 0x50)) return "image/webp";
  if (at(4, 0x66, 0x74, 0x79, 0x70)) return at(8, 0x71, 0x74, 0x20, 0x20) ? "video/quicktime" : "video/mp4";
  if (at(0, 0x1a, 0x45, 0xdf, 0xa3)) return "video/webm";
  return null;
}

const refused = (source: string, reason: string) => new ProviderError("TASK_FAILED", `${source} result was refused: ${reason}`, false);

function simulatorOrigins(): Set<string> {
  const c = config();
  if (c.REELFORGE_LOCAL_SIMULATORS !== "1") return new Set();
  return new Set([c.GEMINI_BASE_URL, c.NOVITA_BASE_URL, c.KIE_BASE_URL, c.VOLC_BASE_URL].map((u) => new URL(u).origin));
}

/** One hop's URL, refused unless https at a public address (or a simulator in local mode).
 * Errors name only the origin: a presigned URL's query is a credential. */
async function checkedHop(source: string, raw: string, simulators: Set<string>): Promise<URL> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw refused(source, "its URL is not a URL");
  }
  if (url.username || url.password) throw refused(source, `${url.origin} carries credentials`);
  if (simulators.has(url.origin)) return url;
  if (url.protocol !== "https:") throw refused(source, `${url.origin} is not an https URL`);
  try {
    await assertPublicHost(url.hostname, "the URL");
  } catch {
    throw refused(source, `${url.origin} is not a public address`);
  }
  return url;
}

const mediaTypeOf = (header: string | null) => (header ?? "").split(";")[0].trim().toLowerCase();

export type MediaDownload = {
  /** The bytes as they arrive; errors with the refusal once past the size cap. */
  body: ReadableStream<Uint8Array>;
  /** The type the content shows (sniffed), one of the kind's types. */
  type: string;
  /** Why the body stopped early, once it has. */
  failure(): ProviderError | null;
};

/** The body, checked: declared type and length first, then the first bytes, then the size
 * as it streams. */
async function checkedBody(source: string, res: Response, kind: MediaKind): Promise<MediaDownload> {
  const { maxBytes, types } = MEDIA_LIMITS[kind];
  const allowed = types as readonly string[];
  const declared = mediaTypeOf(res.headers.get("content-type"));
  const tooLarge = () => refused(source, `it is larger than ${maxBytes / MB} MB`);
  if (declared !== "application/octet-stream" && !allowed.includes(declared)) {
    await res.body?.cancel();
    throw refused(source, `its content type ${declared || "(none)"} is not ${kind === "image" ? "an image" : "a video"}`);
  }
  if (Number(res.headers.get("content-length")) > maxBytes) {
    await res.body?.cancel();
    throw tooLarge();
  }
  if (!res.body) throw refused(source, "it is empty");
  const reader = res.body.getReader();
  let head = new Uint8Array(0);
  while (head.length < 16) {
    const { done, value } = await reader.read();
    if (done) break;
    const joined = new Uint8Array(head.length + value.length);
    joined.set(head);
    joined.set(value, head.length);
    head = joined;
  }
  const type = sniffMediaType(head);
  if (!type || !allowed.includes(type)) {
    await reader.cancel();
    throw refused(source, `its content is not ${kind === "image" ? "a JPEG, PNG or WebP image" : "an MP4, MOV or WebM video"}`);
  }
  if (head.length > maxBytes) {
    await reader.cancel();
    throw tooLarge();
  }
  let size = head.length;
  let failure: ProviderError | null = null;
  const body = new ReadableStream<Uint8Array>({
    start(out) {
      if (head.length) out.enqueue(head);
    },
    async pull(out) {
      const { done, value } = await reader.read();
      if (done) return out.close();
      size += value.length;
      if (size > maxBytes) {
        failure = tooLarge();
        await reader.cancel();
        return out.error(failure);
      }
      out.enqueue(value);
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
  return { body, type, failure: () => failure };
}

/** Opens a provider result for reading, every redirect hop checked like the first URL. */
export async function fetchPublicMedia(source: string, raw: string, kind: MediaKind, timeoutMs = 120_000): Promise<MediaDownload> {
  const simulators = simulatorOrigins();
  const signal = AbortSignal.timeout(timeoutMs);
  let url = await checkedHop(source, raw, simulators);
  for (let hop = 0;; hop++) {
    let res: Response;
    try {
      res = await fetch(url, { redirect: "manual", signal });
    } catch (err) {
      const what = err instanceof DOMException && err.name === "TimeoutError" ? "timed out" : "could not be reached";
      throw new ProviderError("SERVICE_UNAVAILABLE", `${source} result download ${what}`, true);
    }
    const location = res.headers.get("location");
    if (res.status >= 300 && res.status < 400 && location) {
      await res.body?.cancel();
      if (hop >= MAX_REDIRECTS) throw refused(source, `more than ${MAX_REDIRECTS} redirects`);
      url = await checkedHop(source, new URL(location, url).href, simulators);
      continue;
    }
    if (!res.ok) {
      await res.body?.cancel();
      if (res.status >= 500 || res.status === 429) throw providerHttpError(source, res.status, `download HTTP ${res.status}`, "");
      throw new ProviderError("TASK_FAILED", `${source} result is no longer available (HTTP ${res.status})`, false);
    }
    return await checkedBody(source, res, kind);
  }
}

/** Copies a provider result into Storage as it downloads (URLs expire, so at once). */
export async function copyToStorage(source: string, url: string, kind: MediaKind, bucket: string, path: string): Promise<{ type: string }> {
  const download = await fetchPublicMedia(source, url, kind);
  try {
    await uploadObject(bucket, path, download.body, download.type);
  } catch (err) {
    throw download.failure() ?? err;
  }
  return { type: download.type };
}

/** A provider result read whole, for a step that must hold it (checked the same way). */
export async function readPublicMedia(source: string, url: string, kind: MediaKind): Promise<{ bytes: Uint8Array<ArrayBuffer>; type: string }> {
  const download = await fetchPublicMedia(source, url, kind);
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = download.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.length;
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const c of chunks) {
    bytes.set(c, offset);
    offset += c.length;
  }
  return { bytes, type: download.type };
}
