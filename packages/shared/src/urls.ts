// User-supplied URLs are fetched by providers on our behalf: only public addresses pass.
import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import { config } from "./config.ts";
import { AppError } from "./errors.ts";

const PRIVATE_V4: [number, number][] = [
  [0x00000000, 8], [0x0a000000, 8], [0x64400000, 10], [0x7f000000, 8], [0xa9fe0000, 16],
  [0xac100000, 12], [0xc0000000, 24], [0xc0a80000, 16], [0xc6120000, 15], [0xe0000000, 3],
];

function privateV4(n: number) {
  return PRIVATE_V4.some(([base, bits]) => (n >>> (32 - bits)) === (base >>> (32 - bits)));
}

/** The eight 16-bit words of an IPv6 address (dotted IPv4 tails normalized by URL first). */
function ipv6Words(ip: string): number[] {
  const canonical = new URL(`http://[${ip}]/`).hostname.slice(1, -1);
  const [head, tail] = canonical.includes("::") ? canonical.split("::") : [canonical, undefined];
  const h = head ? head.split(":") : [];
  const t = tail ? tail.split(":") : [];
  return [...h, ...Array(8 - h.length - t.length).fill("0"), ...t].map((w) => parseInt(w, 16));
}

export function isPrivateAddress(ip: string): boolean {
  if (isIP(ip) === 4) return privateV4(ip.split(".").reduce((a, p) => (a << 8) + Number(p), 0) >>> 0);
  const w = ipv6Words(ip);
  const embeddedV4 = ((w[6] << 16) | w[7]) >>> 0;
  // IPv4-mapped (::ffff:0:0/96), IPv4-compatible (::/96, which holds :: and ::1) and NAT64.
  if (w.slice(0, 5).every((x) => x === 0) && (w[5] === 0xffff || w[5] === 0)) return privateV4(embeddedV4);
  if (w[0] === 0x64 && w[1] === 0xff9b && w.slice(2, 6).every((x) => x === 0)) return privateV4(embeddedV4);
  return (w[0] & 0xfe00) === 0xfc00 || (w[0] & 0xffc0) === 0xfe80 || (w[0] & 0xff00) === 0xff00;
}

/** Refuses URLs that are not https or that resolve to loopback, private or link-local
 * addresses. Our own Storage's signed URLs are trusted. */
export async function assertPublicUrl(raw: string, field: string): Promise<void> {
  if ([`${config().SUPABASE_URL}/storage/v1`, config().PUBLIC_STORAGE_URL].some((base) => raw.startsWith(`${base}/object/sign/`))) return;
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
