// MovieFlow's assets (seed 002): `POST assets/upload` (multipart: file, type, metadata) and
// `GET assets?type&tags&page&limit`, plus one asset, its deletion and image edits. Files live
// in the caller's folder of the private `assets` bucket; specs name them by id or path.
import type { Context } from "hono";
import { z } from "zod";
import { asUser } from "../db.ts";
import { AppError } from "../errors.ts";
import { conditionalJson, type Env, functionApp, parseBody, requireUser, validate } from "../http.ts";
import type { JwtClaims } from "../jwt.ts";
import { MAX_ASSET_BYTES, probeMedia, sniffMedia } from "../media-sniff.ts";
import { sha256Hex } from "../movie.ts";
import { paidCall } from "../paid-calls.ts";
import type { AssetType } from "./files.ts";
import { editSceneImage } from "../providers/gemini-image.ts";
import { geminiImageConfig } from "../providers/index.ts";
import { downloadObject, removeObjects, signedUrl, uploadObject } from "../storage.ts";

type AssetRow = {
  id: string; type: AssetType; name: string; tags: string[]; path: string; mime: string; size_bytes: string;
  width: number | null; height: number | null; duration_seconds: string | null; created_at: string;
};

const ASSET_TYPES = ["image", "audio", "video"] as const;
const uuid = z.uuid();

function assetView(a: AssetRow) {
  return {
    id: a.id, type: a.type, name: a.name, tags: a.tags, path: a.path, mimeType: a.mime, size: Number(a.size_bytes),
    width: a.width, height: a.height, duration: a.duration_seconds === null ? null : Number(a.duration_seconds),
    createdAt: a.created_at,
  };
}

export const assetMetadata = z.strictObject({
  name: z.string().trim().min(1).max(200).optional(),
  tags: z.array(z.string().trim().min(1).max(40).regex(/^[^,]+$/, "must not contain a comma")).max(20).default([]),
});

/** Stores bytes as a new asset of the caller: content checked, probed, then the row. */
export async function storeAsset(claims: JwtClaims, type: AssetType, bytes: Uint8Array<ArrayBuffer>, name: string, tags: string[]) {
  if (bytes.length === 0) throw new AppError("INVALID_REQUEST", "file: the file is empty");
  if (bytes.length > MAX_ASSET_BYTES[type]) {
    throw new AppError("INVALID_REQUEST", `file: an ${type} asset may be at most ${MAX_ASSET_BYTES[type] / 1024 / 1024} MB`);
  }
  const sniffed = sniffMedia(bytes);
  if (!sniffed) throw new AppError("INVALID_REQUEST", "file: not a supported image (PNG, JPEG, WebP), audio (MP3, WAV, M4A) or video (MP4, MOV) file");
  if (sniffed.kind !== type) throw new AppError("INVALID_REQUEST", `file: its content is ${sniffed.kind === "audio" ? "an" : "a"} ${sniffed.kind} (${sniffed.mime}), not ${type === "audio" ? "an" : "a"} ${type}`);
  const facts = probeMedia(bytes, sniffed);
  const id = crypto.randomUUID();
  const path = `${claims.sub}/${id}.${sniffed.ext}`;
  await uploadObject("assets", path, bytes, sniffed.mime);
  try {
    const [row] = await asUser(claims, async (sql) => sql<AssetRow[]>`
      select * from app.create_asset(${type}, ${name}, ${tags}, ${path}, ${sniffed.mime}, ${bytes.length},
        ${await sha256Hex(bytes)}, ${facts.width ?? null}, ${facts.height ?? null}, ${facts.durationSeconds ?? null})`);
    return assetView(row);
  } catch (err) {
    await removeObjects("assets", [path]);
    throw err;
  }
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

/** Uploads up to the largest asset (video) plus the multipart framing. */
const MAX_UPLOAD_BYTES = MAX_ASSET_BYTES.video + 64 * 1024;

export function assetsApp() {
  const app = functionApp("assets", MAX_UPLOAD_BYTES);
  app.use("*", requireUser);

  app.post("/upload", async (c) => {
    const form = await c.req.formData().catch(() => {
      throw new AppError("INVALID_REQUEST", "The body must be multipart/form-data with a file, a type and optional metadata");
    });
    const file = form.get("file");
    if (!(file instanceof File)) throw new AppError("INVALID_REQUEST", "file: attach the file as a multipart part named file");
    const type = validate(z.object({ type: z.enum(ASSET_TYPES, { error: "must be image, audio or video" }) }), { type: form.get("type") }).type;
    let meta: unknown = {};
    try {
      meta = JSON.parse(String(form.get("metadata") ?? "{}"));
    } catch {
      throw new AppError("INVALID_REQUEST", "metadata: must be JSON such as {\"name\": \"bgm.mp3\", \"tags\": [\"bgm\"]}");
    }
    const { name, tags } = validate(assetMetadata, meta);
    const asset = await storeAsset(c.get("claims"), type, new Uint8Array(await file.arrayBuffer()), name ?? (file.name || `${type} asset`), tags);
    return c.json(asset, 201);
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
