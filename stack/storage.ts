// Stand-in for Supabase Storage: the object endpoints storage-js and the functions use
// (upload, authenticated download, signed URLs), files on local disk. Access follows the
// policies of the hosted project (see the storage migration): the service role may do
// anything; a signed-in user may write and read only under a folder named by their id.
import { signJwt, verifyJwt } from "../packages/shared/src/jwt.ts";
import { JWT_SECRET, STORAGE_DIR } from "./env.ts";

const BUCKETS = new Set(["selfies", "outputs"]);
const MAX_OBJECT_BYTES = 50 * 1024 * 1024;

function storageError(status: number, error: string, message: string) {
  return Response.json({ statusCode: String(status), error, message }, { status });
}

function splitObject(rest: string): { bucket: string; path: string } | null {
  const [bucket, ...parts] = rest.split("/");
  const path = parts.map(decodeURIComponent).join("/");
  if (!BUCKETS.has(bucket) || !path || path.split("/").some((p) => p === ".." || p === "")) return null;
  return { bucket, path };
}

async function caller(req: Request) {
  const token = req.headers.get("authorization")?.replace(/^Bearer /, "") ?? "";
  return await verifyJwt(token, JWT_SECRET);
}

// Users reach only their own selfies; outputs are written by the functions and handed out
// as signed URLs.
function mayAccess(claims: Awaited<ReturnType<typeof caller>>, path: string, bucket: string) {
  if (!claims) return false;
  return claims.role === "service_role" ||
    (claims.role === "authenticated" && bucket === "selfies" && path.split("/")[0] === claims.sub);
}

const file = (o: { bucket: string; path: string }) => `${STORAGE_DIR}/${o.bucket}/${o.path}`;

async function readObject(o: { bucket: string; path: string }) {
  try {
    const data = await Deno.readFile(file(o));
    const type = await Deno.readTextFile(file(o) + ".type").catch(() => "application/octet-stream");
    return new Response(data, { headers: { "content-type": type } });
  } catch {
    return storageError(404, "not_found", "Object not found");
  }
}

async function upload(req: Request, o: { bucket: string; path: string }) {
  let body: Uint8Array;
  let type = req.headers.get("content-type") ?? "application/octet-stream";
  if (type.startsWith("multipart/form-data")) {
    const form = await req.formData();
    const part = [...form.values()].find((v): v is File => v instanceof File);
    if (!part) return storageError(400, "invalid_request", "No file in the form");
    body = new Uint8Array(await part.arrayBuffer());
    type = part.type || "application/octet-stream";
  } else {
    body = new Uint8Array(await req.arrayBuffer());
  }
  if (body.byteLength > MAX_OBJECT_BYTES) {
    return storageError(413, "Payload too large", "The object exceeded the maximum allowed size");
  }
  const upsert = req.headers.get("x-upsert") === "true";
  const target = file(o);
  await Deno.mkdir(target.slice(0, target.lastIndexOf("/")), { recursive: true });
  try {
    await Deno.writeFile(target, body, { createNew: !upsert });
  } catch (err) {
    if (err instanceof Deno.errors.AlreadyExists) {
      return storageError(409, "Duplicate", "The resource already exists");
    }
    throw err;
  }
  await Deno.writeTextFile(target + ".type", type);
  return Response.json({ Key: `${o.bucket}/${o.path}`, Id: crypto.randomUUID() });
}

/** POST list/<bucket> {prefix}: the objects directly in a folder; DELETE <bucket> {prefixes}. */
async function listOrRemove(req: Request, path: string): Promise<Response | null> {
  const listing = path.startsWith("list/");
  const bucket = listing ? path.slice(5) : path;
  if (!BUCKETS.has(bucket) || (listing ? req.method !== "POST" : req.method !== "DELETE")) return null;
  const body = await req.json().catch(() => ({}));
  const claims = await caller(req);
  if (listing) {
    const prefix = String(body.prefix ?? "").replace(/\/$/, "");
    if (!splitObject(`${bucket}/${prefix}`) || !mayAccess(claims, prefix, bucket)) return storageError(403, "Unauthorized", "Access denied");
    const names: { name: string }[] = [];
    try {
      for await (const e of Deno.readDir(`${STORAGE_DIR}/${bucket}/${prefix}`)) {
        if (!e.name.endsWith(".type")) names.push({ name: e.name });
      }
    } catch { /* an empty folder */ }
    return Response.json(names);
  }
  const removed: { name: string }[] = [];
  for (const p of Array.isArray(body.prefixes) ? body.prefixes.map(String) : []) {
    const o = splitObject(`${bucket}/${p}`);
    if (!o || !mayAccess(claims, o.path, bucket)) return storageError(403, "Unauthorized", "Access denied");
    await Deno.remove(file(o)).then(() => removed.push({ name: o.path })).catch(() => {});
    await Deno.remove(file(o) + ".type").catch(() => {});
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
    if (!mayAccess(await caller(req), o.path, o.bucket)) return storageError(403, "Unauthorized", "Access denied");
    const { expiresIn } = await req.json().catch(() => ({ expiresIn: 0 }));
    const seconds = Number(expiresIn);
    if (!(seconds > 0)) return storageError(400, "invalid_request", "expiresIn must be a positive number");
    const token = await signJwt(
      { url: `${o.bucket}/${o.path}`, exp: Math.floor(Date.now() / 1000) + seconds },
      JWT_SECRET,
    );
    return Response.json({ signedURL: `/object/sign/${o.bucket}/${encodeURI(o.path)}?token=${token}` });
  }
  const rest = path.startsWith("authenticated/") ? path.slice("authenticated/".length) : path;
  const o = splitObject(rest);
  if (!o) return storageError(400, "invalid_request", "Invalid bucket or object path");
  if (!mayAccess(await caller(req), o.path, o.bucket)) return storageError(403, "Unauthorized", "Access denied");
  if (req.method === "GET") return await readObject(o);
  if (req.method === "POST" || req.method === "PUT") return await upload(req, o);
  return storageError(405, "invalid_request", "Method not allowed");
}
