// Which webhook URLs may be posted to: only hosts on the public internet, so that a webhook cannot
// make the Worker reach loopback, private networks, link-local cloud metadata (169.254.169.254) or
// other non-public addresses. Pure. The host is read as the WHATWG URL parser reads it, which is
// also how fetch() reads it: 2130706433, 0x7f000001, 0177.0.0.1 and 127.1 all become 127.0.0.1.
// Names are judged by their form only (no DNS lookup): a public name that resolves to a private
// address is not caught here.

import { ip4, parseIpv4, parseIpv6 } from "./ip-address";

/** The allow setting (WEBHOOK_ALLOW_PRIVATE_URLS): on only when exactly "true". */
export function privateUrlsAllowed(setting: string | undefined): boolean {
  return setting === "true";
}

type Range = readonly [first: number, prefixBits: number, what: string];

/** IPv4 blocks that are not globally reachable (IANA special-purpose registry, RFC 6890 and successors). */
const IPV4_REFUSED: readonly Range[] = [
  [ip4(0, 0, 0, 0), 8, "a 'this network' address"],
  [ip4(10, 0, 0, 0), 8, "a private address"],
  [ip4(100, 64, 0, 0), 10, "a shared (carrier-grade NAT) address"],
  [ip4(127, 0, 0, 0), 8, "a loopback address"],
  [ip4(169, 254, 0, 0), 16, "a link-local address (cloud metadata lives there)"],
  [ip4(172, 16, 0, 0), 12, "a private address"],
  [ip4(192, 0, 0, 0), 24, "an IETF protocol address"],
  [ip4(192, 0, 2, 0), 24, "a documentation address"],
  [ip4(192, 88, 99, 0), 24, "a 6to4 relay address"],
  [ip4(192, 168, 0, 0), 16, "a private address"],
  [ip4(198, 18, 0, 0), 15, "a benchmarking address"],
  [ip4(198, 51, 100, 0), 24, "a documentation address"],
  [ip4(203, 0, 113, 0), 24, "a documentation address"],
  [ip4(224, 0, 0, 0), 4, "a multicast address"],
  [ip4(240, 0, 0, 0), 4, "a reserved address"],
];

/** Names that resolve on the local machine or network only (RFC 6761, 6762, 8375; ICANN's .internal). */
const LOCAL_SUFFIXES = ["localhost", "local", "internal", "home.arpa", "localdomain"];

function ipv4Refusal(address: number): string | null {
  for (const [first, bits, what] of IPV4_REFUSED) {
    if (address >>> (32 - bits) === first >>> (32 - bits)) return what;
  }
  return null;
}

function ipv6Refusal(g: number[]): string | null {
  const embedded = (hi: number, lo: number) => ipv4Refusal(((hi << 16) | lo) >>> 0);
  const zerosBefore = (n: number) => g.slice(0, n).every((x) => x === 0);
  if (zerosBefore(8)) return "the unspecified address";
  if (zerosBefore(7) && g[7] === 1) return "a loopback address";
  // IPv4-mapped (::ffff:a.b.c.d) and NAT64 (64:ff9b::a.b.c.d) reach the IPv4 address inside.
  if (zerosBefore(5) && g[5] === 0xffff) return embedded(g[6]!, g[7]!);
  if (g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((x) => x === 0)) return embedded(g[6]!, g[7]!);
  if (zerosBefore(6)) return "an IPv4-compatible address (deprecated)";
  if ((g[0]! & 0xfe00) === 0xfc00) return "a unique local (private) address";
  if ((g[0]! & 0xffc0) === 0xfe80) return "a link-local address";
  if ((g[0]! & 0xe000) !== 0x2000) return "outside global unicast (2000::/3)";
  // Special blocks inside 2000::/3: IETF protocol assignments (Teredo, benchmarking, ...) and documentation.
  if (g[0] === 0x2001 && g[1]! < 0x200) return "an IETF protocol address";
  if (g[0] === 0x2001 && g[1] === 0x0db8) return "a documentation address";
  if (g[0] === 0x3fff && g[1]! < 0x1000) return "a documentation address"; // 3fff::/20
  if (g[0] === 0x2002) return embedded(g[1]!, g[2]!); // 6to4 carries its IPv4 address in bits 16-47
  return null;
}

function nameRefusal(hostname: string): string | null {
  const name = hostname.endsWith(".") ? hostname.slice(0, -1) : hostname;
  if (LOCAL_SUFFIXES.some((suffix) => name === suffix || name.endsWith(`.${suffix}`))) return "a local name";
  if (!name.includes(".")) return "a single-label (local) name";
  return null;
}

/**
 * Why a webhook URL's host is not on the public internet ("is a loopback address", ...), or null
 * when it is. A URL that does not parse is refused too: nothing unread is let through.
 */
export function webhookHostRefusal(url: string): string | null {
  let hostname: string;
  try {
    hostname = new URL(url).hostname.toLowerCase();
  } catch {
    return "is not a URL";
  }
  let why: string | null;
  if (hostname.startsWith("[")) {
    const groups = parseIpv6(hostname.slice(1, -1));
    why = groups ? ipv6Refusal(groups) : "an unreadable IPv6 address";
  } else {
    const v4 = parseIpv4(hostname);
    why = v4 === null ? nameRefusal(hostname) : ipv4Refusal(v4);
  }
  return why && `is ${why}`;
}
