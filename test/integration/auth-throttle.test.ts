// Failed attempts at the API key are throttled per client address (cf-connecting-ip), through the
// Rate Limiting binding AUTH_THROTTLE as miniflare simulates it: after the limit, every attempt from
// that address is answered 429, the right key included, while other addresses are unaffected.
import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { API_KEY, form } from "../helpers";

const basic = (key: string) => `Basic ${btoa(`api:${key}`)}`;
/** More failures than any sensible limit: the first 429 must come before this. */
const AT_MOST = 100;

function apiFrom(address: string, key: string): Promise<Response> {
  return SELF.fetch("http://127.0.0.1/v4/domains", { headers: { authorization: basic(key), "cf-connecting-ip": address } });
}

function signInFrom(address: string, key: string): Promise<Response> {
  return SELF.fetch("http://127.0.0.1/app/sign-in", {
    method: "POST",
    body: form({ api_key: key }),
    headers: { "cf-connecting-ip": address },
    redirect: "manual",
  });
}

/**
 * The local binding counts in fixed windows of its period (60 s) that start on the minute: start
 * with enough of the window left that a test's attempts all fall in one.
 */
async function startOfAWindow(): Promise<void> {
  const left = 60_000 - (Date.now() % 60_000);
  if (left < 20_000) await new Promise((resolve) => setTimeout(resolve, left + 250));
}

/** Fails from `address` until the first 429; returns how many failures were answered 401 first. */
async function failUntilThrottled(attempt: () => Promise<Response>, refused: (r: Response) => Promise<void>): Promise<number> {
  for (let failures = 0; failures < AT_MOST; failures++) {
    const response = await attempt();
    if (response.status === 429) return failures;
    await refused(response);
  }
  throw new Error(`no 429 after ${AT_MOST} failures`);
}

describe("API key throttle", () => {
  it("answers 429 with Mailgun's message after N failed API attempts from one address, even for the right key; other addresses are unaffected", {
    timeout: 60_000,
  }, async () => {
    await startOfAWindow();
    const failures = await failUntilThrottled(
      () => apiFrom("203.0.113.7", "wrong-key"),
      async (r) => expect(r.status).toBe(401),
    );
    expect(failures).toBeGreaterThanOrEqual(5);
    const throttled = await apiFrom("203.0.113.7", "wrong-key");
    expect(throttled.status).toBe(429);
    expect(await throttled.json()).toEqual({ message: expect.stringMatching(/too many failed attempts/i) });
    const right = await apiFrom("203.0.113.7", API_KEY);
    expect(right.status).toBe(429);
    // Another address: the right key works and a wrong one is a plain 401.
    expect((await apiFrom("203.0.113.8", API_KEY)).status).toBe(200);
    expect((await apiFrom("203.0.113.8", "wrong-key")).status).toBe(401);
    // A request with no key is not an attempt: 401, not counted, not throttled.
    const anonymous = await SELF.fetch("http://127.0.0.1/v4/domains", { headers: { "cf-connecting-ip": "203.0.113.9" } });
    expect(anonymous.status).toBe(401);
  });

  it("throttles failed panel sign-ins the same way, with a plain page, sharing the address's count with the API", { timeout: 60_000 }, async () => {
    await startOfAWindow();
    const failures = await failUntilThrottled(
      () => signInFrom("198.51.100.20", "wrong-key"),
      async (r) => {
        expect(r.status).toBe(303);
        expect(r.headers.get("location")).toContain("error=");
      },
    );
    expect(failures).toBeGreaterThanOrEqual(5);
    const right = await signInFrom("198.51.100.20", API_KEY);
    expect(right.status).toBe(429);
    expect(right.headers.get("content-type")).toMatch(/^text\/html/);
    expect(right.headers.get("set-cookie")).toBeNull();
    expect(await right.text()).toMatch(/too many failed attempts/i);
    // The API key over the API from that address is refused too: one count per address.
    expect((await apiFrom("198.51.100.20", API_KEY)).status).toBe(429);
    // Another address signs in.
    const other = await signInFrom("198.51.100.21", API_KEY);
    expect([other.status, other.headers.get("location")]).toEqual([303, "/app"]);
    expect(other.headers.get("set-cookie")).toContain("tidings_session=");
  });

  it("counts an IPv6 client by its /64", { timeout: 60_000 }, async () => {
    await startOfAWindow();
    let n = 0;
    const failures = await failUntilThrottled(
      () => apiFrom(`2001:db8:aa:1::${(n++).toString(16)}`, "wrong-key"),
      async (r) => expect(r.status).toBe(401),
    );
    expect(failures).toBeGreaterThanOrEqual(5);
    expect((await apiFrom("2001:db8:aa:1:ffff::1", API_KEY)).status).toBe(429);
    expect((await apiFrom("2001:db8:aa:2::1", API_KEY)).status).toBe(200);
  });
});
