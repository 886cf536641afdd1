// The SDK's Standard Webhooks helpers against the specification's own test vectors
// (standard-webhooks/standard-webhooks, libraries/javascript/src/webhook.test.ts).
import { describe, expect, it } from "vitest";
import { signWebhook, verifyWebhook, WebhookVerificationError } from "../packages/client/src/index";

const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const ID = "msg_p5jXN8AQM9LWM0D4loKWxJek";
const BODY = '{"test": 2432232314}';
const AT = 1614265330;

const headers = async (at = AT, secret = SECRET) => ({ "webhook-id": ID, "webhook-timestamp": String(at), "webhook-signature": await signWebhook(secret, ID, at, BODY) });
const refused = (p: Promise<unknown>) => expect(p).rejects.toBeInstanceOf(WebhookVerificationError);

describe("Standard Webhooks", () => {
  it("signs the specification's vector", async () => {
    expect(await signWebhook(SECRET, ID, AT, BODY)).toBe("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
  });

  it("verifies a valid message, with or without the whsec_ prefix, and returns the body", async () => {
    expect(await verifyWebhook(BODY, await headers(), SECRET, { nowSeconds: AT })).toEqual({ test: 2432232314 });
    expect(await verifyWebhook(BODY, await headers(), SECRET.slice(6), { nowSeconds: AT })).toEqual({ test: 2432232314 });
    expect(await verifyWebhook(BODY, new Headers(await headers()), SECRET, { nowSeconds: AT })).toEqual({ test: 2432232314 });
  });

  it("refuses missing headers, a bad timestamp, a bad or partial signature and another body", async () => {
    for (const name of ["webhook-id", "webhook-timestamp", "webhook-signature"]) {
      const h: Record<string, string> = await headers();
      delete h[name];
      await refused(verifyWebhook(BODY, h, SECRET, { nowSeconds: AT }));
    }
    await refused(verifyWebhook(BODY, { ...(await headers()), "webhook-timestamp": "hello" }, SECRET, { nowSeconds: AT }));
    await refused(verifyWebhook(BODY, { ...(await headers()), "webhook-signature": "v1,dawfeoifkpqwoekfpqoekf" }, SECRET, { nowSeconds: AT }));
    const good = (await headers())["webhook-signature"];
    await refused(verifyWebhook(BODY, { ...(await headers()), "webhook-signature": good.slice(0, 8) }, SECRET, { nowSeconds: AT }));
    await refused(verifyWebhook(BODY, { ...(await headers()), "webhook-signature": "v1," }, SECRET, { nowSeconds: AT }));
    await refused(verifyWebhook('{"test": 1}', await headers(), SECRET, { nowSeconds: AT }));
  });

  it("refuses a timestamp more than 5 minutes off", async () => {
    await refused(verifyWebhook(BODY, await headers(AT - 301), SECRET, { nowSeconds: AT }));
    await refused(verifyWebhook(BODY, await headers(AT + 301), SECRET, { nowSeconds: AT }));
  });

  it("accepts any matching v1 signature among several", async () => {
    const h = await headers();
    const sigs = ["v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=", "v2,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=", h["webhook-signature"]];
    expect(await verifyWebhook(BODY, { ...h, "webhook-signature": sigs.join(" ") }, SECRET, { nowSeconds: AT })).toEqual({ test: 2432232314 });
  });
});
