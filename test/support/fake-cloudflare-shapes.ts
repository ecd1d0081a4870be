// What the fake Cloudflare API (Node) and the tests that drive it (workerd) share.
export const FAKE_CLOUDFLARE = { zoneId: "023e105f4ecef8ad9ca31a8372d0c353", token: "fake-cloudflare-api-token" } as const;

export interface RecordedRequest {
  method: string;
  /** Path without the query, e.g. /client/v4/zones/<zone>/custom_hostnames/<id>. */
  path: string;
  query: Record<string, string>;
  authorization: string | null;
  contentType: string | null;
  body: unknown;
}

export interface FakeFault {
  hostname: string;
  method?: string;
  /** Answer this status with Cloudflare's error body instead (429: code 971). */
  status?: number;
  /** Seconds, sent as Retry-After with `status`. */
  retryAfter?: number;
  /** Answer normally, but only after this long. Unit: ms. */
  delayMs?: number;
  times?: number;
}
