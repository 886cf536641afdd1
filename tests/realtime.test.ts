// Realtime with the real supabase-js client against the stack's Realtime stand-in: private
// channels authorised by the RLS policies on realtime.messages, delivery in order, never
// another user's updates, and reconnecting after the server drops every socket.
import type { RealtimeChannel, SupabaseClient } from "@supabase/supabase-js";
import { afterEach, describe, expect, it } from "vitest";
import { call, env, newUser, resetSims, sql, supabaseClient, type TestUser, waitFor, waitForStatus } from "./helpers";

type Received = { event: string; payload: Record<string, unknown>; meta?: { id: string } };

const open: SupabaseClient[] = [];
afterEach(async () => {
  for (const c of open.splice(0)) await c.removeAllChannels();
});

/** A user's private channel, subscribed; resolves with the subscribe status. */
async function listen(user: TestUser, topicOf: string = user.id) {
  const client = supabaseClient(user.token);
  open.push(client);
  await client.realtime.setAuth(user.token);
  const received: Received[] = [];
  const channel: RealtimeChannel = client.channel(`generations:${topicOf}`, { config: { private: true } })
    .on("broadcast", { event: "*" }, (m) => received.push(m as Received));
  const status = await new Promise<{ status: string; err?: Error }>((resolve) => {
    channel.subscribe((status, err) => {
      if (status !== "CLOSED") resolve({ status, err });
    });
  });
  return { client, channel, received, status };
}

async function createVideo(user: TestUser): Promise<string> {
  const res = await call(user.token, "POST", "anime-video/create-task", { prompt: "a paper boat on a night river", model_id: "sora-2", duration_seconds: 10 });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.data.generation_uuid;
}

describe("Realtime stand-in", () => {
  it("a user receives their own updates in the order they were sent, and never another user's", async () => {
    await resetSims();
    const alice = await newUser();
    const bob = await newUser();
    const a = await listen(alice);
    const b = await listen(bob);
    expect([a.status.status, b.status.status]).toEqual(["SUBSCRIBED", "SUBSCRIBED"]);

    const id = await createVideo(alice);
    await waitForStatus(id, ["completed"]);
    const sent = await sql<{ id: string; event: string }[]>`
      select id::text, event from realtime.messages where topic = ${`generations:${alice.id}`} and event <> 'authorization_probe' order by id`;
    expect(sent.length).toBeGreaterThan(3);
    const got = await waitFor("every update to arrive", async () => a.received.length >= sent.length ? a.received : null, 20_000);
    expect(got.map((m) => m.meta?.id)).toEqual(sent.map((m) => m.id));
    expect(got.at(-1)!.payload).toMatchObject({ generation_id: id });
    expect(b.received).toEqual([]);
  });

  it("joining another user's private topic, or with no valid token, is refused by the policies", async () => {
    const alice = await newUser();
    const bob = await newUser();
    const spy = await listen(bob, alice.id);
    expect(spy.status.status).toBe("CHANNEL_ERROR");
    expect(String(spy.status.err)).toMatch(/Unauthorized: You do not have permissions to read from this Channel topic: generations:/);

    const anon = supabaseClient();
    open.push(anon);
    const status = await new Promise<string>((resolve) =>
      anon.channel(`generations:${alice.id}`, { config: { private: true } }).subscribe((s) => s !== "CLOSED" && resolve(s))
    );
    expect(status).toBe("CHANNEL_ERROR");
    // Nothing of the checks is left behind.
    expect((await sql`select count(*)::int as n from realtime.messages where event = 'authorization_probe'`)[0].n).toBe(0);
  });

  it("after the server drops every socket the client reconnects, rejoins and receives again", async () => {
    await resetSims();
    const alice = await newUser();
    const a = await listen(alice);
    const before = (await (await fetch(`${env.API_URL}/_stack/realtime/drop`, { method: "POST" })).json()).dropped;
    expect(before).toBeGreaterThanOrEqual(1);
    // While it is away the state lives on in the database: a client re-reads it on rejoin.
    const whileAway = await createVideo(alice);
    await waitFor("the channel to rejoin", async () => a.channel.state === "joined" && a.client.realtime.isConnected(), 30_000);
    await waitForStatus(whileAway, ["completed"]);
    expect((await call(alice.token, "GET", `generation/status/${whileAway}`)).body.status).toBe("completed");

    const after = await createVideo(alice);
    await waitFor("updates after the rejoin", async () => a.received.some((m) => m.payload.generation_id === after && m.payload.status === "completed"), 30_000);
  });
});
