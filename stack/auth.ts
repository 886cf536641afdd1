// Stand-in for GoTrue (Supabase Auth): the endpoints supabase-js uses for email/password
// sessions, over the same auth.users table, as strict as hosted Auth:
// - access tokens signed with an ES256 key published at /auth/v1/.well-known/jwks.json
//   (REELFORGE_AUTH_SIGNING_ALG=HS256 signs with the legacy JWT secret instead), carrying
//   session_id; /user refuses a token whose session has ended;
// - refresh tokens are opaque and rotate: each is used once; a revoked one used again after
//   `refresh_token_reuse_interval` revokes its whole session (a stolen token is worthless once
//   either party refreshes); sign-out revokes the session's (or all sessions') tokens;
// - sign-ups and sign-ins are limited per client address by `[auth.rate_limit]` in
//   supabase/config.toml (sign_in_sign_ups, token_refresh per 5 minutes); confirmation mails
//   by `email_sent` per hour for the whole project, as hosted Auth's built-in mailer;
// - with `[auth.email] enable_confirmations`, sign-up answers the user and no session and
//   mails a confirmation link (caught by stack/mail.ts, as Mailpit does); GET /verify confirms
//   and redirects with the session in the fragment; password sign-in waits for confirmation.
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
import { sendMail } from "./mail.ts";

const sql = postgres(DB_URL, { max: 4, onnotice: () => {} });

type AuthConfig = {
  auth: {
    site_url?: string;
    additional_redirect_urls?: string[];
    email?: { enable_confirmations?: boolean; otp_expiry?: number };
    jwt_expiry?: number;
    refresh_token_reuse_interval?: number;
    rate_limit?: { sign_in_sign_ups?: number; token_refresh?: number; email_sent?: number };
  };
};
const authConfig = (parseToml(await Deno.readTextFile(`${ROOT}/supabase/config.toml`)) as AuthConfig).auth;
const ACCESS_TTL_S = authConfig.jwt_expiry ?? 3600;
const REUSE_INTERVAL_S = authConfig.refresh_token_reuse_interval ?? 10;
const CONFIRMATIONS = authConfig.email?.enable_confirmations ?? false;
const OTP_EXPIRY_S = authConfig.email?.otp_expiry ?? 3600;
const SITE_URL = authConfig.site_url ?? "http://127.0.0.1:3000";
/** Each limit: how many in its window, counted per client address or for the whole project. */
const RATE_LIMITS = {
  sign_in_sign_ups: { limit: authConfig.rate_limit?.sign_in_sign_ups ?? 30, windowMs: 5 * 60_000, perAddress: true },
  token_refresh: { limit: authConfig.rate_limit?.token_refresh ?? 150, windowMs: 5 * 60_000, perAddress: true },
  email_sent: { limit: authConfig.rate_limit?.email_sent ?? 2, windowMs: 60 * 60_000, perAddress: false },
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
  alter table auth.users add column if not exists confirmation_token text;
  alter table auth.users add column if not exists confirmation_sent_at timestamptz;
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

type UserRow = { id: string; email: string; created_at: Date; email_confirmed_at: Date | null; confirmation_sent_at: Date | null };
const USER_COLUMNS = "id, email, created_at, email_confirmed_at, confirmation_sent_at";

function authError(status: number, error_code: string, msg: string) {
  return Response.json({ code: status, error_code, msg }, { status });
}

function userJson(u: UserRow) {
  return {
    id: u.id,
    aud: "authenticated",
    role: "authenticated",
    email: u.email,
    email_confirmed_at: u.email_confirmed_at ?? undefined,
    confirmation_sent_at: u.confirmation_sent_at ?? undefined,
    app_metadata: { provider: "email", providers: ["email"] },
    user_metadata: {},
    identities: [{ identity_id: u.id, id: u.id, user_id: u.id, provider: "email", email: u.email, identity_data: { email: u.email, sub: u.id } }],
    created_at: u.created_at,
  };
}

/** What sign-up answers for an address that is already confirmed, as GoTrue does with
 * confirmations on: a user that looks new (no identities), so nobody learns who has an account. */
function obfuscatedUserJson(email: string) {
  const now = new Date();
  return { ...userJson({ id: crypto.randomUUID(), email, created_at: now, email_confirmed_at: null, confirmation_sent_at: now }), identities: [] };
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
    const [user] = await tx<UserRow[]>`select ${tx.unsafe(USER_COLUMNS)} from auth.users where id = ${t.user_id}`;
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

async function createUser(email: unknown, password: unknown, confirmed: boolean): Promise<UserRow | Response> {
  if (typeof email !== "string" || !/^[^@\s]+@[^@\s]+$/.test(email)) {
    return authError(400, "validation_failed", "Unable to validate email address: invalid format");
  }
  if (typeof password !== "string" || password.length < 6) {
    return authError(422, "weak_password", "Password should be at least 6 characters.");
  }
  const [row] = await sql<UserRow[]>`
    insert into auth.users (email, encrypted_password, email_confirmed_at)
    values (${email.toLowerCase()}, extensions.crypt(${password}, extensions.gen_salt('bf', 4)), ${confirmed ? new Date() : null})
    on conflict (email) do nothing
    returning ${sql.unsafe(USER_COLUMNS)}`;
  return row ?? authError(422, "user_already_exists", "User already registered");
}

async function bearerClaims(req: Request) {
  const token = req.headers.get("authorization")?.replace(/^Bearer /, "") ?? "";
  return await accessTokenClaims(token, authKeys);
}

const sha256 = async (text: string) =>
  [...new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)))].map((b) => b.toString(16).padStart(2, "0")).join("");

/** Where a confirmation link leads: `redirect_to` when the site allows it (its host, or one of
 * additional_redirect_urls), else the site URL, as GoTrue decides. */
function redirectTarget(requested: string | null): string {
  if (!requested) return SITE_URL;
  try {
    const url = new URL(requested);
    const allowed = url.hostname === new URL(SITE_URL).hostname ||
      (authConfig.additional_redirect_urls ?? []).some((a) => requested.startsWith(a));
    return allowed ? url.href : SITE_URL;
  } catch {
    return SITE_URL;
  }
}

/** Mails the address a link that confirms it (a new token each time; only its hash is kept). */
async function sendConfirmation(user: UserRow, redirectTo: string) {
  const token = newRefreshToken() + newRefreshToken();
  await sql`update auth.users set confirmation_token = ${await sha256(token)}, confirmation_sent_at = now() where id = ${user.id}`;
  const link = `${API_URL}/auth/v1/verify?${new URLSearchParams({ token, type: "signup", redirect_to: redirectTo })}`;
  sendMail(user.email, "Confirm Your Signup", `Confirm your signup\n\nFollow this link to confirm your user:\n\n${link}\n`,
    `<h2>Confirm your signup</h2>\n<p>Follow this link to confirm your user:</p>\n<p><a href="${link.replaceAll("&", "&amp;")}">Confirm your mail</a></p>`);
}

/** Confirms the address a token was mailed to (once, within otp_expiry): the user, or none. */
async function confirmEmail(token: string): Promise<UserRow | undefined> {
  const [user] = await sql<UserRow[]>`
    update auth.users set email_confirmed_at = now(), confirmation_token = null, updated_at = now()
    where confirmation_token = ${await sha256(token)} and email_confirmed_at is null
      and confirmation_sent_at > now() - make_interval(secs => ${OTP_EXPIRY_S})
    returning ${sql.unsafe(USER_COLUMNS)}`;
  return user;
}

async function signUp(req: Request, url: URL, clientIp: string): Promise<Response> {
  // A confirmation mail goes out with every sign-up: refused before anything is made.
  if (CONFIRMATIONS && overRateLimit("email_sent", clientIp)) return authError(429, "over_email_send_rate_limit", "email rate limit exceeded");
  const body = await readJson(req);
  const user = await createUser(body.email, body.password, !CONFIRMATIONS);
  if (!CONFIRMATIONS) return user instanceof Response ? user : Response.json(await newSession(user));
  if (user instanceof Response) {
    const [existing] = typeof body.email === "string"
      ? await sql<UserRow[]>`select ${sql.unsafe(USER_COLUMNS)} from auth.users where email = ${body.email.toLowerCase()}`
      : [];
    if (!existing) return user;
    if (existing.email_confirmed_at) return Response.json(obfuscatedUserJson(existing.email));
    await sendConfirmation(existing, redirectTarget(url.searchParams.get("redirect_to")));
    return Response.json(userJson(existing));
  }
  await sendConfirmation(user, redirectTarget(url.searchParams.get("redirect_to")));
  const [sent] = await sql<UserRow[]>`select ${sql.unsafe(USER_COLUMNS)} from auth.users where id = ${user.id}`;
  return Response.json(userJson(sent));
}

/** The confirmation link: confirms, then redirects with the session in the fragment (or the
 * error, as GoTrue words it). */
async function verifyLink(url: URL): Promise<Response> {
  const target = redirectTarget(url.searchParams.get("redirect_to"));
  const type = url.searchParams.get("type");
  const user = type === "signup" || type === "email" ? await confirmEmail(url.searchParams.get("token") ?? "") : undefined;
  if (!user) {
    const error = new URLSearchParams({ error: "access_denied", error_code: "otp_expired", error_description: "Email link is invalid or has expired" });
    return new Response(null, { status: 303, headers: { location: `${target}#${error}` } });
  }
  const session = await newSession(user);
  const fragment = new URLSearchParams({
    access_token: session.access_token, expires_at: String(session.expires_at), expires_in: String(session.expires_in),
    refresh_token: session.refresh_token, token_type: "bearer", type: "signup",
  });
  return new Response(null, { status: 303, headers: { location: `${target}#${fragment}` } });
}

const requestLog = new Map<string, number[]>();

/** True when this client address is over the limit for this kind of request. */
function overRateLimit(kind: keyof typeof RATE_LIMITS, clientIp: string) {
  if (RATE_LIMIT_EXEMPT.has(clientIp)) return false;
  const { limit, windowMs, perAddress } = RATE_LIMITS[kind];
  const key = perAddress ? `${kind} ${clientIp}` : kind;
  const now = Date.now();
  const recent = (requestLog.get(key) ?? []).filter((t) => now - t < windowMs);
  const over = recent.length >= limit;
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
    return await signUp(req, url, clientIp);
  }
  if (req.method === "GET" && path === "/verify") return await verifyLink(url);
  if (req.method === "POST" && path === "/verify") {
    // supabase-js verifyOtp({ token_hash, type }): the link's token, answered with a session.
    const body = await readJson(req);
    const user = body.type === "signup" || body.type === "email" ? await confirmEmail(String(body.token_hash ?? "")) : undefined;
    return user ? Response.json(await newSession(user)) : authError(403, "otp_expired", "Email link is invalid or has expired");
  }
  if (req.method === "POST" && path === "/admin/users") {
    if ((await bearerClaims(req))?.role !== "service_role") {
      return authError(403, "not_admin", "User not allowed");
    }
    const body = await readJson(req);
    // As GoTrue's admin API: confirmed only when asked (email_confirm), and no mail is sent.
    const user = await createUser(body.email, body.password, body.email_confirm === true);
    return user instanceof Response ? user : Response.json(userJson(user));
  }
  if (req.method === "POST" && path === "/token") {
    const grant = url.searchParams.get("grant_type");
    if (grant === "password") {
      if (overRateLimit("sign_in_sign_ups", clientIp)) return rateLimited();
      const body = await readJson(req);
      const [user] = await sql<UserRow[]>`
        select ${sql.unsafe(USER_COLUMNS)} from auth.users
        where email = ${String(body.email ?? "").toLowerCase()}
          and encrypted_password = extensions.crypt(${String(body.password ?? "")}, encrypted_password)`;
      if (!user) return authError(400, "invalid_credentials", "Invalid login credentials");
      if (!user.email_confirmed_at) return authError(400, "email_not_confirmed", "Email not confirmed");
      return Response.json(await newSession(user));
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
      select u.id, u.email, u.created_at, u.email_confirmed_at, u.confirmation_sent_at from auth.sessions s join auth.users u on u.id = s.user_id
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
