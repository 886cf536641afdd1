// Stand-in for GoTrue (Supabase Auth): the endpoints supabase-js uses for email/password
// sessions, over the same auth.users table, as strict as hosted Auth:
// - access tokens signed with an ES256 key published at /auth/v1/.well-known/jwks.json
//   (REELFORGE_AUTH_SIGNING_ALG=HS256 signs with the legacy JWT secret instead), carrying
//   session_id; /user refuses a token whose session has ended;
// - refresh tokens are opaque and rotate: each is used once; a revoked one used again after
//   `refresh_token_reuse_interval` revokes its whole session (a stolen token is worthless once
//   either party refreshes); sign-out revokes the session's (or all sessions') tokens;
// - sign-ups and sign-ins are limited per client address by `[auth.rate_limit]` in
//   supabase/config.toml (sign_in_sign_ups, token_refresh per 5 minutes).
import postgres from "postgres";
import { parse as parseToml } from "smol-toml";
import { exportJWK, generateKeyPair, importJWK, type JWK } from "jose";
import {
  accessTokenClaims,
  type JwtKeys,
  type SigningKey,
  signJwt,
  signJwtWithKey,
} from "../packages/shared/src/jwt.ts";
import { API_URL, DB_URL, JWT_SECRET, ROOT, STACK_DIR } from "./env.ts";

const sql = postgres(DB_URL, { max: 4, onnotice: () => {} });

type AuthConfig = {
  auth: {
    jwt_expiry?: number;
    refresh_token_reuse_interval?: number;
    rate_limit?: { sign_in_sign_ups?: number; token_refresh?: number };
  };
};
const authConfig = (parseToml(await Deno.readTextFile(`${ROOT}/supabase/config.toml`)) as AuthConfig).auth;
const ACCESS_TTL_S = authConfig.jwt_expiry ?? 3600;
const REUSE_INTERVAL_S = authConfig.refresh_token_reuse_interval ?? 10;
const RATE_WINDOW_MS = 5 * 60_000;
const RATE_LIMITS = {
  sign_in_sign_ups: authConfig.rate_limit?.sign_in_sign_ups ?? 30,
  token_refresh: authConfig.rate_limit?.token_refresh ?? 150,
};
// The test suite signs up hundreds of users from 127.0.0.1: that address is exempt unless
// this variable says otherwise (empty: nobody is exempt). Any other address, 127.0.0.2
// included, gets config.toml's limits.
const RATE_LIMIT_EXEMPT = new Set(
  (Deno.env.get("REELFORGE_AUTH_RATE_LIMIT_EXEMPT") ?? "127.0.0.1").split(",").map((s) => s.trim()).filter(Boolean),
);

// GoTrue migrates its own tables at start; so does this stand-in (same names and meaning).
await sql.unsafe(`
  create table if not exists auth.sessions (
    id uuid primary key default gen_random_uuid(),
    user_id uuid not null references auth.users (id) on delete cascade,
    created_at timestamptz not null default now()
  );
  create table if not exists auth.refresh_tokens (
    id bigserial primary key,
    token text not null unique,
    user_id uuid not null references auth.users (id) on delete cascade,
    session_id uuid not null references auth.sessions (id) on delete cascade,
    parent text,
    revoked boolean not null default false,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
  );
  create index if not exists refresh_tokens_session_idx on auth.refresh_tokens (session_id);
  revoke all on auth.sessions, auth.refresh_tokens from public, anon, authenticated;
`);

/** The key access tokens are signed with, kept in .stack so tokens survive a restart. */
async function loadSigningKey(): Promise<{ key: SigningKey; publicJwk: JWK } | null> {
  if ((Deno.env.get("REELFORGE_AUTH_SIGNING_ALG") ?? "ES256") === "HS256") return null;
  const file = `${STACK_DIR}/signing_keys.json`;
  let jwk: JWK;
  try {
    [jwk] = JSON.parse(await Deno.readTextFile(file));
  } catch {
    const { privateKey } = await generateKeyPair("ES256", { extractable: true });
    jwk = { ...(await exportJWK(privateKey)), kid: crypto.randomUUID(), alg: "ES256", use: "sig", key_ops: ["sign", "verify"] };
    await Deno.writeTextFile(file, JSON.stringify([jwk], null, 1), { mode: 0o600 });
  }
  const { d: _private, key_ops: _ops, ...publicJwk } = jwk;
  const privateKey = await importJWK({ ...jwk, key_ops: ["sign"] }, "ES256") as CryptoKey;
  return { key: { kid: jwk.kid!, privateKey }, publicJwk: { ...publicJwk, key_ops: ["verify"] } };
}

const signing = await loadSigningKey();
const jwks = { keys: signing ? [signing.publicJwk] : [] };

/** What the gateway and Storage verify tokens against: the secret and Auth's public keys. */
export const authKeys: JwtKeys = { secret: JWT_SECRET, jwks };

type UserRow = { id: string; email: string; created_at: Date };

function authError(status: number, error_code: string, msg: string) {
  return Response.json({ code: status, error_code, msg }, { status });
}

function userJson(u: UserRow) {
  return {
    id: u.id,
    aud: "authenticated",
    role: "authenticated",
    email: u.email,
    app_metadata: { provider: "email", providers: ["email"] },
    user_metadata: {},
    created_at: u.created_at,
  };
}

function newRefreshToken() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}

async function accessToken(u: UserRow, sessionId: string, now: number) {
  const claims = {
    iss: `${API_URL}/auth/v1`,
    sub: u.id,
    aud: "authenticated",
    exp: now + ACCESS_TTL_S,
    iat: now,
    email: u.email,
    phone: "",
    app_metadata: { provider: "email", providers: ["email"] },
    user_metadata: {},
    role: "authenticated",
    aal: "aal1",
    amr: [{ method: "password", timestamp: now }],
    session_id: sessionId,
    is_anonymous: false,
  };
  return signing ? await signJwtWithKey(claims, signing.key) : await signJwt(claims, JWT_SECRET);
}

async function sessionJson(u: UserRow, sessionId: string, refreshToken: string) {
  const now = Math.floor(Date.now() / 1000);
  return {
    access_token: await accessToken(u, sessionId, now),
    token_type: "bearer",
    expires_in: ACCESS_TTL_S,
    expires_at: now + ACCESS_TTL_S,
    refresh_token: refreshToken,
    user: userJson(u),
  };
}

async function newSession(u: UserRow) {
  const token = newRefreshToken();
  const sessionId = await sql.begin(async (tx) => {
    const [s] = await tx<{ id: string }[]>`insert into auth.sessions (user_id) values (${u.id}) returning id`;
    await tx`insert into auth.refresh_tokens (token, user_id, session_id) values (${token}, ${u.id}, ${s.id})`;
    return s.id;
  });
  return await sessionJson(u, sessionId, token);
}

type TokenRow = { user_id: string; session_id: string; revoked: boolean; age_s: number };

/** One refresh: rotate a live token; a revoked one is a replay unless it is a client's
 * concurrent retry within the reuse interval, which gets the session's current token. */
async function refresh(token: string): Promise<Response> {
  return await sql.begin(async (tx) => {
    const [t] = await tx<TokenRow[]>`
      select user_id, session_id, revoked, extract(epoch from now() - updated_at)::float8 as age_s
      from auth.refresh_tokens where token = ${token} for update`;
    if (!t) return authError(400, "refresh_token_not_found", "Invalid Refresh Token: Refresh Token Not Found");
    const [user] = await tx<UserRow[]>`select id, email, created_at from auth.users where id = ${t.user_id}`;
    if (t.revoked) {
      const [current] = t.age_s < REUSE_INTERVAL_S
        ? await tx<{ token: string }[]>`
            select token from auth.refresh_tokens where session_id = ${t.session_id} and not revoked
            order by id desc limit 1`
        : [];
      if (current && user) return Response.json(await sessionJson(user, t.session_id, current.token));
      await tx`delete from auth.sessions where id = ${t.session_id}`;
      return authError(400, "refresh_token_already_used", "Invalid Refresh Token: Already Used");
    }
    if (!user) return authError(400, "refresh_token_not_found", "Invalid Refresh Token: Refresh Token Not Found");
    const next = newRefreshToken();
    await tx`update auth.refresh_tokens set revoked = true, updated_at = now() where token = ${token}`;
    await tx`insert into auth.refresh_tokens (token, user_id, session_id, parent)
             values (${next}, ${t.user_id}, ${t.session_id}, ${token})`;
    return Response.json(await sessionJson(user, t.session_id, next));
  });
}

async function readJson(req: Request): Promise<Record<string, unknown>> {
  try {
    const body = await req.json();
    return body && typeof body === "object" ? body : {};
  } catch {
    return {};
  }
}

async function createUser(email: unknown, password: unknown): Promise<UserRow | Response> {
  if (typeof email !== "string" || !/^[^@\s]+@[^@\s]+$/.test(email)) {
    return authError(400, "validation_failed", "Unable to validate email address: invalid format");
  }
  if (typeof password !== "string" || password.length < 6) {
    return authError(422, "weak_password", "Password should be at least 6 characters.");
  }
  const [row] = await sql<UserRow[]>`
    insert into auth.users (email, encrypted_password)
    values (${email.toLowerCase()}, extensions.crypt(${password}, extensions.gen_salt('bf', 4)))
    on conflict (email) do nothing
    returning id, email, created_at`;
  return row ?? authError(422, "user_already_exists", "User already registered");
}

async function bearerClaims(req: Request) {
  const token = req.headers.get("authorization")?.replace(/^Bearer /, "") ?? "";
  return await accessTokenClaims(token, authKeys);
}

const requestLog = new Map<string, number[]>();

/** True when this client address is over the limit for this kind of request. */
function overRateLimit(kind: keyof typeof RATE_LIMITS, clientIp: string) {
  if (RATE_LIMIT_EXEMPT.has(clientIp)) return false;
  const key = `${kind} ${clientIp}`;
  const now = Date.now();
  const recent = (requestLog.get(key) ?? []).filter((t) => now - t < RATE_WINDOW_MS);
  const over = recent.length >= RATE_LIMITS[kind];
  if (!over) recent.push(now);
  requestLog.set(key, recent);
  return over;
}

const rateLimited = () => authError(429, "over_request_rate_limit", "Request rate limit reached");

export async function handleAuth(req: Request, url: URL, clientIp: string): Promise<Response> {
  const path = url.pathname.slice("/auth/v1".length);
  if (req.method === "GET" && path === "/.well-known/jwks.json") {
    return Response.json(jwks, { headers: { "cache-control": "public, max-age=600" } });
  }
  if (req.method === "POST" && path === "/signup") {
    if (overRateLimit("sign_in_sign_ups", clientIp)) return rateLimited();
    const body = await readJson(req);
    const user = await createUser(body.email, body.password);
    return user instanceof Response ? user : Response.json(await newSession(user));
  }
  if (req.method === "POST" && path === "/admin/users") {
    if ((await bearerClaims(req))?.role !== "service_role") {
      return authError(403, "not_admin", "User not allowed");
    }
    const body = await readJson(req);
    const user = await createUser(body.email, body.password);
    return user instanceof Response ? user : Response.json(userJson(user));
  }
  if (req.method === "POST" && path === "/token") {
    const grant = url.searchParams.get("grant_type");
    if (grant === "password") {
      if (overRateLimit("sign_in_sign_ups", clientIp)) return rateLimited();
      const body = await readJson(req);
      const [user] = await sql<UserRow[]>`
        select id, email, created_at from auth.users
        where email = ${String(body.email ?? "").toLowerCase()}
          and encrypted_password = extensions.crypt(${String(body.password ?? "")}, encrypted_password)`;
      return user ? Response.json(await newSession(user)) : authError(400, "invalid_credentials", "Invalid login credentials");
    }
    if (grant === "refresh_token") {
      if (overRateLimit("token_refresh", clientIp)) return rateLimited();
      const body = await readJson(req);
      return await refresh(String(body.refresh_token ?? ""));
    }
    return authError(400, "validation_failed", "unsupported_grant_type");
  }
  if (path === "/user" || path === "/logout") {
    const claims = await bearerClaims(req);
    if (claims?.role !== "authenticated") return authError(401, "bad_jwt", "invalid JWT");
    const [user] = await sql<UserRow[]>`
      select u.id, u.email, u.created_at from auth.sessions s join auth.users u on u.id = s.user_id
      where s.id = ${claims.session_id as string} and u.id = ${claims.sub!}`;
    if (!user) return authError(403, "session_not_found", "Session from session_id claim in JWT does not exist");
    if (req.method === "GET" && path === "/user") return Response.json(userJson(user));
    if (req.method === "POST" && path === "/logout") {
      const scope = url.searchParams.get("scope") ?? "global";
      if (scope === "local") await sql`delete from auth.sessions where id = ${claims.session_id as string}`;
      else if (scope === "others") await sql`delete from auth.sessions where user_id = ${user.id} and id <> ${claims.session_id as string}`;
      else await sql`delete from auth.sessions where user_id = ${user.id}`;
      return new Response(null, { status: 204 });
    }
  }
  return authError(404, "not_found", "Not found");
}
