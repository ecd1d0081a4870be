// IP address text as numbers: dotted-quad IPv4 and IPv6 (with :: and a dotted IPv4 tail). Pure;
// used by the webhook URL rule and by the keying of the API-key throttle.

export const ip4 = (a: number, b: number, c: number, d: number) => ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;

/** A dotted-quad IPv4 address (the URL parser's form) as a number, or null. */
export function parseIpv4(text: string): number | null {
  const parts = text.split(".");
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) return null;
  return ip4(Number(parts[0]), Number(parts[1]), Number(parts[2]), Number(parts[3]));
}

/** An IPv6 address (without brackets, possibly ending in a dotted IPv4) as eight 16-bit groups, or null. */
export function parseIpv6(text: string): number[] | null {
  let body = text;
  const lastColon = body.lastIndexOf(":");
  const tail = body.slice(lastColon + 1);
  if (tail.includes(".")) {
    const v4 = parseIpv4(tail);
    if (v4 === null) return null;
    body = `${body.slice(0, lastColon + 1)}${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  }
  const halves = body.split("::");
  if (halves.length > 2) return null;
  const groups = (half: string) => (half === "" ? [] : half.split(":"));
  const head = groups(halves[0]!);
  const rest = halves.length === 2 ? groups(halves[1]!) : [];
  const missing = 8 - head.length - rest.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return null;
  const all = [...head, ...Array<string>(Math.max(missing, 0)).fill("0"), ...rest];
  if (!all.every((g) => /^[0-9a-f]{1,4}$/i.test(g))) return null;
  return all.map((g) => parseInt(g, 16));
}

/**
 * The key a client address is throttled by: an IPv4 address as it is, an IPv6 address by its /64
 * (what one subscriber gets, so rotating addresses inside it gains nothing); anything else as given.
 */
export function addressThrottleKey(address: string): string {
  const text = address.trim().toLowerCase();
  if (!text.includes(":")) return text;
  const groups = parseIpv6(text);
  return groups
    ? `${groups
        .slice(0, 4)
        .map((g) => g.toString(16))
        .join(":")}::/64`
    : text;
}
