// The files a spec names (frames, music, avatars): the caller's assets, by id or path.
import { z } from "zod";
import { asUser } from "../db.ts";
import { AppError } from "../errors.ts";
import type { JwtClaims } from "../jwt.ts";
import { type FileResolver, MUSIC_TRACK } from "../movie.ts";
import { downloadObject, objectExists, uploadObject } from "../storage.ts";

export type AssetType = "image" | "audio" | "video";
const uuid = z.uuid();

/** The caller's file for a spec field: an asset id or a path in their folder (an asset's path,
 * or a file they uploaded to Storage directly, which the cache cannot key by content). */
export function fileResolver(claims: JwtClaims): FileResolver {
  return async (ref, field, kind) => {
    const byId = uuid.safeParse(ref).success;
    if (kind === "audio" && !byId && MUSIC_TRACK.test(ref)) return await libraryTrack(claims, ref, field);
    if (!byId && !ref.startsWith(`${claims.sub}/`)) throw new AppError("FORBIDDEN", `${field} must be in your own folder of the assets bucket`);
    const [asset] = await asUser(claims, (sql) => sql<{ path: string; type: AssetType; sha256: string }[]>`
      select path, type, sha256 from public.assets where ${byId ? sql`id = ${ref}` : sql`path = ${ref}`}`);
    if (asset) {
      if (asset.type !== kind) throw new AppError("INVALID_REQUEST", `${field} must be an ${kind} asset; this one is ${asset.type === "audio" ? "an" : "a"} ${asset.type}`);
      return { path: asset.path, sha256: asset.sha256 };
    }
    if (byId || !(await objectExists("assets", ref))) throw new AppError("NOT_FOUND", `${field}: no such file in your assets`);
    return { path: ref, sha256: null };
  };
}

/** A track of the music library (the public `music` bucket, `<name>.flac`, FLAC 48 kHz stereo)
 * by name, the extension ignored. The movie reads its music from the caller's assets, so the
 * track is copied there at its first use (`<user id>/music/<name>.flac`). */
async function libraryTrack(claims: JwtClaims, ref: string, field: string) {
  const name = ref.replace(/\.[a-z0-9]+$/i, "").toLowerCase();
  const path = `${claims.sub}/music/${name}.flac`;
  if (!(await objectExists("assets", path))) {
    const track = await downloadObject("music", `${name}.flac`).catch((err) => {
      if (err instanceof AppError && err.code === "NOT_FOUND") {
        throw new AppError("NOT_FOUND", `${field}: no track "${name}" in the music library (the music bucket), and not an asset`);
      }
      throw err;
    });
    await uploadObject("assets", path, track, "audio/flac");
  }
  return { path, sha256: null };
}
