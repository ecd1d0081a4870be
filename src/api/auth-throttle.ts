// Throttle of attempts at the API key, per client address, shared by API Basic auth and the
// panel's sign-in: one count per address, kept by the Rate Limiting binding AUTH_THROTTLE (its limit
// and period are set in wrangler.toml, once; Cloudflare counts per location; miniflare simulates
// the same binding under `npm start` and in the tests). The binding only counts (limit() adds one
// and says whether the address was still under the limit), so:
// - a failed attempt counts; past the limit it is answered "throttled" instead of "refused";
// - a panel sign-in counts whether right or wrong (sign-ins are rare);
// - a right API key (sent with every API call) counts once per CLEARANCE_MS per isolate and
//   address: the first call checks the binding and, if the address is under the limit, the isolate
//   lets it through without counting for the rest of that time. A failure from the address in the
//   isolate ends that. So a throttled address gets 429 for the right key too: no guess, right or
//   wrong, is told apart while it is throttled.
// The address is cf-connecting-ip, which Cloudflare sets on every request (and miniflare locally);
// a request without it came from inside the Worker (the panel's own API calls) and is not counted.
import { addressThrottleKey } from "../domain/ip-address";
import type { Env } from "../env";

export type AttemptOutcome = "allowed" | "refused" | "throttled";

/** How long an isolate lets an address that gave the right API key through without counting (unit: ms). */
const CLEARANCE_MS = 60_000;
/** Addresses an isolate remembers as cleared at most (unit: entries); past it the memory starts again. */
const CLEARED_MAX = 10_000;
const clearedUntil = new Map<string, number>();

/** Whether the binding still lets the address try (and counts this attempt). */
async function underLimit(env: Env, key: string): Promise<boolean> {
  return (await env.AUTH_THROTTLE.limit({ key })).success;
}

/** The outcome of an attempt at the API key through the API, given whether the key was right. */
export async function judgeApiKey(env: Env, address: string | null, correct: boolean, now = Date.now()): Promise<AttemptOutcome> {
  if (!address) return correct ? "allowed" : "refused";
  const key = addressThrottleKey(address);
  if (!correct) {
    clearedUntil.delete(key);
    return (await underLimit(env, key)) ? "refused" : "throttled";
  }
  if ((clearedUntil.get(key) ?? 0) > now) return "allowed";
  if (!(await underLimit(env, key))) return "throttled";
  if (clearedUntil.size >= CLEARED_MAX) clearedUntil.clear();
  clearedUntil.set(key, now + CLEARANCE_MS);
  return "allowed";
}

/** The outcome of a panel sign-in, given whether the key was right: every sign-in counts. */
export async function judgeSignIn(env: Env, address: string | null, correct: boolean): Promise<AttemptOutcome> {
  if (address && !(await underLimit(env, addressThrottleKey(address)))) return "throttled";
  return correct ? "allowed" : "refused";
}

/** The words of a throttled answer, the API's and the panel's. */
export const THROTTLED_MESSAGE = "Too many failed attempts at the API key from your address; try again in a minute";
