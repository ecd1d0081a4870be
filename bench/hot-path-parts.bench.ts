// Where a tracking hit's time goes: each part of the hot path timed alone, in blocks of 20,000
// (performance.now() is millisecond-grained in workerd). For whoever works on the 3x target.
import { env } from "cloudflare:test";
import { it } from "vitest";
import { xchacha20poly1305 } from "@noble/ciphers/chacha.js";
import { hmacSha256Key, hmacSha256Words } from "../src/domain/hmac-sha256";
import { domainKey, secretsFromSettings, signToken, verifyToken, verifyTokenNow } from "../src/domain/token";
import { pixelResponse } from "../src/edge/responses";
import { handleTracking } from "../src/edge/tracking";
import type { Env } from "../src/env";

const N = 20_000;

async function time(name: string, run: () => unknown): Promise<void> {
  for (let i = 0; i < 500; i++) await run();
  const start = performance.now();
  for (let i = 0; i < N; i++) await run();
  console.log(`${name.padEnd(50)} ${(((performance.now() - start) * 1000) / N).toFixed(2)} µs`);
}

it("hot path, part by part", async () => {
  const quietEnv = { ...(env as unknown as Env), EVENTS: { send: async () => {} } as unknown as Env["EVENTS"] };
  const secret = "bench-tracking-secret";
  const payload = { kind: "open", version: 1, issuedAt: 1, webPrefix: "email", domain: "bench.example.com", messageId: "bench@x", recipient: "r@example.org", url: "" } as const;
  const { secretFor } = secretsFromSettings(quietEnv);
  const pending: Promise<unknown>[] = [];
  const ctx = { waitUntil: (p: Promise<unknown>) => void pending.push(p), passThroughOnException() {}, props: {} } as unknown as ExecutionContext;
  const scratch = new Uint8Array(3072);
  await time("await of nothing (loop overhead)", async () => {});
  for (const format of ["signed", "sealed"] as const) {
    const token = await signToken(payload, secret, format);
    const request = new Request(`http://127.0.0.1/o/${token}`);
    const wholeHit = async () => {
      const response = await handleTracking(request, quietEnv, ctx);
      await Promise.all(pending.splice(0)); // the token is verified in waitUntil
      return response;
    };
    await verifyToken(token, secretFor); // derives the domain's key, as the first hit in an isolate does
    console.log(`${`${format} pixel token (characters)`.padEnd(50)} ${token.length}`);
    await time(`whole ${format} pixel hit (handleTracking + waitUntil)`, wholeHit);
    await time(`verifyTokenNow, ${format} (the hot path's check)`, () => verifyTokenNow(token, secretFor));
    await time("  setFromBase64 (native)", () => scratch.setFromBase64(token, { alphabet: "base64url" }));
    const bytes = Uint8Array.fromBase64(token, { alphabet: "base64url" });
    if (format === "signed") {
      const body = bytes.subarray(0, bytes.length - 16);
      const jsKey = hmacSha256Key(crypto.getRandomValues(new Uint8Array(32)));
      const key = await domainKey(secret, "bench.example.com");
      await time(`  HMAC-SHA256 of ${body.length} bytes (hmac-sha256.ts)`, () => hmacSha256Words(jsKey, body));
      await time("  for comparison: crypto.subtle.sign HMAC", () => crypto.subtle.sign("HMAC", key, body));
    } else {
      const key = crypto.getRandomValues(new Uint8Array(32));
      const nonce = bytes.slice(6, 30);
      const sealed = xchacha20poly1305(key, nonce, bytes.subarray(0, 6)).encrypt(bytes.slice(30, -16));
      const opened = new Uint8Array(sealed.length - 16);
      await time(`  XChaCha20-Poly1305 open, ${opened.length} bytes (@noble/ciphers)`, () => xchacha20poly1305(key, nonce, bytes.subarray(0, 6)).decrypt(sealed, opened));
    }
  }
  const request = new Request("http://127.0.0.1/o/x");
  await time("pixelResponse", () => pixelResponse());
  await time("new URL(request.url)", () => new URL(request.url));
  await time("two request.headers.get", () => [request.headers.get("user-agent"), request.headers.get("cf-connecting-ip")]);
});
