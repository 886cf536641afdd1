// Local stand-in for the Supabase Realtime server (an Elixir service that cannot run here):
// Phoenix channels over /realtime/v1/websocket as realtime-js speaks them (vsn 2.0.0 array
// frames and 1.0.0 object frames): join with an access token, heartbeats, leave, token
// refresh, and broadcasts from the database (realtime.send) delivered in commit order.
// Private channels are authorised as Realtime does: the RLS policies on realtime.messages,
// checked with the caller's claims and realtime.topic() set to the channel's topic.
// Not served: presence, postgres_changes and broadcasts sent by clients (the product uses
// none of them); asking for them is answered with an error naming the feature.
import postgres from "postgres";
import type { ErrorCode } from "../packages/shared/src/errors.ts";
import { accessTokenClaims, type JwtClaims } from "../packages/shared/src/jwt.ts";
import { logError } from "../packages/shared/src/log.ts";
import { authKeys } from "./auth.ts";
import { DB_URL } from "./env.ts";

type Frame = { join_ref: string | null; ref: string | null; topic: string; event: string; payload: Record<string, unknown> };
type Channel = { topic: string; joinRef: string | null; private: boolean; claims: JwtClaims | null };
// `joining`: topics whose join is being checked (counted against the channel limit meanwhile).
type Client = { socket: WebSocket; vsn: string; token: string | null; channels: Map<string, Channel>; joining: Set<string> };

const sql = postgres(DB_URL, { max: 3, onnotice: () => {} });
const clients = new Set<Client>();
const PREFIX = "realtime:";
// Hosted Realtime's limits (supabase.com/docs/guides/realtime/limits, and the server's
// endpoint): 100 channels per connection, a join past it refused with the reason hosted
// sends; frames over the WebSocket's max_frame_size (8 000 000 bytes) close the socket with
// 1009 (message too big), as Cowboy does.
const MAX_CHANNELS_PER_CONNECTION = 100;
const MAX_FRAME_BYTES = 8_000_000;

/** Starts listening to the database; messages sent before this are not delivered (as on hosted). */
export async function startRealtime() {
  await sql.listen("realtime", (id) => queue.push(id) === 1 && void drain());
}

// Message ids in commit order; drained one batch at a time so the order is kept.
const queue: string[] = [];
let draining = false;
async function drain() {
  if (draining) return;
  draining = true;
  try {
    while (queue.length > 0) {
      const ids = queue.splice(0, 500);
      const rows = await sql<{ id: string; topic: string; event: string; payload: unknown; private: boolean }[]>`
        select id::text, topic, event, payload, private from realtime.messages where id = any(${ids}::bigint[])`;
      const byId = new Map(rows.map((r) => [r.id, r]));
      for (const id of ids) {
        const m = byId.get(id);
        if (m) deliver(m.topic, m.private, { type: "broadcast", event: m.event, payload: m.payload, meta: { id: m.id } });
      }
    }
  } catch (err) {
    logError("realtime delivery failed", err);
  } finally {
    draining = false;
    if (queue.length > 0) void drain();
  }
}

function deliver(topic: string, isPrivate: boolean, payload: Record<string, unknown>) {
  for (const client of clients) {
    const channel = client.channels.get(PREFIX + topic);
    if (!channel || channel.private !== isPrivate) continue;
    if (channel.claims?.exp && channel.claims.exp * 1000 < Date.now()) {
      closeChannel(client, channel, "Token has expired");
      continue;
    }
    push(client, { join_ref: channel.joinRef, ref: null, topic: channel.topic, event: "broadcast", payload });
  }
}

function push(client: Client, f: Frame) {
  if (client.socket.readyState !== WebSocket.OPEN) return;
  client.socket.send(JSON.stringify(client.vsn === "1.0.0" ? f : [f.join_ref, f.ref, f.topic, f.event, f.payload]));
}

function reply(client: Client, f: Frame, status: "ok" | "error", response: Record<string, unknown>) {
  push(client, { join_ref: f.join_ref, ref: f.ref, topic: f.topic, event: "phx_reply", payload: { status, response } });
}

function closeChannel(client: Client, channel: Channel, reason: string) {
  push(client, { join_ref: channel.joinRef, ref: null, topic: channel.topic, event: "system", payload: { status: "error", message: reason, extension: "system", channel: channel.topic.slice(PREFIX.length) } });
  push(client, { join_ref: channel.joinRef, ref: null, topic: channel.topic, event: "phx_close", payload: {} });
  client.channels.delete(channel.topic);
}

class Rollback {
  constructor(readonly allowed: boolean) {}
}

/** Realtime's read check: a probe message the caller must be able to select under RLS, with
 * realtime.topic() set to the channel's topic; rolled back either way. */
async function mayRead(claims: JwtClaims, topic: string): Promise<boolean> {
  const role = claims.role === "service_role" ? "service_role" : claims.role === "authenticated" ? "authenticated" : "anon";
  try {
    await sql.begin(async (tx) => {
      const [probe] = await tx<{ id: string }[]>`
        insert into realtime.messages (topic, extension, event, private) values (${topic}, 'broadcast', 'authorization_probe', true)
        returning id::text`;
      await tx`select set_config('role', ${role}, true), set_config('request.jwt.claims', ${JSON.stringify(claims)}, true),
                      set_config('realtime.topic', ${topic}, true)`;
      const rows = await tx`select 1 from realtime.messages where id = ${probe.id}::bigint`;
      throw new Rollback(rows.length === 1);
    });
  } catch (err) {
    if (err instanceof Rollback) return err.allowed;
    if ((err as { code?: string }).code === "42501") return false; // the role may not read the table at all
    throw err;
  }
  return false;
}

async function claimsOf(token: string | null): Promise<JwtClaims | null> {
  return token ? await accessTokenClaims(token, authKeys) : null;
}

async function join(client: Client, f: Frame) {
  const isNew = !client.channels.has(f.topic) && !client.joining.has(f.topic);
  const inUse = client.channels.size + [...client.joining].filter((t) => !client.channels.has(t)).length;
  if (isNew && inUse >= MAX_CHANNELS_PER_CONNECTION) {
    return reply(client, f, "error", { reason: "ChannelRateLimitReached: Too many channels" });
  }
  client.joining.add(f.topic);
  try {
    await checkAndJoin(client, f);
  } finally {
    client.joining.delete(f.topic);
  }
}

async function checkAndJoin(client: Client, f: Frame) {
  const config = (f.payload.config ?? {}) as { private?: boolean; presence?: { enabled?: boolean }; postgres_changes?: unknown[] };
  const unsupported = (config.postgres_changes?.length ?? 0) > 0 ? "postgres_changes" : config.presence?.enabled ? "presence" : null;
  if (unsupported) return reply(client, f, "error", { reason: `${unsupported} is not served by the local Realtime stand-in` });
  const token = typeof f.payload.access_token === "string" ? f.payload.access_token : client.token;
  const claims = await claimsOf(token);
  if (!claims) return reply(client, f, "error", { reason: "Invalid JWT: the access token is missing, malformed or expired" });
  const isPrivate = config.private === true;
  const topic = f.topic.slice(PREFIX.length);
  if (isPrivate && !(await mayRead(claims, topic))) {
    return reply(client, f, "error", { reason: `Unauthorized: You do not have permissions to read from this Channel topic: ${topic}` });
  }
  client.channels.set(f.topic, { topic: f.topic, joinRef: f.join_ref, private: isPrivate, claims });
  reply(client, f, "ok", { postgres_changes: [] });
}

/** A refreshed token: every private channel is authorised again, and closed if it may not read. */
async function refreshToken(client: Client, f: Frame) {
  const token = typeof f.payload.access_token === "string" ? f.payload.access_token : null;
  const claims = await claimsOf(token);
  const channel = client.channels.get(f.topic);
  if (!channel) return;
  if (!claims) return closeChannel(client, channel, "Invalid JWT: the refreshed access token is not valid");
  if (channel.private && !(await mayRead(claims, f.topic.slice(PREFIX.length)))) {
    return closeChannel(client, channel, "Unauthorized: the refreshed access token may not read this topic");
  }
  channel.claims = claims;
}

async function onFrame(client: Client, f: Frame) {
  if (f.topic === "phoenix" && f.event === "heartbeat") return reply(client, f, "ok", {});
  switch (f.event) {
    case "phx_join":
      return await join(client, f);
    case "phx_leave":
      client.channels.delete(f.topic);
      reply(client, f, "ok", {});
      return push(client, { join_ref: f.join_ref, ref: null, topic: f.topic, event: "phx_close", payload: {} });
    case "access_token":
      return await refreshToken(client, f);
    default:
      return reply(client, f, "error", { reason: `${f.event} from clients is not served by the local Realtime stand-in` });
  }
}

/** A frame's size in bytes (text frames are UTF-8: up to 3 bytes per UTF-16 unit). */
function frameBytes(data: unknown): number {
  if (typeof data !== "string") return data instanceof Blob ? data.size : (data as ArrayBuffer).byteLength;
  return data.length * 3 <= MAX_FRAME_BYTES ? data.length : new TextEncoder().encode(data).length;
}

function decode(data: unknown): Frame | null {
  if (typeof data !== "string") return null; // binary frames carry client broadcasts: not served
  const v = JSON.parse(data);
  if (Array.isArray(v)) return { join_ref: v[0], ref: v[1], topic: v[2], event: v[3], payload: v[4] ?? {} };
  return { ...v, payload: v.payload ?? {} };
}

/** GET /realtime/v1/websocket?apikey=...&vsn=...: the socket, for a valid project key or token;
 * `refuse` answers anything else in the gateway's envelope. */
export async function handleRealtime(req: Request, url: URL, refuse: (code: ErrorCode, message: string) => Response): Promise<Response> {
  if (req.headers.get("upgrade")?.toLowerCase() !== "websocket") return refuse("INVALID_REQUEST", "Realtime speaks WebSocket here");
  const apikey = url.searchParams.get("apikey") ?? req.headers.get("apikey");
  if (!(await claimsOf(apikey))) return refuse("UNAUTHORIZED", "Invalid API key");
  const { socket, response } = Deno.upgradeWebSocket(req);
  const client: Client = { socket, vsn: url.searchParams.get("vsn") ?? "1.0.0", token: apikey, channels: new Map(), joining: new Set() };
  socket.onopen = () => clients.add(client);
  socket.onclose = () => clients.delete(client);
  socket.onmessage = (e) => {
    if (frameBytes(e.data) > MAX_FRAME_BYTES) return socket.close(1009, "message too big");
    let frame: Frame | null = null;
    try {
      frame = decode(e.data);
    } catch {
      // not JSON: ignored, as Phoenix does with frames it cannot decode
    }
    if (frame) onFrame(client, frame).catch((err) => logError("realtime frame failed", err));
  };
  return response;
}

/** For tests and the chaos run: every socket dropped, as when the server restarts. */
export function dropConnections(): number {
  const n = clients.size;
  for (const c of clients) c.socket.close(1012, "service restart");
  return n;
}

export function connectionCount() {
  return clients.size;
}
