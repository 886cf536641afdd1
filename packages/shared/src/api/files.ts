// The files a spec names (frames, music, avatars): the caller's assets, by id or path.
import { z } from "zod";
import { asUser } from "../db.ts";
import { AppError } from "../errors.ts";
import type { JwtClaims } from "../jwt.ts";
import { type FileResolver, MUSIC_TRACK } from "../movie.ts";
import { assetRefusal, MAX_ASSET_BYTES, type MediaKind, MediaInspector } from "../media-sniff.ts";
import { downloadObject, objectSize, openObject, uploadObject } from "../storage.ts";

export type AssetType = "image" | "audio" | "video";
export const article = (kind: string) => (kind === "audio" || kind === "image" ? "an" : "a");
const uuid = z.uuid();

/** The caller's file for a spec field: an asset id or a path in their folder (an asset's path,
 * or a file they uploaded to Storage directly, which the cache cannot key by content). */
export function fileResolver(claims: JwtClaims): FileResolver {
  return async (ref, field, kind) => {
    const byId = uuid.safeParse(ref).success;
    if (kind === "audio" && !byId && MUSIC_TRACK.test(ref)) return await libraryTrack(claims, ref, field);
    if (!byId && !ref.startsWith(`${claims.sub}/`)) throw new AppError("FORBIDDEN", `${field} must be in your own folder of the assets bucket`);
    const [asset] = await asUser(claims, (sql) => sql<{ path: string; type: AssetType; sha256: string; status: string }[]>`
      select path, type, sha256, status from public.assets where ${byId ? sql`id = ${ref}` : sql`path = ${ref}`}`);
    if (asset) {
      if (asset.type !== kind) throw new AppError("INVALID_REQUEST", `${field} must be ${article(kind)} ${kind} asset; this one is ${article(asset.type)} ${asset.type}`);
      // Audio is used once converted to the format the mixer reads (the media worker's job).
      if (asset.status !== "ready") {
        throw new AppError("INVALID_REQUEST", `${field}: ${asset.status === "failed" ? "this asset could not be converted; upload it again" : "this asset is still being converted; try again in a few seconds"}`);
      }
      return { path: asset.path, sha256: asset.sha256 };
    }
    if (byId) throw new AppError("NOT_FOUND", `${field}: no such file in your assets`);
    // Music is converted once at upload to the one format the mixer reads: only assets will do.
    if (kind === "audio") throw new AppError("INVALID_REQUEST", `${field}: name an audio asset (POST assets/upload converts it once to the format the mixer reads), not a file put in Storage`);
    await checkStoredFile(ref, field, kind);
    return { path: ref, sha256: null };
  };
}

/** A track of the music library (the public `music` bucket, `<name>.flac`, FLAC 48 kHz stereo)
 * by name, the extension ignored. The movie reads its music from the caller's assets, so the
 * track is copied there (`<user id>/music/<name>.flac`), every time: the user can write to
 * that folder, and what the mixer reads must be the library's track. */
async function libraryTrack(claims: JwtClaims, ref: string, field: string) {
  const name = ref.replace(/\.[a-z0-9]+$/i, "").toLowerCase();
  const path = `${claims.sub}/music/${name}.flac`;
  const track = await downloadObject("music", `${name}.flac`).catch((err) => {
    if (err instanceof AppError && err.code === "NOT_FOUND") {
      throw new AppError("NOT_FOUND", `${field}: no track "${name}" in the music library (the music bucket), and not an asset`);
    }
    throw err;
  });
  await uploadObject("assets", path, track, "audio/flac");
  return { path, sha256: null };
}

/** A file put in Storage directly meets the rules of an upload: its size is checked before a
 * byte is read, then its content as it streams (MediaInspector), nothing kept. */
async function checkStoredFile(path: string, field: string, kind: MediaKind) {
  const size = await objectSize("assets", path);
  if (size === null) throw new AppError("NOT_FOUND", `${field}: no such file in your assets`);
  const limit = MAX_ASSET_BYTES[kind];
  if (size > limit) {
    throw new AppError("INVALID_REQUEST", `${field}: ${article(kind)} ${kind} may be at most ${limit / 1024 / 1024} MB; this file is ${(size / 1024 / 1024).toFixed(1)} MB`);
  }
  const inspector = new MediaInspector();
  for await (const chunk of await openObject("assets", path, limit)) inspector.push(chunk);
  const inspected = inspector.finish();
  const refusal = assetRefusal(inspected);
  if (refusal !== null || "refused" in inspected) throw new AppError("INVALID_REQUEST", `${field}: ${refusal}`);
  if (inspected.sniffed.kind !== kind) {
    throw new AppError("INVALID_REQUEST", `${field} must be ${article(kind)} ${kind}; this file is ${article(inspected.sniffed.kind)} ${inspected.sniffed.kind} (${inspected.sniffed.mime})`);
  }
}

