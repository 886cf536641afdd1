// The files a spec names (frames, music, avatars): the caller's assets, by id or path.
import { z } from "zod";
import { asUser } from "../db.ts";
import { AppError } from "../errors.ts";
import type { JwtClaims } from "../jwt.ts";
import type { FileResolver } from "../movie.ts";
import { objectExists } from "../storage.ts";

export type AssetType = "image" | "audio" | "video";
const uuid = z.uuid();

/** The caller's file for a spec field: an asset id or a path in their folder (an asset's path,
 * or a file they uploaded to Storage directly, which the cache cannot key by content). */
export function fileResolver(claims: JwtClaims): FileResolver {
  return async (ref, field, kind) => {
    const byId = uuid.safeParse(ref).success;
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

