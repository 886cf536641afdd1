// The local stand-ins are as strict as hosted Supabase: Storage's bucket rules and policies,
// the gateway's verify_jwt (access tokens only), Auth's refresh-token rotation, sign-out,
// sign-up rate limit and published keys. Driven through the real supabase-js client.
import { createClient } from "@supabase/supabase-js";
import { readFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from "jose";
import { parse as parseToml } from "smol-toml";
import { describe, expect, it } from "vitest";
import ws from "ws";
import { signJwt } from "../packages/shared/src/jwt";
import { call, confirmByMail, env, makeSelfie, newUser, ROOT, sql, supabaseClient } from "./helpers";

const MB = 1024 * 1024;
const config = parseToml(readFileSync(`${ROOT}supabase/config.toml`, "utf8")) as any;

async function signIn() {
  const email = `s-${crypto.randomUUID()}@test.local`;
  const client = supabaseClient();
  const { error } = await client.auth.signUp({ email, password: "correct-horse" });
  if (error) throw error;
  await confirmByMail(env.MAILPIT_URL, email);
  const { data, error: signInError } = await client.auth.signInWithPassword({ email, password: "correct-horse" });
  if (signInError || !data.session) throw signInError ?? new Error("no session");
  return { client, session: data.session, email };
}

/** Streams `total` bytes to the stand-in with no length announced; how many went out before
 * the answer came back. */
function streamUpload(path: string, token: string, type: string, total: number) {
  return new Promise<{ status: number; body: string; sent: number }>((resolve, reject) => {
    let sent = 0;
    const chunk = Buffer.alloc(256 * 1024, 0xab);
    chunk.set([0xff, 0xd8, 0xff], 0);
    const req = httpRequest(`${env.API_URL}/storage/v1/object/${path}`, {
      method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": type },
    }, (res) => {
      let body = "";
      res.on("data", (d) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode!, body, sent }));
    });
    req.on("error", reject);
    const pump = () => {
      while (sent < total) {
        sent += chunk.length;
        if (!req.write(chunk)) return void req.once("drain", pump);
      }
      req.end();
    };
    pump();
  });
}

describe("Storage stand-in", () => {
  it("applies the selfies bucket's MIME types and 10 MB limit", async () => {
    const user = await newUser(0);
    const selfies = supabaseClient(user.token).storage.from("selfies");
    const exe = await selfies.upload(`${user.id}/tool.exe`, new Uint8Array(40 * MB), { contentType: "application/x-msdownload" });
    expect(exe.error).toMatchObject({ statusCode: "415", message: "mime type application/x-msdownload is not supported" });
    const big = await selfies.upload(`${user.id}/big.jpg`, new Uint8Array(11 * MB), { contentType: "image/jpeg" });
    expect(big.error).toMatchObject({ statusCode: "413" });
    const ok = await selfies.upload(`${user.id}/me.jpg`, makeSelfie(), { contentType: "image/jpeg" });
    expect(ok.error).toBeNull();
    const listed = await selfies.download(`${user.id}/me.jpg`);
    expect(listed.data?.type).toBe("image/jpeg");
  });

  it("accepts what storage-js sends for a File, a Blob, an ArrayBuffer and a stream, as hosted Storage does", async () => {
    const user = await newUser(0);
    const selfies = supabaseClient(user.token).storage.from("selfies");
    const selfie = makeSelfie();
    const bodies: [string, unknown][] = [
      ["file", new File([selfie], "me.jpg", { type: "image/jpeg" })],
      ["blob", new Blob([selfie], { type: "image/jpeg" })],
      ["arraybuffer", selfie.buffer.slice(selfie.byteOffset, selfie.byteOffset + selfie.byteLength)],
      ["stream", new Blob([selfie]).stream()],
    ];
    for (const [kind, body] of bodies) {
      const { error } = await selfies.upload(`${user.id}/${kind}.jpg`, body as Blob, { contentType: "image/jpeg" });
      expect(error, kind).toBeNull();
      const { data } = await selfies.download(`${user.id}/${kind}.jpg`);
      expect(data?.type, kind).toBe("image/jpeg");
      expect(Buffer.from(await data!.arrayBuffer()).equals(Buffer.from(selfie)), kind).toBe(true);
    }
    // A Blob is sent as a form: its own type is checked against the bucket like a header is.
    const text = await selfies.upload(`${user.id}/x.jpg`, new Blob(["hello"], { type: "text/plain" }));
    expect(text.error).toMatchObject({ statusCode: "415" });
    const big = await selfies.upload(`${user.id}/big.jpg`, new Blob([new Uint8Array(11 * MB)], { type: "image/jpeg" }));
    expect(big.error).toMatchObject({ statusCode: "413" });
  });

  it("counts a streamed upload's size as it arrives and keeps nothing of a refused one", async () => {
    const user = await newUser(0);
    const refused = await streamUpload(`selfies/${user.id}/stream.jpg`, user.token, "image/jpeg", 300 * MB);
    expect(refused.status).toBe(413);
    expect(refused.sent).toBeLessThan(100 * MB);
    const service = await streamUpload(`outputs/${user.id}/huge.mp4`, env.SERVICE_ROLE_KEY, "video/mp4", 300 * MB);
    expect(service.status).toBe(413); // [storage] file_size_limit = 50MiB
    const { data } = await supabaseClient(env.SERVICE_ROLE_KEY).storage.from("selfies").list(user.id);
    expect(data).toEqual([]);
  });

  it("lets users write only their own selfies folder, never outputs, and read only their own selfies", async () => {
    const alice = await newUser(0);
    const bob = await newUser(0);
    const asAlice = supabaseClient(alice.token).storage;
    const own = await asAlice.from("outputs").upload(`${alice.id}/g/video.mp4`, new Uint8Array(100), { contentType: "video/mp4" });
    expect(own.error).toMatchObject({ statusCode: "403" });
    const other = await asAlice.from("selfies").upload(`${bob.id}/me.jpg`, makeSelfie(), { contentType: "image/jpeg" });
    expect(other.error).toMatchObject({ statusCode: "403" });
    const service = supabaseClient(env.SERVICE_ROLE_KEY).storage;
    expect((await service.from("selfies").upload(`${bob.id}/me.jpg`, makeSelfie(), { contentType: "image/jpeg" })).error).toBeNull();
    expect((await service.from("outputs").upload(`${alice.id}/g/video.mp4`, new Uint8Array(100), { contentType: "video/mp4" })).error).toBeNull();
    expect((await asAlice.from("selfies").download(`${bob.id}/me.jpg`)).data).toBeNull();
    expect((await asAlice.from("outputs").download(`${alice.id}/g/video.mp4`)).data).toBeNull();
    expect((await asAlice.from("selfies").createSignedUrl(`${bob.id}/me.jpg`, 60)).data).toBeNull();
    expect((await supabaseClient().storage.from("selfies").upload(`${alice.id}/anon.jpg`, makeSelfie(), { contentType: "image/jpeg" })).error)
      .toMatchObject({ statusCode: "403" });
  });
});

describe("the gateway's verify_jwt", () => {
  it("accepts access tokens only: refresh tokens and Storage signing tokens are refused", async () => {
    const user = await newUser(0);
    const { session } = await signIn();
    const service = supabaseClient(env.SERVICE_ROLE_KEY).storage.from("selfies");
    await service.upload(`${user.id}/me.jpg`, makeSelfie(), { contentType: "image/jpeg" });
    const { data: signed } = await service.createSignedUrl(`${user.id}/me.jpg`, 600);
    const signingToken = new URL(signed!.signedUrl).searchParams.get("token")!;
    // A token signed with the project secret but not issued as an access token.
    const notAnAccessToken = await signJwt({ sub: user.id, role: "authenticated", exp: Math.floor(Date.now() / 1000) + 600 }, env.JWT_SECRET);
    for (const token of [session.refresh_token, signingToken, notAnAccessToken]) {
      // The gateway (verify_jwt = true), and a public function checking the token itself.
      expect(await call(token, "POST", "generate-script", {})).toMatchObject({ status: 401, body: { error: { code: "UNAUTHORIZED", message: "Invalid JWT" } } });
      expect(await call(token, "POST", "quote", { duration: 5 })).toMatchObject({ status: 401, body: { error: { code: "UNAUTHORIZED" } } });
    }
    expect(await call(session.access_token, "POST", "quote", { duration: 5 })).toMatchObject({ status: 200 });
    expect(await call(env.ANON_KEY, "POST", "quote", { duration: 5 })).toMatchObject({ status: 401, body: { error: { code: "UNAUTHORIZED" } } });
  });
});

describe("Auth stand-in", () => {
  it("signs access tokens with an ES256 key published at /.well-known/jwks.json; functions verify both it and the legacy secret", async () => {
    const { session } = await signIn();
    const header = decodeProtectedHeader(session.access_token);
    expect(header).toMatchObject({ alg: "ES256", kid: expect.any(String) });
    const jwks = createRemoteJWKSet(new URL(`${env.API_URL}/auth/v1/.well-known/jwks.json`));
    const { payload } = await jwtVerify(session.access_token, jwks);
    expect(payload).toMatchObject({ role: "authenticated", aud: "authenticated", sub: session.user.id, session_id: expect.any(String) });
    // A legacy HS256 access token (projects that have not moved to asymmetric keys).
    const legacy = await signJwt({ ...payload, exp: Math.floor(Date.now() / 1000) + 600 }, env.JWT_SECRET);
    expect(await call(legacy, "POST", "quote", { duration: 5 })).toMatchObject({ status: 200 });
    const forged = await signJwt({ ...payload }, "not-the-secret-not-the-secret-not-the-secret");
    expect((await call(forged, "POST", "quote", { duration: 5 })).status).toBe(401);
  });

  it("rotates refresh tokens; a used one replayed after the reuse interval revokes the whole session", async () => {
    const { client, session } = await signIn();
    const first = session.refresh_token;
    const { data: rotated, error } = await client.auth.refreshSession({ refresh_token: first });
    expect(error).toBeNull();
    const second = rotated.session!.refresh_token;
    expect(second).not.toBe(first);
    // A client's concurrent retry within refresh_token_reuse_interval gets the current token.
    const retry = await supabaseClient().auth.refreshSession({ refresh_token: first });
    expect(retry.data.session?.refresh_token).toBe(second);
    // Later, the same replay is theft: refused, and the thief's victim is signed out too.
    await sql`update auth.refresh_tokens set updated_at = now() - make_interval(secs => ${config.auth.refresh_token_reuse_interval + 1})
              where token = ${first}`;
    const replay = await supabaseClient().auth.refreshSession({ refresh_token: first });
    expect(replay.error).toMatchObject({ status: 400, code: "refresh_token_already_used" });
    const victim = await supabaseClient().auth.refreshSession({ refresh_token: second });
    expect(victim.error).toMatchObject({ status: 400, code: "refresh_token_not_found" });
    const user = await supabaseClient().auth.getUser(rotated.session!.access_token);
    expect(user.error).toMatchObject({ name: "AuthSessionMissingError" });
  });

  it("sign-out revokes the session's refresh tokens and ends its access token at /user", async () => {
    const { session } = await signIn();
    const client = supabaseClient();
    await client.auth.setSession({ access_token: session.access_token, refresh_token: session.refresh_token });
    expect((await client.auth.getUser()).data.user?.id).toBe(session.user.id);
    expect((await client.auth.signOut()).error).toBeNull();
    const again = await supabaseClient().auth.refreshSession({ refresh_token: session.refresh_token });
    expect(again.error).toMatchObject({ status: 400, code: "refresh_token_not_found" });
    expect((await supabaseClient().auth.getUser(session.access_token)).error).toMatchObject({ name: "AuthSessionMissingError" });
  });

  it("limits sign-ups and sign-ins per client address as [auth.rate_limit] sign_in_sign_ups says", async () => {
    const limit = config.auth.rate_limit.sign_in_sign_ups as number;
    expect(limit).toBe(30);
    // 127.0.0.1 (the test suite's address) is exempt on the local stack; any other loopback
    // address is a client like any other. A fresh one per run: the window is 5 minutes.
    const address = `127.${1 + Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}.${2 + Math.floor(Math.random() * 250)}`;
    const client = supabaseClient();
    const from = supabaseClientFrom(address);
    // Sign-ins and sign-ups share the count (sign-ups here would meet the mail limit first).
    for (let i = 0; i < limit; i++) {
      const { error } = await from.auth.signInWithPassword({ email: "nobody@test.local", password: "whatever" });
      expect(error, `sign-in ${i + 1}`).toMatchObject({ status: 400, code: "invalid_credentials" });
    }
    const over = await from.auth.signUp({ email: `r-${crypto.randomUUID()}@test.local`, password: "correct-horse" });
    expect(over.error).toMatchObject({ status: 429, code: "over_request_rate_limit" });
    const signInOver = await from.auth.signInWithPassword({ email: "nobody@test.local", password: "whatever" });
    expect(signInOver.error).toMatchObject({ status: 429 });
    // Another address is unaffected.
    expect((await client.auth.signUp({ email: `r-${crypto.randomUUID()}@test.local`, password: "correct-horse" })).error).toBeNull();
  });
});

describe("Auth stand-in's mails", () => {
  it("sends at most [auth.rate_limit] email_sent confirmation mails an hour for the project; a sign-up over it makes no user", async () => {
    const limit = config.auth.rate_limit.email_sent as number;
    expect(limit).toBe(2);
    // Earlier runs within the hour may have used some: the limit is met within limit + 1 sign-ups.
    const emails: string[] = [];
    let refused: { status?: number; code?: string } | null = null;
    for (let i = 0; i <= limit && !refused; i++) {
      const email = `mail-${crypto.randomUUID()}@test.local`;
      const address = `127.${1 + Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}.${2 + Math.floor(Math.random() * 250)}`;
      refused = (await supabaseClientFrom(address).auth.signUp({ email, password: "correct-horse" })).error as never;
      emails.push(email);
    }
    expect(refused).toMatchObject({ status: 429, code: "over_email_send_rate_limit" });
    expect(await sql`select 1 from auth.users where email = ${emails.at(-1)!}`).toHaveLength(0);
    // The test suite's own address is exempt.
    expect((await supabaseClient().auth.signUp({ email: `r-${crypto.randomUUID()}@test.local`, password: "correct-horse" })).error).toBeNull();
  });
});

/** supabase-js whose requests leave from another local address (fetch over node:http). */
function supabaseClientFrom(localAddress: string) {
  const fetchFrom = async (input: RequestInfo | URL, init?: RequestInit) => {
    const req = new Request(input, init);
    const body = req.body ? Buffer.from(await req.arrayBuffer()) : undefined;
    return await new Promise<Response>((resolve, reject) => {
      const out = httpRequest(req.url, { method: req.method, headers: Object.fromEntries(req.headers), localAddress }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () => resolve(new Response(Buffer.concat(chunks), { status: res.statusCode, headers: res.headers as Record<string, string> })));
      });
      out.on("error", reject);
      out.end(body);
    });
  };
  return createClient(env.API_URL, env.ANON_KEY, { auth: { persistSession: false }, realtime: { transport: ws as never }, global: { fetch: fetchFrom } });
}
