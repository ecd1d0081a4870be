// Where a tracking hit's time goes: each part of the hot path timed alone, in blocks of 20,000
// (performance.now() is millisecond-grained in workerd). For whoever works on the 3x target.
import { env } from "cloudflare:test";
import { xchacha20poly1305 } from "@noble/ciphers/chacha.js";
import { it } from "vitest";
import { domainKey, secretsFromSettings, signToken, verifyToken } from "../src/domain/token";
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
  const payload = {
    kind: "open",
    version: 1,
    issuedAt: 1,
    webPrefix: "email",
    domain: "bench.example.com",
    messageId: "bench@x",
    recipient: "r@example.org",
    url: "",
  } as const;
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
    await time(`verifyToken, ${format} (the hot path's check)`, () => verifyToken(token, secretFor));
    await time("  setFromBase64 (native)", () => scratch.setFromBase64(token, { alphabet: "base64url" }));
    const bytes = Uint8Array.fromBase64(token, { alphabet: "base64url" });
    if (format === "signed") {
      const body = bytes.subarray(0, bytes.length - 16);
      const key = await domainKey(secret, "bench.example.com");
      await time(`  crypto.subtle.sign HMAC-SHA256, ${body.length} bytes`, () => crypto.subtle.sign("HMAC", key, body));
    } else {
      const raw = crypto.getRandomValues(new Uint8Array(32));
      const key = await crypto.subtle.importKey("raw", raw, "AES-GCM", false, ["encrypt", "decrypt"]);
      const iv = bytes.slice(8, 20);
      const params = { name: "AES-GCM", iv, additionalData: bytes.subarray(0, 8) };
      const sealed = await crypto.subtle.encrypt(params, key, bytes.slice(20, -16));
      await time(`  crypto.subtle.decrypt AES-256-GCM, ${sealed.byteLength - 16} bytes`, () => crypto.subtle.decrypt(params, key, sealed));
      // For comparison: the pure-JavaScript AEAD sealed tokens used before (@noble/ciphers, dev only now).
      const nonce = crypto.getRandomValues(new Uint8Array(24));
      const xsealed = xchacha20poly1305(raw, nonce, bytes.subarray(0, 8)).encrypt(bytes.slice(20, -16));
      const opened = new Uint8Array(xsealed.length - 16);
      await time(`  for comparison: XChaCha20-Poly1305 open (@noble/ciphers)`, () =>
        xchacha20poly1305(raw, nonce, bytes.subarray(0, 8)).decrypt(xsealed, opened),
      );
    }
  }
  const request = new Request("http://127.0.0.1/o/x");
  await time("pixelResponse", () => pixelResponse());
  await time("new URL(request.url)", () => new URL(request.url));
  await time("two request.headers.get", () => [request.headers.get("user-agent"), request.headers.get("cf-connecting-ip")]);
});
