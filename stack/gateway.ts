// Local stand-in for the Supabase API gateway on one port: every function under
// /functions/v1/<name> (JWT checked per config.toml, like the edge gateway), plus small
// stand-ins for the Auth, Storage and Realtime endpoints that supabase-js and the functions use.
import { parse as parseToml } from "smol-toml";
import { AppError, type ErrorCode, errorEnvelope } from "../packages/shared/src/errors.ts";
import { accessTokenClaims } from "../packages/shared/src/jwt.ts";
import { logError } from "../packages/shared/src/log.ts";
import { API_PORT, functionsEnv, MAIL_PORT, ROOT, SCALAR_PATH } from "./env.ts";
import { authKeys, handleAuth } from "./auth.ts";
import { handleMail } from "./mail.ts";
import { handleStorage } from "./storage.ts";
import { connectionCount, dropConnections, handleRealtime, startRealtime } from "./realtime.ts";

type Handler = (req: Request) => Response | Promise<Response>;

for (const [k, v] of Object.entries(await functionsEnv())) Deno.env.set(k, v);

// Stand-in for the edge runtime's background tasks: work after the response is sent.
const background = new Set<Promise<unknown>>();
(globalThis as Record<string, unknown>).EdgeRuntime = {
  waitUntil(p: Promise<unknown>) {
    const tracked = p.catch((err) => logError("background task failed", err))
      .finally(() => background.delete(tracked));
    background.add(tracked);
  },
};

async function loadFunctions(): Promise<Map<string, Handler>> {
  const handlers = new Map<string, Handler>();
  const realServe = Deno.serve;
  for await (const entry of Deno.readDir(`${ROOT}/supabase/functions`)) {
    if (!entry.isDirectory || entry.name.startsWith("_")) continue;
    let registered: Handler | undefined;
    // Each index.ts calls Deno.serve(app.fetch); the edge runtime gives each function its own
    // worker, here they share one process and we capture the handler instead of listening.
    (Deno as { serve: unknown }).serve = (arg: unknown, maybe?: unknown) => {
      registered = (typeof arg === "function" ? arg : maybe ?? (arg as { handler: Handler }).handler) as Handler;
      return { finished: Promise.resolve(), shutdown: async () => {}, ref() {}, unref() {} };
    };
    await import(`${ROOT}/supabase/functions/${entry.name}/index.ts`);
    if (registered) handlers.set(entry.name, registered);
  }
  (Deno as { serve: unknown }).serve = realServe;
  return handlers;
}

async function verifyJwtSettings(): Promise<Map<string, boolean>> {
  const config = parseToml(await Deno.readTextFile(`${ROOT}/supabase/config.toml`)) as {
    functions?: Record<string, { verify_jwt?: boolean }>;
  };
  return new Map(Object.entries(config.functions ?? {}).map(([name, c]) => [name, c.verify_jwt ?? true]));
}

const handlers = await loadFunctions();
await startRealtime();
const verifySettings = await verifyJwtSettings();

const CORS = {
  "Access-Control-Allow-Origin": "*",
  "Access-Control-Allow-Headers": "authorization, x-client-info, apikey, content-type, idempotency-key, if-none-match, x-upsert",
  "Access-Control-Allow-Methods": "GET, POST, PUT, PATCH, DELETE, OPTIONS",
};

/** The gateway's own refusals speak the functions' error envelope, so a client handles one
 * shape, and carry CORS headers so a browser may read them. */
function gatewayError(code: ErrorCode, message: string) {
  const err = new AppError(code, message);
  return Response.json(errorEnvelope(err, crypto.randomUUID()), { status: err.status, headers: CORS });
}

const WEB_TYPES: Record<string, string> = { html: "text/html; charset=utf-8", js: "text/javascript; charset=utf-8", css: "text/css; charset=utf-8", map: "application/json" };

/** The web app's static files (apps/web/dist, built by `stack start`) and its config.json,
 * as a static host would serve them. */
async function serveWebApp(url: URL): Promise<Response> {
  if (url.pathname === "/app") return Response.redirect(`${url.origin}/app/`, 301);
  const name = url.pathname.slice("/app/".length) || "index.html";
  if (name === "config.json") return Response.json({ supabaseUrl: Deno.env.get("SUPABASE_URL"), anonKey: Deno.env.get("SUPABASE_ANON_KEY") });
  if (!/^[\w.-]+$/.test(name)) return new Response("Not found", { status: 404 });
  try {
    const file = await Deno.open(`${ROOT}/apps/web/dist/${name}`);
    return new Response(file.readable, { headers: { "content-type": WEB_TYPES[name.split(".").pop()!] ?? "application/octet-stream", "cache-control": "no-cache" } });
  } catch {
    return new Response("Not found", { status: 404 });
  }
}

async function serveFunction(req: Request, url: URL): Promise<Response> {
  const rest = url.pathname.slice("/functions/v1/".length);
  const name = rest.split("/")[0];
  const handler = handlers.get(name);
  if (!handler) return gatewayError("NOT_FOUND", "Requested function was not found");
  // Preflights carry no token: like the hosted gateway, they reach the function, which answers CORS.
  if (req.method !== "OPTIONS" && (verifySettings.get(name) ?? true)) {
    const auth = req.headers.get("authorization");
    if (!auth?.startsWith("Bearer ")) return gatewayError("UNAUTHORIZED", "Missing authorization header");
    // Like the hosted gateway: only the anon/service keys and users' access tokens pass.
    if (!(await accessTokenClaims(auth.slice(7), authKeys))) return gatewayError("UNAUTHORIZED", "Invalid JWT");
  }
  // Functions see /<name>/..., as on the hosted edge runtime.
  const inner = new Request(new URL(`/${rest}${url.search}`, url.origin), req);
  try {
    return await handler(inner);
  } catch (err) {
    logError(`function ${name} threw`, err);
    return gatewayError("INTERNAL_ERROR", "Function crashed");
  }
}

Deno.serve({ port: API_PORT, hostname: "127.0.0.1", onListen() {} }, async (req, info) => {
  const url = new URL(req.url);
  if (url.pathname.startsWith("/functions/v1/")) return await serveFunction(req, url);
  if (req.method === "OPTIONS") return new Response(null, { headers: CORS });
  if (url.pathname === "/_stack/health") {
    return Response.json({ functions: [...handlers.keys()], background: background.size, realtime: connectionCount() });
  }
  if (url.pathname === "/app" || url.pathname.startsWith("/app/")) return await serveWebApp(url);
  if (url.pathname === SCALAR_PATH) {
    const file = await Deno.open(`${ROOT}/node_modules/@scalar/api-reference/dist/browser/standalone.js`);
    return new Response(file.readable, { headers: { "content-type": "text/javascript; charset=utf-8", "cache-control": "public, max-age=86400" } });
  }
  if (url.pathname === "/_stack/realtime/drop" && req.method === "POST") return Response.json({ dropped: dropConnections() });
  if (url.pathname === "/realtime/v1/websocket") return await handleRealtime(req, url, gatewayError);
  if (url.pathname.startsWith("/auth/v1/")) return await handleAuth(req, url, (info.remoteAddr as Deno.NetAddr).hostname);
  if (url.pathname.startsWith("/storage/v1/")) return await handleStorage(req, url);
  return gatewayError("NOT_FOUND", "Not found");
});

// Auth's mails, caught (Mailpit's API on its own port, as `supabase start` serves it).
Deno.serve({ port: MAIL_PORT, hostname: "127.0.0.1", onListen() {} }, handleMail);
