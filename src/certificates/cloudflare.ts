// Client of Cloudflare's custom hostnames API (Cloudflare for SaaS): create, get, find by name,
// restart validation, delete. Every failure (HTTP error, rate limit, timeout, network) becomes a
// CloudflareError carrying Cloudflare's own message. Settings: CLOUDFLARE_ZONE_ID,
// CLOUDFLARE_API_TOKEN, CLOUDFLARE_API_BASE; no bindings, only outbound fetch.

import { type CustomHostname, customHostnameSchema } from "../domain/custom-hostname";
import * as z from "../domain/zod";

/** How long one API call may take before it counts as failed. Unit: ms. */
export const CLOUDFLARE_TIMEOUT_MS = 10_000;

/** Certificates for tracking hosts: DV, validated over HTTP (the CNAME points at the zone, so Cloudflare answers the challenge itself). */
const SSL_SETTINGS = { method: "http", type: "dv" } as const;

export class CloudflareError extends Error {
  constructor(
    message: string,
    /** HTTP status, or 0 when no answer came (timeout, network, not configured). */
    readonly status: number,
    /** Seconds from a Retry-After header, when Cloudflare sent one. */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
}

export interface CloudflareSettings {
  CLOUDFLARE_ZONE_ID: string;
  CLOUDFLARE_API_TOKEN?: string;
  CLOUDFLARE_API_BASE: string;
}

const envelopeSchema = z.object({
  success: z.optional(z.boolean()),
  errors: z.nullish(z.array(z.object({ code: z.optional(z.number()), message: z.string() }))),
  result: z.unknown(),
});

export class CustomHostnames {
  readonly #base: string;
  readonly #zone: string;
  readonly #token: string;
  readonly #timeoutMs: number;

  constructor(settings: CloudflareSettings, timeoutMs = CLOUDFLARE_TIMEOUT_MS) {
    this.#base = settings.CLOUDFLARE_API_BASE.replace(/\/+$/, "");
    this.#zone = settings.CLOUDFLARE_ZONE_ID;
    this.#token = settings.CLOUDFLARE_API_TOKEN ?? "";
    this.#timeoutMs = timeoutMs;
  }

  /** Registers the host and orders its certificate (POST /zones/{zone}/custom_hostnames). */
  async create(hostname: string): Promise<CustomHostname> {
    return customHostnameSchema.parse(await this.#call("POST", "", { hostname, ssl: SSL_SETTINGS }));
  }

  async get(id: string): Promise<CustomHostname> {
    return customHostnameSchema.parse(await this.#call("GET", `/${encodeURIComponent(id)}`));
  }

  /** The custom hostname of that exact name, or null (GET ?hostname=). */
  async find(hostname: string): Promise<CustomHostname | null> {
    const result = z.array(customHostnameSchema).parse(await this.#call("GET", `?hostname=${encodeURIComponent(hostname)}`));
    return result.find((h) => h.hostname.toLowerCase() === hostname) ?? null;
  }

  /** PATCH with the same ssl settings: Cloudflare's documented way to restart domain control validation. */
  async revalidate(id: string): Promise<CustomHostname> {
    return customHostnameSchema.parse(await this.#call("PATCH", `/${encodeURIComponent(id)}`, { ssl: SSL_SETTINGS }));
  }

  /** Deletes the hostname and its certificate; an already deleted one is not an error. */
  async delete(id: string): Promise<void> {
    try {
      await this.#call("DELETE", `/${encodeURIComponent(id)}`);
    } catch (error) {
      if (!(error instanceof CloudflareError && error.status === 404)) throw error;
    }
  }

  async #call(method: string, path: string, body?: unknown): Promise<unknown> {
    if (!this.#zone || !this.#token) {
      throw new CloudflareError("HTTPS tracking hosts are not configured: set CLOUDFLARE_ZONE_ID and the CLOUDFLARE_API_TOKEN secret", 0);
    }
    const headers: Record<string, string> = { authorization: `Bearer ${this.#token}` };
    if (body !== undefined) headers["content-type"] = "application/json";
    let response: Response;
    try {
      response = await fetch(`${this.#base}/zones/${encodeURIComponent(this.#zone)}/custom_hostnames${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (error) {
      const timedOut = error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError");
      throw new CloudflareError(timedOut ? `Cloudflare API did not answer within ${this.#timeoutMs} ms` : `Cloudflare API unreachable: ${String(error)}`, 0);
    }
    const text = await response.text();
    let envelope: z.infer<typeof envelopeSchema> | null = null;
    try {
      envelope = envelopeSchema.parse(JSON.parse(text));
    } catch {
      // Not Cloudflare's JSON envelope (a proxy's error page): reported with the status below.
    }
    if (response.ok && envelope && envelope.success !== false) return envelope.result;
    const retryAfter = Number(response.headers.get("retry-after"));
    const said = envelope?.errors?.length
      ? envelope.errors.map((e) => (e.code === undefined ? e.message : `${e.message} (code ${e.code})`)).join("; ")
      : text.slice(0, 200) || response.statusText;
    throw new CloudflareError(
      `Cloudflare API answered ${response.status}: ${said}`,
      response.status,
      Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : undefined,
    );
  }
}
