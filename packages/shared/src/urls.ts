// User-supplied URLs are fetched by providers on our behalf: only public addresses pass.
import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import { config } from "./config.ts";
import { AppError } from "./errors.ts";

const PRIVATE_V4: [number, number][] = [
  [0x00000000, 8], [0x0a000000, 8], [0x64400000, 10], [0x7f000000, 8], [0xa9fe0000, 16],
  [0xac100000, 12], [0xc0000000, 24], [0xc0a80000, 16], [0xc6120000, 15], [0xe0000000, 3],
];

export function isPrivateAddress(ip: string): boolean {
  const v4 = ip.startsWith("::ffff:") ? ip.slice(7) : ip;
  if (isIP(v4) === 4) {
    const n = v4.split(".").reduce((a, p) => (a << 8) + Number(p), 0) >>> 0;
    return PRIVATE_V4.some(([base, bits]) => (n >>> (32 - bits)) === (base >>> (32 - bits)));
  }
  const v6 = ip.toLowerCase();
  return v6 === "::" || v6 === "::1" || /^f[cd]/.test(v6) || /^fe[89ab]/.test(v6) || v6.startsWith("ff");
}

/** Refuses URLs that are not https or that resolve to loopback, private or link-local
 * addresses. Our own Storage's signed URLs are trusted. */
export async function assertPublicUrl(raw: string, field: string): Promise<void> {
  if (raw.startsWith(`${config().SUPABASE_URL}/storage/v1/object/sign/`)) return;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new AppError("INVALID_REQUEST", `${field} is not a URL`);
  }
  if (url.protocol !== "https:") throw new AppError("INVALID_REQUEST", `${field} must be an https URL`);
  if (url.username || url.password) throw new AppError("INVALID_REQUEST", `${field} must not carry credentials`);
  const host = url.hostname.replace(/^\[|\]$/g, "");
  let addresses: string[];
  if (isIP(host)) {
    addresses = [host];
  } else {
    try {
      addresses = (await lookup(host, { all: true })).map((a) => a.address);
    } catch {
      throw new AppError("INVALID_REQUEST", `${field} host ${host} could not be resolved`);
    }
  }
  if (addresses.length === 0 || addresses.some(isPrivateAddress)) {
    throw new AppError("INVALID_REQUEST", `${field} must point to a public address`);
  }
}
