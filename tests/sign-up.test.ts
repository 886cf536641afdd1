// The welcome grant cannot be farmed (issue 26.7): sign-up gives a user and no session and
// mails a confirmation link (caught by the stack's Mailpit API); the grant arrives when the
// link is followed, once per mailbox.
import { describe, expect, it } from "vitest";
import { call, confirmByMail, env, sql, supabaseClient } from "./helpers";

async function withWelcomeGrant<T>(work: () => Promise<T>): Promise<T> {
  await sql`update engine.settings set welcome_credits = 500`;
  try {
    return await work();
  } finally {
    await sql`update engine.settings set welcome_credits = 0`;
  }
}

const mailsTo = async (email: string) =>
  (await (await fetch(`${env.MAILPIT_URL}/api/v1/search?query=${encodeURIComponent(`to:"${email}"`)}`)).json()).messages as { ID: string; Subject: string }[];

describe("sign-up with e-mail confirmation", () => {
  it("gives no session and no credits until the mailed link is followed; then the welcome grant, once", async () => {
    const email = `c-${crypto.randomUUID()}@test.local`;
    await withWelcomeGrant(async () => {
      const client = supabaseClient();
      const { data, error } = await client.auth.signUp({ email, password: "correct-horse" });
      expect(error).toBeNull();
      expect(data.session).toBeNull();
      expect(data.user).toMatchObject({ email, confirmation_sent_at: expect.any(String) });
      expect(data.user!.email_confirmed_at).toBeUndefined();
      expect((await sql`select balance::int from public.credit_accounts where user_id = ${data.user!.id}`)[0].balance).toBe(0);
      const early = await client.auth.signInWithPassword({ email, password: "correct-horse" });
      expect(early.error).toMatchObject({ status: 400, code: "email_not_confirmed" });

      const mails = await mailsTo(email);
      expect(mails.map((m) => m.Subject)).toEqual(["Confirm Your Signup"]);
      const message = await (await fetch(`${env.MAILPIT_URL}/api/v1/message/${mails[0].ID}`)).json();
      const link = /https?:\/\/\S+\/auth\/v1\/verify\?\S+/.exec(message.Text)![0];
      const session = await confirmByMail(env.MAILPIT_URL, email);
      const credits = await call(session.access_token, "GET", "credits");
      expect(credits.body).toMatchObject({ balance: 500, ledger: [{ kind: "grant", amount: 500, reason: "welcome" }] });

      // The link works once; signing up again mails nothing and grants nothing.
      const again = await fetch(link, { redirect: "manual" });
      expect(new URLSearchParams(new URL(again.headers.get("location")!).hash.slice(1)).get("error_code")).toBe("otp_expired");
      const repeat = await supabaseClient().auth.signUp({ email, password: "correct-horse" });
      expect(repeat.error).toBeNull();
      expect(repeat.data.user!.id).not.toBe(data.user!.id);
      expect(await mailsTo(email)).toHaveLength(1);
      expect((await client.auth.signInWithPassword({ email, password: "correct-horse" })).error).toBeNull();
      expect((await call(session.access_token, "GET", "credits")).body.balance).toBe(500);
    });
  });

  it("one mailbox, one grant: a +alias of a confirmed address gets no welcome credits", async () => {
    const mailbox = `m-${crypto.randomUUID()}`;
    await withWelcomeGrant(async () => {
      const balances = [];
      for (const email of [`${mailbox}+one@test.local`, `${mailbox.toUpperCase()}+two@test.local`]) {
        expect((await supabaseClient().auth.signUp({ email, password: "correct-horse" })).error).toBeNull();
        const session = await confirmByMail(env.MAILPIT_URL, email);
        balances.push((await call(session.access_token, "GET", "credits")).body.balance);
      }
      expect(balances).toEqual([500, 0]);
    });
  });
});
