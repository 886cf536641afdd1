// Supabase Storage over its REST API with the service key (the same endpoints storage-js uses).
import { config } from "./config.ts";
import { AppError } from "./errors.ts";

function endpoint(path: string) {
  return `${config().SUPABASE_URL}/storage/v1/object/${path}`;
}

function auth() {
  return { Authorization: `Bearer ${config().SUPABASE_SERVICE_ROLE_KEY}` };
}

/** bucket/path for a Storage URL. A dot segment, an empty segment or a control character is
 * refused: once in a URL, `selfies/../outputs/<id>/video.mp4` would name another bucket. */
function objectPath(bucket: string, path: string) {
  const segments = path.split("/");
  if (segments.some((s) => s === "" || s === "." || s === ".." || /[\u0000-\u001f\\]/.test(s))) {
    throw new AppError("INVALID_REQUEST", "A file path must be a plain path inside its folder");
  }
  return `${bucket}/${segments.map(encodeURIComponent).join("/")}`;
}

/** Uploads bytes, or a stream as it arrives (nothing held in memory). */
export async function uploadObject(bucket: string, path: string, body: Uint8Array<ArrayBuffer> | ReadableStream<Uint8Array>, contentType: string) {
  const res = await fetch(endpoint(objectPath(bucket, path)), {
    method: "POST",
    headers: { ...auth(), "content-type": contentType, "x-upsert": "true" },
    body,
    // A stream body needs half-duplex in Node's fetch; Deno streams either way.
    duplex: "half",
  } as RequestInit);
  await res.body?.cancel();
  if (!res.ok) throw new AppError("SERVICE_UNAVAILABLE", `Storage refused the upload (HTTP ${res.status})`);
}

/** An object's bytes as they stream, refused with INVALID_REQUEST before anything is read
 * when it is larger than `maxBytes` (and counted while it streams). */
export async function openObject(bucket: string, path: string, maxBytes = Infinity): Promise<ReadableStream<Uint8Array>> {
  const res = await fetch(endpoint(`authenticated/${objectPath(bucket, path)}`), { headers: auth() });
  if (res.status === 404 || res.status === 400) {
    await res.body?.cancel();
    throw new AppError("NOT_FOUND", `File ${bucket}/${path} does not exist`);
  }
  if (!res.ok || !res.body) {
    await res.body?.cancel();
    throw new AppError("SERVICE_UNAVAILABLE", `Storage refused the download (HTTP ${res.status})`);
  }
  const tooLarge = () => new AppError("INVALID_REQUEST", `File ${bucket}/${path} is larger than ${Math.floor(maxBytes / 1024 / 1024)} MB`);
  if (Number(res.headers.get("content-length") ?? 0) > maxBytes) {
    await res.body.cancel();
    throw tooLarge();
  }
  let size = 0;
  return res.body.pipeThrough(new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, out) {
      if ((size += chunk.length) > maxBytes) throw tooLarge();
      out.enqueue(chunk);
    },
  }));
}

/** An object's bytes (at most `maxBytes`, checked before they are read). */
export async function downloadObject(bucket: string, path: string, maxBytes = Infinity): Promise<Uint8Array<ArrayBuffer>> {
  return new Uint8Array(await new Response(await openObject(bucket, path, maxBytes)).arrayBuffer());
}

/** Signed URLs already handed out, reused while more than 3/4 of their life remains (an
 * answer that lists files gives the same URLs to every read for a while, so clients and
 * browsers can cache them); at most SIGNED_URLS_KEPT, oldest dropped first. */
const signedUrls = new Map<string, { url: string; reuseUntil: number }>();
const SIGNED_URLS_KEPT = 5000;

export async function signedUrl(bucket: string, path: string, expiresIn = 3600): Promise<string> {
  const key = `${bucket}/${path}:${expiresIn}`;
  const kept = signedUrls.get(key);
  if (kept && kept.reuseUntil > Date.now()) return kept.url;
  const res = await fetch(endpoint(`sign/${objectPath(bucket, path)}`), {
    method: "POST",
    headers: { ...auth(), "content-type": "application/json" },
    body: JSON.stringify({ expiresIn }),
  });
  if (!res.ok) {
    await res.body?.cancel();
    throw new AppError("SERVICE_UNAVAILABLE", `Storage could not sign a URL (HTTP ${res.status})`);
  }
  const { signedURL } = await res.json();
  // Providers fetch these (kie reference images): the public Storage URL, not the local one.
  const url = `${config().PUBLIC_STORAGE_URL}${signedURL}`;
  signedUrls.delete(key);
  if (signedUrls.size >= SIGNED_URLS_KEPT) signedUrls.delete(signedUrls.keys().next().value!);
  signedUrls.set(key, { url, reuseUntil: Date.now() + expiresIn * 250 });
  return url;
}

function forgetSignedUrls(bucket: string, paths: string[]) {
  for (const path of paths) {
    for (const key of signedUrls.keys()) if (key.startsWith(`${bucket}/${path}:`)) signedUrls.delete(key);
  }
}

/** Deletes everything under `prefix` (a generation's folder): Storage lists, then removes. */
export async function removeFolder(bucket: string, prefix: string) {
  const listed = await listFolder(bucket, { prefix, limit: 1000 });
  await removeObjects(bucket, listed.map((o) => `${prefix.replace(/\/$/, "")}/${o.name}`));
}

/** Deletes these objects (paths in the bucket); missing ones are no error. */
export async function removeObjects(bucket: string, paths: string[]) {
  if (paths.length === 0) return;
  forgetSignedUrls(bucket, paths);
  const removed = await fetch(endpoint(bucket), {
    method: "DELETE",
    headers: { ...auth(), "content-type": "application/json" },
    body: JSON.stringify({ prefixes: paths }),
  });
  await removed.body?.cancel();
  if (!removed.ok) throw new AppError("SERVICE_UNAVAILABLE", `Storage could not delete from ${bucket} (HTTP ${removed.status})`);
}

/** One page of a folder's listing: files with their size, folders with null metadata. */
async function listFolder(bucket: string, query: { prefix: string; search?: string; limit: number; offset?: number }) {
  const res = await fetch(endpoint(`list/${bucket}`), {
    method: "POST",
    headers: { ...auth(), "content-type": "application/json" },
    body: JSON.stringify(query),
  });
  if (!res.ok) {
    await res.body?.cancel();
    throw new AppError("SERVICE_UNAVAILABLE", `Storage could not list ${bucket} (HTTP ${res.status})`);
  }
  return await res.json() as { name: string; metadata: { size?: number } | null }[];
}

/** An object's size in bytes, or null when there is none (Storage lists the folder; no
 * bytes are read). */
export async function objectSize(bucket: string, path: string): Promise<number | null> {
  const cut = path.lastIndexOf("/");
  const listed = await listFolder(bucket, { prefix: path.slice(0, cut), search: path.slice(cut + 1), limit: 100 });
  const found = listed.find((o) => o.name === path.slice(cut + 1));
  return found?.metadata ? Number(found.metadata.size ?? 0) : null;
}

/** Whether an object exists. */
export async function objectExists(bucket: string, path: string): Promise<boolean> {
  return (await objectSize(bucket, path)) !== null;
}

/** Bytes of the objects under a folder, subfolders included (Storage lists; nothing is read). */
export async function folderBytes(bucket: string, prefix: string): Promise<number> {
  let total = 0;
  for (let offset = 0; ; offset += 1000) {
    const entries = await listFolder(bucket, { prefix, limit: 1000, offset });
    for (const e of entries) total += e.metadata ? Number(e.metadata.size ?? 0) : await folderBytes(bucket, `${prefix}/${e.name}`);
    if (entries.length < 1000) return total;
  }
}
