// API keys for servers: `rf_live_` and 256 random bits (base64url). Only the key's SHA-256
// is stored; a request with `Authorization: Bearer rf_live_...` acts as the key's owner.
import { db } from "./db.ts";
import { AppError } from "./errors.ts";
import type { JwtClaims } from "./jwt.ts";
import { sha256Hex } from "./movie.ts";

export const API_KEY_PREFIX = "rf_live_";
/** How much of a key is kept in the clear to tell keys apart: the prefix and 4 characters. */
const SHOWN_CHARACTERS = API_KEY_PREFIX.length + 4;

export const isApiKey = (bearer: string) => bearer.startsWith(API_KEY_PREFIX);

/** A new key: the secret (shown once), what is shown of it later, and what is stored. */
export async function newApiKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  const secret = API_KEY_PREFIX + btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  return { secret, prefix: secret.slice(0, SHOWN_CHARACTERS), secretHash: await sha256Hex(secret) };
}

/** The claims a key's owner would carry in a session (what RLS and auth.uid() read), or a 401. */
export async function apiKeyClaims(secret: string): Promise<JwtClaims> {
  const [owner] = await db()<{ key_id: string | null; user_id: string | null; revoked: boolean | null }[]>`
    select key_id, user_id, revoked from engine.api_key_owner(${await sha256Hex(secret)})`;
  if (!owner?.user_id) throw new AppError("UNAUTHORIZED", "This API key is not valid");
  if (owner.revoked) throw new AppError("UNAUTHORIZED", "This API key has been revoked");
  return { sub: owner.user_id, role: "authenticated", aud: "authenticated", api_key_id: owner.key_id };
}
