// Standard Webhooks (https://www.standardwebhooks.com): the signature reelforge puts on every
// webhook it sends, and its verification for app backends. WebCrypto only: browsers, Node, Deno.
//   webhook-id: msg_...   webhook-timestamp: <unix seconds>   webhook-signature: v1,<base64 HMAC-SHA256>
// The signed content is `${id}.${timestamp}.${body}`; the key is the secret after `whsec_`, base64.

export class WebhookVerificationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "WebhookVerificationError";
  }
}

const enc = new TextEncoder();

function fromBase64(text: string): Uint8Array<ArrayBuffer> {
  return Uint8Array.from(atob(text), (ch) => ch.charCodeAt(0));
}

function toBase64(bytes: ArrayBuffer): string {
  return btoa(String.fromCharCode(...new Uint8Array(bytes)));
}

async function hmac(secret: string, content: string): Promise<string> {
  const key = await crypto.subtle.importKey("raw", fromBase64(secret.replace(/^whsec_/, "")), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return toBase64(await crypto.subtle.sign("HMAC", key, enc.encode(content)));
}

/** The `webhook-signature` value for a message: `v1,<base64>`. */
export async function signWebhook(secret: string, id: string, timestampSeconds: number, body: string): Promise<string> {
  return `v1,${await hmac(secret, `${id}.${timestampSeconds}.${body}`)}`;
}

/** A new secret: `whsec_` and 24 random bytes in base64. */
export function newWebhookSecret(): string {
  return `whsec_${toBase64(crypto.getRandomValues(new Uint8Array(24)).buffer)}`;
}

function constantTimeEqual(a: string, b: string) {
  let diff = a.length ^ b.length;
  for (let i = 0; i < Math.min(a.length, b.length); i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

type HeaderSource = Headers | Record<string, string | undefined>;

/** Checks a received webhook (the raw body as received, its headers, the endpoint's secret) and
 * returns the parsed body; throws WebhookVerificationError when a header is missing, the
 * timestamp is more than `toleranceSeconds` away from now, or no v1 signature matches. */
export async function verifyWebhook(body: string, headers: HeaderSource, secret: string,
                                    opts: { toleranceSeconds?: number; nowSeconds?: number } = {}): Promise<unknown> {
  const get = (name: string) => (headers instanceof Headers ? headers.get(name) : headers[name] ?? headers[name.toLowerCase()]) ?? null;
  const id = get("webhook-id");
  const timestamp = get("webhook-timestamp");
  const signatures = get("webhook-signature");
  if (!id || !timestamp || !signatures) throw new WebhookVerificationError("Missing webhook-id, webhook-timestamp or webhook-signature");
  const sent = Number(timestamp);
  if (!/^\d+$/.test(timestamp) || !Number.isSafeInteger(sent)) throw new WebhookVerificationError("Invalid webhook-timestamp");
  const now = opts.nowSeconds ?? Math.floor(Date.now() / 1000);
  const tolerance = opts.toleranceSeconds ?? 300;
  if (sent < now - tolerance) throw new WebhookVerificationError("Message timestamp too old");
  if (sent > now + tolerance) throw new WebhookVerificationError("Message timestamp too new");
  const expected = (await signWebhook(secret, id, sent, body)).slice(3);
  // Several space-separated signatures (e.g. during a key rotation): any v1 match will do.
  const ok = signatures.split(" ").some((s) => s.startsWith("v1,") && constantTimeEqual(s.slice(3), expected));
  if (!ok) throw new WebhookVerificationError("No matching signature found");
  return JSON.parse(body);
}
