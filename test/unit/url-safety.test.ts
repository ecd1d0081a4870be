import { describe, expect, it } from "vitest";
import { privateUrlsAllowed, webhookHostRefusal } from "../../src/domain/url-safety";

const refused = (url: string) => webhookHostRefusal(url) !== null;

describe("webhook URL hosts", () => {
  it("refuses loopback in every way 127.0.0.1 can be written", () => {
    for (const host of [
      "127.0.0.1",
      "127.0.0.2",
      "127.255.255.254",
      "2130706433",
      "0x7f000001",
      "0x7F.0.0.1",
      "0177.0.0.1",
      "0177.0000.0000.0001",
      "127.1",
      "127.0.1",
      "0x7f.1",
      "127.0.0.1.",
      "017700000001",
    ]) {
      // Read as the address it is, not refused merely for looking like a one-label name.
      expect(webhookHostRefusal(`http://${host}/hook`), host).toMatch(/loopback/);
      expect(webhookHostRefusal(`https://${host}:8443/hook`), host).toMatch(/loopback/);
    }
    for (const host of [
      "[::1]",
      "[0:0:0:0:0:0:0:1]",
      "[::ffff:127.0.0.1]",
      "[::ffff:7f00:1]",
      "[0:0:0:0:0:ffff:7f00:0001]",
      "[::127.0.0.1]",
      "[64:ff9b::127.0.0.1]",
      "[2002:7f00:1::]",
    ]) {
      expect(refused(`http://${host}/hook`), host).toBe(true);
    }
  });

  it("refuses private, shared (CGNAT), link-local, metadata and other non-public IPv4 ranges at both ends", () => {
    const ranges: Array<[string, string]> = [
      ["0.0.0.0", "0.255.255.255"],
      ["10.0.0.0", "10.255.255.255"],
      ["100.64.0.0", "100.127.255.255"],
      ["169.254.0.0", "169.254.255.255"],
      ["172.16.0.0", "172.31.255.255"],
      ["192.0.0.0", "192.0.0.255"],
      ["192.0.2.0", "192.0.2.255"],
      ["192.88.99.0", "192.88.99.255"],
      ["192.168.0.0", "192.168.255.255"],
      ["198.18.0.0", "198.19.255.255"],
      ["198.51.100.0", "198.51.100.255"],
      ["203.0.113.0", "203.0.113.255"],
      ["224.0.0.0", "239.255.255.255"],
      ["240.0.0.0", "255.255.255.255"],
    ];
    for (const [first, last] of ranges) {
      expect(refused(`http://${first}/`), first).toBe(true);
      expect(refused(`http://${last}/`), last).toBe(true);
    }
    for (const host of ["0", "0x0", "10.1", "0xa000001", "3232235777", "0xc0a80101", "0300.0250.1.1"]) {
      expect(webhookHostRefusal(`http://${host}/`), host).not.toMatch(/single-label/);
    }
    for (const host of [
      "169.254.169.254",
      "0",
      "0x0",
      "0.0.0.0",
      "10.1",
      "0xa000001",
      "3232235777" /* 192.168.1.1 */,
      "0xc0a80101",
      "0300.0250.1.1",
      "100.100.100.200",
      "[::ffff:169.254.169.254]",
      "[::ffff:a00:1]",
      "[::ffff:192.168.0.1]",
    ]) {
      expect(refused(`http://${host}/latest/meta-data/`), host).toBe(true);
    }
  });

  it("accepts public IPv4 addresses just outside each refused range", () => {
    for (const host of [
      "1.1.1.1",
      "8.8.8.8",
      "9.255.255.255",
      "11.0.0.0",
      "100.63.255.255",
      "100.128.0.0",
      "126.255.255.255",
      "128.0.0.0",
      "169.253.255.255",
      "169.255.0.0",
      "172.15.255.255",
      "172.32.0.0",
      "192.0.1.255",
      "192.0.3.0",
      "192.167.255.255",
      "192.169.0.0",
      "198.17.255.255",
      "198.20.0.0",
      "203.0.112.255",
      "223.255.255.255",
      "16843009" /* 1.1.1.1 */,
      "[::ffff:8.8.8.8]",
      "[64:ff9b::8.8.8.8]",
      "[2002:808:808::1]",
    ]) {
      expect(webhookHostRefusal(`https://${host}/hook`), host).toBeNull();
    }
  });

  it("accepts IPv6 only in global unicast (2000::/3) outside its special blocks, or mapping a public IPv4", () => {
    for (const host of [
      "[fbff::1]",
      "[fe00::1]",
      "[4000::1]",
      "[1fff::1]",
      "[::]",
      "[::1]",
      "[fc00::1]",
      "[fd12:3456:789a::1]",
      "[fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]",
      "[fe80::1]",
      "[febf::1]",
      "[fec0::1]",
      "[ff02::1]",
      "[ff0e::1]",
      "[2001:db8::1]",
      "[2001:0:4136:e378:8000:63bf:3fff:fdd2]",
      "[100::1]",
      "[64:ff9b:1::1]",
      "[::ffff:0:0]",
      "[3fff::1]",
    ]) {
      expect(refused(`http://${host}/`), host).toBe(true);
    }
    for (const host of ["[2606:4700:4700::1111]", "[2a00:1450:4001:82a::200e]", "[2001:4860:4860::8888]", "[2000::1]", "[3ffe::1]"]) {
      expect(webhookHostRefusal(`https://${host}/`), host).toBeNull();
    }
  });

  it("refuses local names: localhost and its subdomains, mDNS, private-use and single-label names", () => {
    for (const host of [
      "localhost",
      "LOCALHOST",
      "localhost.",
      "api.localhost",
      "a.b.localhost.",
      "printer.local",
      "metadata.google.internal",
      "router.home.arpa",
      "box.localdomain",
      "metadata",
      "intranet",
    ]) {
      expect(refused(`http://${host}/hook`), host).toBe(true);
    }
    for (const host of ["hooks.example.org", "localhost.example.com", "notlocalhost.com", "local.example", "internal.example.net", "xn--bcher-kva.example"]) {
      expect(webhookHostRefusal(`https://${host}/hook`), host).toBeNull();
    }
  });

  it("says why, in words a user can act on", () => {
    expect(webhookHostRefusal("http://127.0.0.1:9000/x")).toMatch(/loopback/);
    expect(webhookHostRefusal("http://169.254.169.254/")).toMatch(/link-local/);
    expect(webhookHostRefusal("http://10.0.0.1/")).toMatch(/private/);
    expect(webhookHostRefusal("http://localhost/")).toMatch(/local/);
  });

  it('reads the allow setting as on only when it is exactly "true"', () => {
    expect([
      privateUrlsAllowed("true"),
      privateUrlsAllowed(""),
      privateUrlsAllowed(undefined),
      privateUrlsAllowed("false"),
      privateUrlsAllowed("1"),
      privateUrlsAllowed("TRUE"),
    ]).toEqual([true, false, false, false, false, false]);
  });

  it("refuses what it cannot read rather than letting it through", () => {
    expect(refused("not a url")).toBe(true);
    expect(refused("http://[::1/")).toBe(true);
  });
});
