// Which URLs we fetch, or let providers fetch on our behalf: https to public addresses only.
// Address classes come from ipaddr.js (IANA special-purpose registries), not from our own
// tables; every DNS answer of a name must be public. What remains: a name that resolves to a
// public address at check time and a private one at connect time (DNS rebinding within the
// resolver's cache time) is not caught here.
import ipaddr from "ipaddr.js";
import { lookup } from "node:dns/promises";
import { config } from "./config.ts";
import { AppError } from "./errors.ts";

// Global unicast (2000::/3): everything outside it (IPv4-compatible ::/96 included) is refused.
const GLOBAL_UNICAST_V6 = ipaddr.parseCIDR("2000::/3");

/** True only for an ordinary public unicast address. IPv4-mapped IPv6 is judged as its IPv4
 * address; every other special range (loopback, private, link-local, CGNAT, site-local,
 * unique-local, 6to4, Teredo, NAT64, discard, documentation, multicast, ...) is refused. */
export function isPublicAddress(ip: string): boolean {
  let addr: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    addr = ipaddr.parse(ip);
  } catch {
    return false;
  }
  if (addr.kind() === "ipv4") return addr.range() === "unicast";
  const v6 = addr as ipaddr.IPv6;
  if (v6.isIPv4MappedAddress()) return isPublicAddress(v6.toIPv4Address().toString());
  return v6.range() === "unicast" && v6.match(GLOBAL_UNICAST_V6 as [ipaddr.IPv6, number]);
}

export const isPrivateAddress = (ip: string) => !isPublicAddress(ip);

const denoDns = (globalThis as {
  Deno?: { resolveDns(name: string, type: "A" | "AAAA"): Promise<string[]> };
}).Deno?.resolveDns;

/** Every address a name may connect to: the system resolver (what fetch uses, /etc/hosts
 * included) and, on Deno, the DNS A and AAAA answers. */
async function addressesOf(host: string): Promise<string[]> {
  const answers = await Promise.allSettled([
    lookup(host, { all: true }).then((all) => all.map((a) => a.address)),
    ...(denoDns ? [denoDns(host, "A"), denoDns(host, "AAAA")] : []),
  ]);
  return answers.flatMap((a) => (a.status === "fulfilled" ? a.value : []));
}

/** The host's addresses, refused unless there is at least one and all are public. */
export async function assertPublicHost(host: string, what: string): Promise<void> {
  const bare = host.replace(/^\[|\]$/g, "");
  const addresses = ipaddr.isValid(bare) ? [bare] : await addressesOf(bare);
  if (addresses.length === 0) throw new AppError("INVALID_REQUEST", `${what} host ${bare} could not be resolved`);
  if (!addresses.every(isPublicAddress)) throw new AppError("INVALID_REQUEST", `${what} must point to a public address`);
}

/** The path exactly as written (before URL parsing resolves dot segments). */
function rawPath(raw: string) {
  return /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*([^?#]*)/i.exec(raw)?.[1] ?? "";
}

/** True when the written path holds a dot segment, plain or percent-encoded, or a backslash
 * (URL parsers treat it as a slash): such a path means something else once normalised. */
export function hasDotSegments(raw: string) {
  const path = rawPath(raw);
  if (path.includes("\\") || /%5c/i.test(path)) return true;
  return path.split(/\/|%2f/i).some((segment) => /^(\.|%2e){1,2}$/i.test(segment));
}

/** A signed URL of our own Storage: same origin as SUPABASE_URL and, as written, a path
 * under /storage/v1/object/sign/ with no dot segments and a token. */
export function isOwnSignedUrl(raw: string): boolean {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return false;
  }
  // Signed URLs are minted under the project's Storage URL or its public one (PUBLIC_STORAGE_URL).
  const path = rawPath(raw);
  const underBase = (base: URL) => {
    const prefix = `${base.pathname.replace(/\/$/, "")}/object/sign/`;
    return url.origin === base.origin && path.startsWith(prefix) && /^[^/]+\/[^?#]+$/.test(path.slice(prefix.length));
  };
  return [`${config().SUPABASE_URL}/storage/v1`, config().PUBLIC_STORAGE_URL].some((b) => underBase(new URL(b))) &&
    !url.username && !url.password && !hasDotSegments(raw) && url.searchParams.has("token");
}

/** Refuses user-supplied URLs that are not https or that resolve to anything but public
 * addresses. Our own Storage's signed URLs pass (checked by parsing, not by prefix). Returns
 * the URL as the WHATWG parser read it, which is what callers must forward: the host checked
 * is the host a provider connects to (a raw `https://a.example\@10.0.0.1/` reads as host
 * a.example here and as 10.0.0.1 to parsers that do not treat "\" as "/"). */
export async function assertPublicUrl(raw: string, field: string): Promise<string> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new AppError("INVALID_REQUEST", `${field} is not a URL`);
  }
  if (isOwnSignedUrl(raw)) return url.href;
  if (url.protocol !== "https:") throw new AppError("INVALID_REQUEST", `${field} must be an https URL`);
  if (url.username || url.password) throw new AppError("INVALID_REQUEST", `${field} must not carry credentials`);
  await assertPublicHost(url.hostname, field);
  return url.href;
}
