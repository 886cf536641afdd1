// Stand-in for Supabase Storage: the object endpoints storage-js and the functions use
// (upload, authenticated download, signed URLs), files on local disk. As strict as hosted:
// - the buckets' size limits and allowed MIME types (declared content type), the size counted
//   while the body streams to disk, so a large upload is refused without being held in memory;
// - the policies of the storage migration: the service role may do anything; a signed-in
//   user may upload and read only selfies/<their id>/... and assets/<their id>/... (outputs go
//   out as signed URLs);
// - only API tokens (anon/service keys, users' access tokens) authorise; signed URLs carry
//   their own token, valid for one object until it expires;
// - a user's uploads meet the storage quota and the rate limit of the upload_limits migration's
//   insert policy; forms (storage-js's Blob/File bodies) are read as they stream.
import postgres from "postgres";
import { parse as parseToml } from "smol-toml";
import { accessTokenClaims, type JwtClaims, signJwt, verifyJwt } from "../packages/shared/src/jwt.ts";
import { type FormPart, MultipartError, multipartBoundary, readMultipart } from "../packages/shared/src/multipart.ts";
import { authKeys } from "./auth.ts";
import { DB_URL, JWT_SECRET, ROOT, STORAGE_DIR } from "./env.ts";

const sql = postgres(DB_URL, { max: 2, onnotice: () => {} });

type Bucket = { fileSizeLimit: number | null; allowedMimeTypes: string[] | null };

// The rows the storage migration inserts into storage.buckets (hosted Storage reads them there).
const BUCKETS: Record<string, Bucket> = {
  selfies: { fileSizeLimit: 10 * 1024 * 1024, allowedMimeTypes: ["image/jpeg", "image/png", "image/webp"] },
  assets: {
    fileSizeLimit: 50 * 1024 * 1024,
    allowedMimeTypes: ["image/jpeg", "image/png", "image/webp", "audio/mpeg", "audio/wav", "audio/mp4", "audio/flac", "video/mp4"],
  },
  outputs: { fileSizeLimit: null, allowedMimeTypes: null },
  music: { fileSizeLimit: 50 * 1024 * 1024, allowedMimeTypes: ["audio/flac"] },
};

/** "50MiB", "5MB", "500KB" as config.toml writes sizes, in bytes. */
export function parseSize(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([KMG]i?B|B)?\s*$/i.exec(text);
  if (!m) throw new Error(`not a size: ${text}`);
  const unit = (m[2] ?? "B").toUpperCase();
  const base = unit.includes("I") ? 1024 : 1000;
  const power = { B: 0, K: 1, M: 2, G: 3 }[unit[0] as "B" | "K" | "M" | "G"];
  return Math.floor(Number(m[1]) * base ** power);
}

// The project-wide upload limit, [storage] file_size_limit in config.toml.
const GLOBAL_LIMIT = parseSize(
  (parseToml(await Deno.readTextFile(`${ROOT}/supabase/config.toml`)) as { storage?: { file_size_limit?: string } })
    .storage?.file_size_limit ?? "50MiB",
);

type ObjectRef = { bucket: string; path: string };

function storageError(status: number, error: string, message: string) {
  return Response.json({ statusCode: String(status), error, message }, { status });
}

const tooLarge = () => storageError(413, "Payload too large", "The object exceeded the maximum allowed size");
const denied = () => storageError(403, "Unauthorized", "new row violates row-level security policy");

function splitObject(rest: string): ObjectRef | null {
  const [bucket, ...parts] = rest.split("/");
  let path: string;
  try {
    path = parts.map(decodeURIComponent).join("/");
  } catch {
    return null;
  }
  const badSegment = (p: string) => p === "" || p === "." || p === ".." || /[\u0000-\u001f\\]/.test(p);
  if (!(bucket in BUCKETS) || !path || path.split("/").some(badSegment)) return null;
  return { bucket, path };
}

async function caller(req: Request) {
  const token = req.headers.get("authorization")?.replace(/^Bearer /, "") ?? "";
  return await accessTokenClaims(token, authKeys);
}

const ownFolder = (claims: JwtClaims, o: ObjectRef) => claims.role === "authenticated" && o.path.split("/")[0] === claims.sub;

// "users read their own selfies and assets" and "users upload selfies and assets to their own folder".
const USER_BUCKETS = new Set(["selfies", "assets"]);
function mayAccess(claims: JwtClaims | null, o: ObjectRef) {
  return !!claims && (claims.role === "service_role" || (USER_BUCKETS.has(o.bucket) && ownFolder(claims, o)));
}

/** Bytes of the files under a folder, subfolders included. */
async function folderBytes(dir: string): Promise<number> {
  let total = 0;
  try {
    for await (const e of Deno.readDir(dir)) {
      total += e.isDirectory ? await folderBytes(`${dir}/${e.name}`) : e.isFile ? (await Deno.stat(`${dir}/${e.name}`)).size : 0;
    }
  } catch { /* no folder yet */ }
  return total;
}

/** Hosted Storage's insert policy (migration upload_limits): a user's upload needs room under
 * their storage quota, counting their selfies and assets, and takes one request from their
 * rate limit. Refused like any policy: 403, no reason given. */
async function uploadRefusal(userId: string): Promise<string | null> {
  const used = (await folderBytes(`${STORAGE_DIR}/selfies/${userId}`)) + (await folderBytes(`${STORAGE_DIR}/assets/${userId}`));
  const [r] = await sql`select engine.storage_upload_refusal(${userId}, ${used}) as refusal`;
  return r.refusal;
}

const file = (o: ObjectRef) => `${STORAGE_DIR}/${o.bucket}/${o.path}`;
// Content types live beside the buckets, out of reach of object names.
const typeFile = (o: ObjectRef) => `${STORAGE_DIR}/_types/${o.bucket}/${o.path}`;

async function readObject(o: ObjectRef) {
  try {
    const f = await Deno.open(file(o), { read: true });
    const type = await Deno.readTextFile(typeFile(o)).catch(() => "application/octet-stream");
    return new Response(f.readable, { headers: { "content-type": type, "content-length": String((await f.stat()).size) } });
  } catch {
    return storageError(404, "not_found", "Object not found");
  }
}

class TooLarge extends Error {}

/** Streams the body to a temporary file, failing as soon as it passes the limit. */
async function writeLimited(body: ReadableStream<Uint8Array>, target: string, limit: number): Promise<string> {
  const tmp = `${target}.${crypto.randomUUID()}.part`;
  let size = 0;
  const counter = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, out) {
      size += chunk.byteLength;
      if (size > limit) throw new TooLarge();
      out.enqueue(chunk);
    },
  });
  const f = await Deno.open(tmp, { write: true, createNew: true });
  try {
    await body.pipeThrough(counter).pipeTo(f.writable);
  } catch (err) {
    await Deno.remove(tmp).catch(() => {});
    throw err;
  }
  return tmp;
}

const mimeOf = (header: string | null | undefined) => (header ?? "").split(";")[0].trim().toLowerCase() || "application/octet-stream";

async function upload(req: Request, o: ObjectRef) {
  const bucket = BUCKETS[o.bucket];
  const limit = Math.min(bucket.fileSizeLimit ?? Infinity, GLOBAL_LIMIT);
  if (!req.body) return storageError(400, "invalid_request", "No file in the request");
  let type = mimeOf(req.headers.get("content-type"));
  let body: ReadableStream<Uint8Array> = req.body;
  const multipart = type === "multipart/form-data";
  let form: AsyncGenerator<FormPart> | undefined;
  if (multipart) {
    // storage-js sends a Blob or File as a form whose file part has an empty name (beside
    // cacheControl and metadata fields): read as it streams, the file part's type is the object's.
    const boundary = multipartBoundary(req.headers.get("content-type"));
    if (!boundary) return storageError(400, "invalid_request", "The form has no boundary");
    form = readMultipart(req.body, boundary);
    let part: FormPart | undefined;
    try {
      // Not for-await: leaving that loop would end the form, and with it the part's stream.
      for (let next = await form.next(); !next.done; next = await form.next()) {
        if (next.value.filename !== null || next.value.name === "") {
          part = next.value;
          break;
        }
      }
    } catch {
      return storageError(400, "invalid_request", "The form could not be read");
    }
    if (!part) return storageError(400, "invalid_request", "No file in the form");
    type = mimeOf(part.contentType);
    body = part.body;
  }
  if (bucket.allowedMimeTypes && !bucket.allowedMimeTypes.includes(type)) {
    await body.cancel().catch(() => {});
    await form?.return(undefined);
    return storageError(415, "invalid_mime_type", `mime type ${type} is not supported`);
  }
  if (!multipart && Number(req.headers.get("content-length")) > limit) {
    await body.cancel().catch(() => {});
    return tooLarge();
  }

  const upsert = req.headers.get("x-upsert") === "true";
  const target = file(o);
  await Deno.mkdir(target.slice(0, target.lastIndexOf("/")), { recursive: true });
  let tmp: string;
  try {
    tmp = await writeLimited(body, target, limit);
  } catch (err) {
    if (err instanceof TooLarge) return tooLarge();
    if (err instanceof MultipartError) return storageError(400, "invalid_request", "The form could not be read");
    throw err;
  } finally {
    await form?.return(undefined);
  }
  try {
    if (upsert) await Deno.rename(tmp, target);
    else await Deno.link(tmp, target);
  } catch (err) {
    if (err instanceof Deno.errors.AlreadyExists) return storageError(409, "Duplicate", "The resource already exists");
    throw err;
  } finally {
    if (!upsert) await Deno.remove(tmp).catch(() => {});
  }
  await Deno.mkdir(typeFile(o).slice(0, typeFile(o).lastIndexOf("/")), { recursive: true });
  await Deno.writeTextFile(typeFile(o), type);
  return Response.json({ Key: `${o.bucket}/${o.path}`, Id: crypto.randomUUID() });
}

/** POST list/<bucket> {prefix}: the objects directly in a folder; DELETE <bucket> {prefixes}. */
async function listOrRemove(req: Request, path: string): Promise<Response | null> {
  const listing = path.startsWith("list/");
  const bucket = listing ? path.slice(5) : path;
  if (!(bucket in BUCKETS) || (listing ? req.method !== "POST" : req.method !== "DELETE")) return null;
  const body = await req.json().catch(() => ({}));
  const claims = await caller(req);
  if (listing) {
    const prefix = String(body.prefix ?? "").replace(/\/$/, "");
    const o = splitObject(`${bucket}/${prefix}`);
    if (!o || !mayAccess(claims, o)) return denied();
    // As hosted Storage lists: files with their size and type, folders with null metadata.
    const entries: { name: string; id: string | null; metadata: { size: number; mimetype: string } | null }[] = [];
    try {
      for await (const e of Deno.readDir(file(o))) {
        if (e.name.endsWith(".part")) continue;
        const child = { bucket: o.bucket, path: `${o.path}/${e.name}` };
        if (!e.isFile) {
          entries.push({ name: e.name, id: null, metadata: null });
          continue;
        }
        const { size } = await Deno.stat(file(child));
        const mimetype = await Deno.readTextFile(typeFile(child)).catch(() => "application/octet-stream");
        entries.push({ name: e.name, id: crypto.randomUUID(), metadata: { size, mimetype } });
      }
    } catch { /* an empty folder */ }
    entries.sort((a, b) => (a.name < b.name ? -1 : 1));
    const offset = Math.max(0, Number(body.offset) || 0);
    return Response.json(entries.slice(offset, offset + Math.max(1, Number(body.limit) || 100)));
  }
  const removed: { name: string }[] = [];
  for (const p of Array.isArray(body.prefixes) ? body.prefixes.map(String) : []) {
    const o = splitObject(`${bucket}/${p}`);
    if (!o || !mayAccess(claims, o)) return denied();
    await Deno.remove(file(o)).then(() => removed.push({ name: o.path })).catch(() => {});
    await Deno.remove(typeFile(o)).catch(() => {});
  }
  return Response.json(removed);
}

export async function handleStorage(req: Request, url: URL): Promise<Response> {
  const path = url.pathname.slice("/storage/v1/object/".length);
  const listedOrRemoved = await listOrRemove(req, path);
  if (listedOrRemoved) return listedOrRemoved;
  if (path.startsWith("sign/")) {
    const o = splitObject(path.slice(5));
    if (!o) return storageError(400, "invalid_request", "Invalid bucket or object path");
    if (req.method === "GET") {
      const claims = await verifyJwt(url.searchParams.get("token") ?? "", JWT_SECRET);
      if (claims?.url !== `${o.bucket}/${o.path}`) {
        return storageError(400, "InvalidSignature", "The signature is invalid or has expired");
      }
      return await readObject(o);
    }
    if (!mayAccess(await caller(req), o)) return denied();
    const { expiresIn } = await req.json().catch(() => ({ expiresIn: 0 }));
    const seconds = Number(expiresIn);
    if (!(seconds > 0)) return storageError(400, "invalid_request", "expiresIn must be a positive number");
    const token = await signJwt(
      { url: `${o.bucket}/${o.path}`, iat: Math.floor(Date.now() / 1000), exp: Math.floor(Date.now() / 1000) + seconds },
      JWT_SECRET,
    );
    return Response.json({ signedURL: `/object/sign/${o.bucket}/${encodeURI(o.path)}?token=${token}` });
  }
  const rest = path.startsWith("authenticated/") ? path.slice("authenticated/".length) : path;
  const o = splitObject(rest);
  if (!o) return storageError(400, "invalid_request", "Invalid bucket or object path");
  const claims = await caller(req);
  if (req.method === "GET") return mayAccess(claims, o) ? await readObject(o) : storageError(400, "not_found", "Object not found");
  if (req.method === "POST" || req.method === "PUT") {
    if (!mayAccess(claims, o) || (claims!.role !== "service_role" && await uploadRefusal(claims!.sub!))) {
      await req.body?.cancel().catch(() => {});
      return denied();
    }
    return await upload(req, o);
  }
  return storageError(405, "invalid_request", "Method not allowed");
}
