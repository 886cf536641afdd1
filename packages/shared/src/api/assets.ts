// MovieFlow's assets (seed 002): `POST assets/upload` (multipart: file, type, metadata) and
// `GET assets?type&tags&page&limit`, plus one asset, its deletion and image edits. Files live
// in the caller's folder of the private `assets` bucket; specs name them by id or path.
import type { Context } from "hono";
import { z } from "zod";
import { asUser, db } from "../db.ts";
import { AppError } from "../errors.ts";
import { conditionalJson, type Env, functionApp, parseBody, requireUser, validate } from "../http.ts";
import type { JwtClaims } from "../jwt.ts";
import { createHash } from "node:crypto";
import { assetRefusal, MAX_ASSET_BYTES, MediaInspector, type Inspection, type Probed, type Sniffed, sniffMedia } from "../media-sniff.ts";
import { MultipartError, multipartBoundary, partText, readMultipart } from "../multipart.ts";
import { paidCall } from "../paid-calls.ts";
import { article, type AssetType } from "./files.ts";
import { editSceneImage } from "../providers/gemini-image.ts";
import { geminiImageConfig } from "../providers/index.ts";
import { downloadObject, folderBytes, removeObjects, signedUrl, uploadObject } from "../storage.ts";

type AssetRow = {
  id: string; type: AssetType; name: string; tags: string[]; path: string; mime: string; size_bytes: string;
  width: number | null; height: number | null; duration_seconds: string | null; created_at: string;
  status: "processing" | "ready" | "failed"; error: string | null;
};

const ASSET_TYPES = ["image", "audio", "video"] as const;
const uuid = z.uuid();

function assetView(a: AssetRow) {
  return {
    id: a.id, type: a.type, name: a.name, tags: a.tags, path: a.path, mimeType: a.mime, size: Number(a.size_bytes),
    width: a.width, height: a.height, duration: a.duration_seconds === null ? null : Number(a.duration_seconds),
    status: a.status, createdAt: a.created_at,
  };
}

export const assetMetadata = z.strictObject({
  name: z.string().trim().min(1).max(200).optional(),
  tags: z.array(z.string().trim().min(1).max(40).regex(/^[^,]+$/, "must not contain a comma")).max(20).default([]),
});

/** Room under the user's storage quota, counting their selfies and assets (the quota direct
 * uploads meet in Storage's policy): refused once their files take all of it. */
async function requireStorageRoom(userId: string) {
  const used = (await folderBytes("selfies", userId)) + (await folderBytes("assets", userId));
  const [{ refusal }] = await db()`select engine.storage_quota_refusal(${used}) as refusal`;
  if (refusal) throw new AppError("QUOTA_EXCEEDED", refusal, { usedBytes: used });
}

/** A file streamed into the caller's assets folder and checked to its end. */
type StoredFile = { path: string; sniffed: Sniffed; probed: Probed; size: number; sha256: string };

/** Streams a file into the caller's assets folder: what it is is read from its first bytes
 * (which name its extension and size limit), its size counted and its content checked as it
 * passes (MediaInspector), so nothing but its head is held. Removed again if it is refused. */
async function streamToAssets(userId: string, file: ReadableStream<Uint8Array>): Promise<StoredFile> {
  await requireStorageRoom(userId);
  const inspector = new MediaInspector();
  const hash = createHash("sha256");
  const reader = file.getReader();
  const take = (chunk: Uint8Array) => {
    inspector.push(chunk);
    hash.update(chunk);
    const kind = inspector.sniffed?.kind ?? "video";
    if (inspector.size > MAX_ASSET_BYTES[kind]) {
      throw new AppError("INVALID_REQUEST", `file: ${article(kind)} ${kind} asset may be at most ${MAX_ASSET_BYTES[kind] / 1024 / 1024} MB`);
    }
  };
  const head: Uint8Array[] = [];
  let ended = false;
  try {
    while (inspector.sniffed === undefined && !ended) {
      const { value, done } = await reader.read();
      if (done) ended = true;
      else take(value), head.push(value);
    }
  } catch (err) {
    await reader.cancel().catch(() => {});
    throw err;
  }
  if (inspector.size === 0) throw new AppError("INVALID_REQUEST", "file: the file is empty");
  const early: Inspection = ended || !inspector.sniffed ? inspector.finish() : { sniffed: inspector.sniffed, probed: {} };
  if ("refused" in early) {
    await reader.cancel().catch(() => {});
    throw new AppError("INVALID_REQUEST", `file: ${early.refused}`);
  }
  const path = `${userId}/${crypto.randomUUID()}.${early.sniffed.ext}`;
  let failure: unknown = null;
  const body = new ReadableStream<Uint8Array>({
    start(out) {
      for (const chunk of head) out.enqueue(chunk);
      if (ended) out.close();
    },
    async pull(out) {
      try {
        const { value, done } = await reader.read();
        if (done) return out.close();
        take(value);
        out.enqueue(value);
      } catch (err) {
        failure = err;
        await reader.cancel().catch(() => {});
        out.error(err);
      }
    },
    async cancel(reason) {
      await reader.cancel(reason);
    },
  }, { highWaterMark: 4 });
  try {
    await uploadObject("assets", path, body, early.sniffed.mime);
  } catch (err) {
    await removeObjects("assets", [path]).catch(() => {});
    throw failure ?? err;
  }
  const inspected = inspector.finish();
  const refusal = assetRefusal(inspected) ?? ("sniffed" in inspected && inspected.sniffed.kind !== early.sniffed.kind
    ? "its index (moov) comes after its media and says it is not what its start says; re-encode it with -movflags +faststart"
    : null);
  if (refusal !== null || "refused" in inspected) {
    await removeObjects("assets", [path]);
    throw new AppError("INVALID_REQUEST", `file: ${refusal}`);
  }
  return { path, sniffed: early.sniffed, probed: inspected.probed, size: inspector.size, sha256: hash.digest("hex") };
}

/** How long an upload waits for its audio to be converted by the media worker (a few seconds
 * as a rule); after that it answers `processing` and GET assets/{id} tells when it is ready. */
const CONVERSION_WAIT_MS = 60_000;

/** The asset once the media worker converted it (or failed to, then it is removed and
 * refused), or as it is when the wait is over. */
async function converted(claims: JwtClaims, asset: AssetRow): Promise<AssetRow> {
  for (const until = Date.now() + CONVERSION_WAIT_MS; asset.status === "processing" && Date.now() < until;) {
    await new Promise((r) => setTimeout(r, 200));
    [asset] = await asUser(claims, (sql) => sql<AssetRow[]>`select * from public.assets where id = ${asset.id}`);
  }
  if (asset.status === "failed") {
    await asUser(claims, (sql) => sql`select from app.delete_asset(${asset.id})`);
    await removeObjects("assets", [asset.path]);
    throw new AppError("INVALID_REQUEST", `file: ${asset.error}`);
  }
  return asset;
}

/** Stores a file as a new asset of the caller: streamed and checked (streamToAssets), then
 * the row; the file is removed again if the row is refused. */
async function createAsset(claims: JwtClaims, type: AssetType, file: StoredFile, name: string, tags: string[]) {
  let row: AssetRow;
  try {
    const { sniffed, probed } = file;
    if (sniffed.kind !== type) throw new AppError("INVALID_REQUEST", `file: its content is ${article(sniffed.kind)} ${sniffed.kind} (${sniffed.mime}), not ${article(type)} ${type}`);
    const [created] = await asUser(claims, async (sql) => sql<AssetRow[]>`
      select * from app.create_asset(${type}, ${name}, ${tags}, ${file.path}, ${sniffed.mime}, ${file.size},
        ${file.sha256}, ${probed.width ?? null}, ${probed.height ?? null}, ${probed.durationSeconds ?? null})`);
    row = created;
  } catch (err) {
    await removeObjects("assets", [file.path]);
    throw err;
  }
  return assetView(await converted(claims, row));
}

/** Stores bytes (an edited image) as a new asset of the caller. */
export async function storeAsset(claims: JwtClaims, type: AssetType, bytes: Uint8Array<ArrayBuffer>, name: string, tags: string[]) {
  return await createAsset(claims, type, await streamToAssets(claims.sub!, new Blob([bytes]).stream()), name, tags);
}

async function ownAsset(c: Context<Env>): Promise<AssetRow> {
  const id = uuid.safeParse(c.req.param("id"));
  const [row] = id.success ? await asUser(c.get("claims"), (sql) => sql<AssetRow[]>`select * from public.assets where id = ${id.data}`) : [];
  if (!row) throw new AppError("NOT_FOUND", "Asset not found");
  return row;
}

/** Gemini's image editing: the image and an instruction. Its API has no mask, so one is
 * refused with what to do instead. */
export const editRequest = z.strictObject({
  instruction: z.string().trim().min(1, "must not be empty").max(2000),
  mask: z.unknown().optional(),
});

/** An image edited by an instruction, stored as a new image asset of the caller. */
export async function editedAsset(claims: JwtClaims, image: Uint8Array<ArrayBuffer>, name: string, tags: string[], req: z.infer<typeof editRequest>) {
  if (req.mask !== undefined) {
    throw new AppError("INVALID_REQUEST", "mask: Gemini's image editing takes no mask; say in the instruction which part to change (e.g. \"remove the person in the background\")");
  }
  const sniffed = sniffMedia(image);
  if (sniffed?.kind !== "image") throw new AppError("INVALID_REQUEST", "Only an image can be edited");
  // Paid as an image edit, refunded unless the edited image is stored.
  return await paidCall(claims, { pipeline: "movie", sku: "image_edit" }, async () => {
    const edited = await editSceneImage(geminiImageConfig(), { image, mimeType: sniffed.mime, instruction: req.instruction });
    return await storeAsset(claims, "image", edited.bytes, `${name} (edited)`.slice(0, 200), [...new Set([...tags, "edited"])].slice(0, 20));
  });
}

export const assetListQuery = z.strictObject({
  type: z.enum(ASSET_TYPES).optional(),
  tags: z.string().max(400).optional(),
  page: z.coerce.number().int().min(1).default(1),
  limit: z.coerce.number().int().min(1).max(100).default(20),
});

/** Uploads up to the largest asset (video) plus the multipart framing and fields. */
const MAX_UPLOAD_BYTES = MAX_ASSET_BYTES.video + 64 * 1024;
const badForm = "The body must be multipart/form-data with a file, a type and optional metadata";

/** The request body, failing once it passes `limit` bytes (counted as it streams). */
function capped(body: ReadableStream<Uint8Array>, limit: number) {
  let size = 0;
  return body.pipeThrough(new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, out) {
      if ((size += chunk.length) > limit) throw new AppError("INVALID_REQUEST", `The request body is larger than ${Math.round(limit / 1024 / 1024)} MB`);
      out.enqueue(chunk);
    },
  }));
}

/** The upload form's type and metadata fields, checked. */
function uploadRequest(fields: Map<string, string>) {
  const { type } = validate(z.object({ type: z.enum(ASSET_TYPES, { error: "must be image, audio or video" }) }), { type: fields.get("type") });
  let meta: unknown;
  try {
    meta = JSON.parse(fields.get("metadata") ?? "{}");
  } catch {
    throw new AppError("INVALID_REQUEST", "metadata: must be JSON such as {\"name\": \"bgm.mp3\", \"tags\": [\"bgm\"]}");
  }
  return { type, ...validate(assetMetadata, meta) };
}

export function assetsApp() {
  // The upload streams: the form is read part by part, the file goes on to Storage as it
  // arrives (a 50 MB upload holds its head, not its bytes).
  const app = functionApp("assets", undefined, ["/assets/upload"]);
  app.use("*", requireUser);

  app.post("/upload", async (c) => {
    const boundary = multipartBoundary(c.req.header("content-type"));
    if (!boundary || !c.req.raw.body) throw new AppError("INVALID_REQUEST", badForm);
    const claims = c.get("claims");
    const fields = new Map<string, string>();
    let file: StoredFile | undefined;
    let fileName = "";
    let req: ReturnType<typeof uploadRequest>;
    try {
      for await (const part of readMultipart(capped(c.req.raw.body, MAX_UPLOAD_BYTES), boundary)) {
        if (part.name === "file" && part.filename !== null) {
          if (file) throw new AppError("INVALID_REQUEST", "file: attach one file");
          fileName = part.filename;
          file = await streamToAssets(claims.sub!, part.body);
        } else if (part.name === "type" || part.name === "metadata") {
          fields.set(part.name, await partText(part, 16 * 1024));
        }
      }
      if (!file) throw new AppError("INVALID_REQUEST", "file: attach the file as a multipart part named file");
      req = uploadRequest(fields);
    } catch (err) {
      if (file) await removeObjects("assets", [file.path]).catch(() => {});
      throw err instanceof MultipartError ? new AppError("INVALID_REQUEST", `${badForm}: ${err.message}`) : err;
    }
    return c.json(await createAsset(claims, req.type, file, req.name ?? (fileName || `${req.type} asset`), req.tags), 201);
  });

  app.get("/", async (c) => {
    const q = validate(assetListQuery, c.req.query());
    const tags = (q.tags ?? "").split(",").map((t) => t.trim()).filter(Boolean);
    const claims = c.get("claims");
    const where = (sql: Parameters<Parameters<typeof asUser>[1]>[0]) =>
      sql`user_id = ${claims.sub!} ${q.type ? sql`and type = ${q.type}` : sql``} ${tags.length ? sql`and tags @> ${tags}` : sql``}`;
    const [version] = await asUser(claims, (sql) => sql`
      select count(*)::int as total, md5(coalesce(string_agg(id::text || name || array_to_string(tags, ','), ' ' order by id), '')) as digest
      from public.assets where ${where(sql)}`);
    return await conditionalJson(c, [q, version], false, async () => {
      const rows = await asUser(claims, (sql) => sql<AssetRow[]>`
        select * from public.assets where ${where(sql)}
        order by created_at desc, id desc limit ${q.limit} offset ${(q.page - 1) * q.limit}`);
      return { assets: rows.map(assetView), page: q.page, limit: q.limit, total: version.total, hasMore: q.page * q.limit < version.total };
    });
  });

  app.get("/:id", async (c) => {
    const row = await ownAsset(c);
    return await conditionalJson(c, [row.id, row.name, row.tags], false, async () => ({ ...assetView(row), url: await signedUrl("assets", row.path) }));
  });

  app.post("/:id/edit", async (c) => {
    const row = await ownAsset(c);
    const req = await parseBody(c, editRequest);
    return c.json(await editedAsset(c.get("claims"), await downloadObject("assets", row.path), row.name, row.tags, req), 201);
  });

  app.delete("/:id", async (c) => {
    const row = await ownAsset(c);
    await asUser(c.get("claims"), (sql) => sql`select from app.delete_asset(${row.id})`);
    await removeObjects("assets", [row.path]);
    return c.json({ deleted: row.id });
  });
  return app;
}
