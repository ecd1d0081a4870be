import { describe, expect, it } from "vitest";
import { addressThrottleKey, parseIpv4, parseIpv6 } from "../../src/domain/ip-address";

describe("IP address text", () => {
  it("reads dotted-quad IPv4 and nothing else", () => {
    expect(parseIpv4("192.0.2.1")).toBe(0xc0000201);
    expect(parseIpv4("255.255.255.255")).toBe(0xffffffff);
    expect(["256.0.0.1", "1.2.3", "1.2.3.4.5", "01234.1.1.1", "a.b.c.d", "", "1..2.3"].map(parseIpv4)).toEqual(Array(7).fill(null));
  });

  it("reads IPv6 with ::, a dotted IPv4 tail, and refuses malformed text", () => {
    expect(parseIpv6("::1")).toEqual([0, 0, 0, 0, 0, 0, 0, 1]);
    expect(parseIpv6("2001:db8::8:800:200c:417a")).toEqual([0x2001, 0xdb8, 0, 0, 0x8, 0x800, 0x200c, 0x417a]);
    expect(parseIpv6("::ffff:192.0.2.1")).toEqual([0, 0, 0, 0, 0, 0xffff, 0xc000, 0x201]);
    expect(parseIpv6("1:2:3:4:5:6:7:8")).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(["1::2::3", "1:2:3:4:5:6:7", "1:2:3:4:5:6:7:8:9", "12345::", "g::1", ":::", "1:2:3:4:5:6:7::8", "::ffff:300.1.1.1"].map(parseIpv6)).toEqual(
      Array(8).fill(null),
    );
  });

  it("keys a client by its IPv4 address, or by its IPv6 /64", () => {
    expect(addressThrottleKey("203.0.113.7")).toBe("203.0.113.7");
    expect(addressThrottleKey("2001:DB8:aa:1::1")).toBe("2001:db8:aa:1::/64");
    expect(addressThrottleKey("2001:db8:aa:1:ffff:ffff:ffff:ffff")).toBe("2001:db8:aa:1::/64");
    expect(addressThrottleKey("2001:db8:aa:2::1")).toBe("2001:db8:aa:2::/64");
    expect(addressThrottleKey("not an address")).toBe("not an address");
  });
});
