// JSON Web Tokens through jose, the one place that signs and verifies them: the legacy HS256
// JWT secret (the anon and service keys, Storage's signed URLs) and asymmetric keys (ES256)
// that Supabase Auth publishes at /auth/v1/.well-known/jwks.json.
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  type JWK,
  type JWTHeaderParameters,
  jwtVerify,
  type JWTVerifyGetKey,
  SignJWT,
} from "jose";

const enc = new TextEncoder();

export type JwtClaims = { sub?: string; role?: string; exp?: number; [k: string]: unknown };

/** What a token may be verified against: the JWT secret, and the project's public keys. */
export type JwtKeys = { secret?: string; jwksUrl?: string; jwks?: { keys: JWK[] } };

/** A signing key of Auth: a private JWK with its key id. */
export type SigningKey = { kid: string; privateKey: CryptoKey };

export function base64url(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export async function signJwt(claims: Record<string, unknown>, secret: string): Promise<string> {
  return await new SignJWT(claims).setProtectedHeader({ alg: "HS256", typ: "JWT" }).sign(enc.encode(secret));
}

export async function signJwtWithKey(claims: Record<string, unknown>, key: SigningKey): Promise<string> {
  return await new SignJWT(claims).setProtectedHeader({ alg: "ES256", typ: "JWT", kid: key.kid }).sign(key.privateKey);
}

/** Compares secrets without leaking where they differ through timing. */
export function constantTimeEqual(a: string, b: string) {
  let diff = a.length ^ b.length;
  for (let i = 0; i < Math.min(a.length, b.length); i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

// A remote key set caches the keys and refetches only for an unknown key id: one per URL.
const remoteSets = new Map<string, JWTVerifyGetKey>();
const localSets = new WeakMap<object, JWTVerifyGetKey>();

function keyResolver(keys: JwtKeys) {
  return (header: JWTHeaderParameters) => {
    if (header.alg === "HS256") {
      if (!keys.secret) throw new Error("no secret for HS256");
      return enc.encode(keys.secret);
    }
    if (keys.jwks) {
      let set = localSets.get(keys.jwks);
      if (!set) localSets.set(keys.jwks, set = createLocalJWKSet(keys.jwks));
      return set(header, undefined as never);
    }
    if (keys.jwksUrl) {
      let set = remoteSets.get(keys.jwksUrl);
      if (!set) remoteSets.set(keys.jwksUrl, set = createRemoteJWKSet(new URL(keys.jwksUrl)));
      return set(header, undefined as never);
    }
    throw new Error(`no key for ${header.alg}`);
  };
}

/** The claims of a valid, unexpired token signed with the secret (HS256) or one of the
 * published keys (ES256, RS256), or null. */
export async function verifyJwt(token: string, keys: string | JwtKeys): Promise<JwtClaims | null> {
  try {
    const { payload } = await jwtVerify(token, keyResolver(typeof keys === "string" ? { secret: keys } : keys), {
      algorithms: ["HS256", "ES256", "RS256"],
    });
    return payload as JwtClaims;
  } catch {
    return null;
  }
}

const API_ROLES = new Set(["anon", "authenticated", "service_role"]);

/** The claims of a token that may call the API, as the Supabase gateway decides: the anon or
 * service key, or a user's access token (role, audience, subject and session, as Auth issues
 * them). Refresh tokens, Storage's signed-URL tokens and other JWTs signed with the same
 * secret are refused. */
export async function accessTokenClaims(token: string, keys: string | JwtKeys): Promise<JwtClaims | null> {
  const claims = await verifyJwt(token, keys);
  if (!claims || typeof claims.role !== "string" || !API_ROLES.has(claims.role)) return null;
  if (claims.role !== "authenticated") return claims;
  const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  const user = typeof claims.sub === "string" && claims.sub !== "" && aud.includes("authenticated") &&
    typeof claims.session_id === "string";
  return user ? claims : null;
}
