import { describe, expect, it } from "vitest";
import { decodeBase64Url, encodeBase64Url } from "../../src/domain/base64url";
import { type CustomHostname, certificateState, customHostnameSchema, RETRY_MAX_MS, retryDelayMs } from "../../src/domain/custom-hostname";
import { signToken, type TokenPayload, verifyToken } from "../../src/domain/token";

const HOST = "email.mg.example.com";
function hostname(status: string, ssl: string, extra: Partial<CustomHostname> = {}): CustomHostname {
  return customHostnameSchema.parse({
    id: "0123456789abcdef0123456789abcdef",
    hostname: HOST,
    status,
    ssl: { status: ssl, method: "http", type: "dv" },
    ...extra,
  });
}

describe("certificate state from a Cloudflare custom hostname", () => {
  it("is active only when both the hostname and its certificate are served", () => {
    expect(certificateState(hostname("active", "active")).status).toBe("active");
    expect(certificateState(hostname("active_redeploying", "pending_expiration")).status).toBe("active");
    for (const [h, s] of [
      ["pending", "active"],
      ["active", "pending_validation"],
      ["pending", "initializing"],
      ["active", "pending_issuance"],
      ["active", "pending_deployment"],
      ["pending", ""],
    ]) {
      expect(certificateState(hostname(h!, s!)).status, `${h}/${s}`).toBe("processing");
    }
  });

  it("reports failures with Cloudflare's words, or its statuses when it gave none", () => {
    const timedOut = certificateState(
      hostname("pending", "validation_timed_out", { ssl: { status: "validation_timed_out", validation_errors: [{ message: "token not found" }] } }),
    );
    expect(timedOut).toMatchObject({ status: "error", error: "token not found" });
    for (const [h, s] of [
      ["blocked", "active"],
      ["moved", "pending_validation"],
      ["active", "issuance_timed_out"],
      ["active", "deleted"],
    ]) {
      const state = certificateState(hostname(h!, s!));
      expect(state.status, `${h}/${s}`).toBe("error");
      expect(state.error).toBe(`Cloudflare reports hostname status "${h}", certificate status "${s}"`);
    }
    expect(certificateState(hostname("active", "expired")).status).toBe("expired");
    // While pending, Cloudflare's hints are shown without failing the certificate.
    expect(
      certificateState(hostname("pending", "pending_validation", { verification_errors: ["custom hostname does not CNAME to this zone."] })),
    ).toMatchObject({
      status: "processing",
      error: "custom hostname does not CNAME to this zone.",
      cname: "invalid",
    });
  });

  it("lists the TXT records Cloudflare asks for while pending, and none once active", () => {
    const pending = hostname("pending", "pending_validation", {
      ownership_verification: { type: "txt", name: `_cf-custom-hostname.${HOST}`, value: "uuid-1" },
      ssl: {
        status: "pending_validation",
        validation_records: [
          { txt_name: `_acme-challenge.${HOST}`, txt_value: "dcv-token" },
          { http_url: `http://${HOST}/.well-known/acme-challenge/x`, http_body: "x.y" },
        ],
      },
    });
    expect(certificateState(pending).dnsRecords).toEqual([
      { type: "TXT", name: `_cf-custom-hostname.${HOST}`, value: "uuid-1" },
      { type: "TXT", name: `_acme-challenge.${HOST}`, value: "dcv-token" },
    ]);
    expect(certificateState(pending).cname).toBe("unknown");
    const active = certificateState({ ...pending, status: "active", ssl: { ...pending.ssl!, status: "active", expires_on: "2027-02-24T00:00:00Z" } });
    expect(active).toMatchObject({ dnsRecords: [], cname: "valid", expiresAt: Date.parse("2027-02-24T00:00:00Z") });
  });

  it("backs off from 5 minutes, doubling, to at most 6 hours, and honours Retry-After", () => {
    expect([1, 2, 3, 4].map((n) => retryDelayMs(n) / 60_000)).toEqual([5, 10, 20, 40]);
    expect(retryDelayMs(30)).toBe(RETRY_MAX_MS);
    expect(retryDelayMs(1, 900)).toBe(900_000);
    expect(retryDelayMs(3, 60)).toBe(20 * 60_000);
  });
});

describe("the https flag in tracking tokens", () => {
  const base: TokenPayload = {
    kind: "click",
    version: 1,
    issuedAt: 1_700_000_000,
    webPrefix: "email",
    domain: "mg.example.com",
    messageId: "m@x",
    recipient: "r@example.org",
    url: "https://example.org/",
  };

  it("round-trips, is signed, and older tokens read as http", async () => {
    const secretFor = (v: number) => (v === 1 || v === 200 ? "s" : null);
    for (const kind of ["open", "click", "unsubscribe", "tag-unsubscribe"] as const) {
      for (const version of [1, 200]) {
        const payload = { ...base, kind, version, url: kind === "click" ? base.url : "" };
        const https = await signToken({ ...payload, https: true }, "s");
        const http = await signToken(payload, "s");
        expect(await verifyToken(https, secretFor)).toEqual({ ...payload, https: true });
        expect(await verifyToken(http, secretFor)).toEqual(payload);
        // Clearing the flag breaks the signature.
        const bytes = decodeBase64Url(https)!;
        bytes[1] = bytes[1]! & 0x7f;
        expect(await verifyToken(encodeBase64Url(bytes), secretFor)).toBeNull();
      }
    }
  });
});
