// Stand-in for GoTrue (Supabase Auth): the endpoints supabase-js uses for email/password
// sessions, over the same auth.users table, issuing HS256 JWTs with the local secret.
import postgres from "postgres";
import { signJwt, verifyJwt } from "../packages/shared/src/jwt.ts";
import { DB_URL, JWT_SECRET } from "./env.ts";

const sql = postgres(DB_URL, { max: 4, onnotice: () => {} });
const ACCESS_TTL_S = 3600;

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

async function session(u: UserRow) {
  const now = Math.floor(Date.now() / 1000);
  const claims = { sub: u.id, aud: "authenticated", role: "authenticated", email: u.email, iat: now };
  return {
    access_token: await signJwt({ ...claims, exp: now + ACCESS_TTL_S }, JWT_SECRET),
    token_type: "bearer",
    expires_in: ACCESS_TTL_S,
    expires_at: now + ACCESS_TTL_S,
    refresh_token: await signJwt({ sub: u.id, typ: "refresh", iat: now, exp: now + 30 * 86400 }, JWT_SECRET),
    user: userJson(u),
  };
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
  return await verifyJwt(token, JWT_SECRET);
}

export async function handleAuth(req: Request, url: URL): Promise<Response> {
  const path = url.pathname.slice("/auth/v1".length);
  if (req.method === "POST" && path === "/signup") {
    const body = await readJson(req);
    const user = await createUser(body.email, body.password);
    return user instanceof Response ? user : Response.json(await session(user));
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
    const body = await readJson(req);
    const grant = url.searchParams.get("grant_type");
    if (grant === "password") {
      const [user] = await sql<UserRow[]>`
        select id, email, created_at from auth.users
        where email = ${String(body.email ?? "").toLowerCase()}
          and encrypted_password = extensions.crypt(${String(body.password ?? "")}, encrypted_password)`;
      return user
        ? Response.json(await session(user))
        : authError(400, "invalid_credentials", "Invalid login credentials");
    }
    if (grant === "refresh_token") {
      const claims = await verifyJwt(String(body.refresh_token ?? ""), JWT_SECRET);
      const [user] = claims?.typ === "refresh"
        ? await sql<UserRow[]>`select id, email, created_at from auth.users where id = ${claims.sub!}`
        : [];
      return user
        ? Response.json(await session(user))
        : authError(400, "refresh_token_not_found", "Invalid Refresh Token: Refresh Token Not Found");
    }
    return authError(400, "validation_failed", "unsupported_grant_type");
  }
  if (req.method === "GET" && path === "/user") {
    const claims = await bearerClaims(req);
    const [user] = claims?.sub
      ? await sql<UserRow[]>`select id, email, created_at from auth.users where id = ${claims.sub}`
      : [];
    return user ? Response.json(userJson(user)) : authError(401, "bad_jwt", "invalid JWT");
  }
  if (req.method === "POST" && path === "/logout") return new Response(null, { status: 204 });
  return authError(404, "not_found", "Not found");
}
