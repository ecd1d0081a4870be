// Where a tracking hit's time goes: each part of the hot path timed alone, in blocks of 20,000
// (performance.now() is millisecond-grained in workerd). For whoever works on the hot path's ratio.
import { env } from "cloudflare:test";
import { xchacha20poly1305 } from "@noble/ciphers/chacha.js";
import { it } from "vitest";
import { queueFor } from "../src/db/queue-partitions";
import { domainKey, secretsFromSettings, signToken, verifyToken } from "../src/domain/token";
import { fieldBounds, fieldText, payloadOf } from "../src/domain/token-format";
import { pixelResponse, redirectResponse } from "../src/edge/responses";
import { handleTracking } from "../src/edge/tracking";
import type { Env } from "../src/env";
import { partitionsAs } from "../test/support/partitions";
import { BARE_REDIRECT_URL } from "./bench-worker";

const N = 20_000;

async function time(name: string, run: () => unknown): Promise<void> {
  for (let i = 0; i < 500; i++) await run();
  const start = performance.now();
  for (let i = 0; i < N; i++) await run();
  console.log(`${name.padEnd(50)} ${(((performance.now() - start) * 1000) / N).toFixed(2)} µs`);
}

it("hot path, part by part", async () => {
  const quietEnv = { ...(env as unknown as Env), ...partitionsAs(env, "events", { send: async () => {} }) } as Env;
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
    await time("  setFromBase64 into one buffer (what the edge does)", () => scratch.setFromBase64(token, { alphabet: "base64url" }));
    await time("  for comparison: Uint8Array.fromBase64 (a new buffer)", () => Uint8Array.fromBase64(token, { alphabet: "base64url" }));
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
  // The events queue's partition of the hit's domain: a hash over bindings read once per env.
  await time("queueFor: the domain's events partition (P = 2)", () => queueFor(quietEnv, "events", "mg7.customer-7.example.com"));
  // Reading a click token's fields once it is authentic: 282 bytes of production-shaped plaintext.
  const encoder = new TextEncoder();
  const fields = ["email", "mg7.customer-7.example.com", "20261129181234.2z.a81f3c2e9b7d4e60@mg7.customer-7.example.com", "firstname.lastname107@gmail.com"];
  const plain = new Uint8Array([0, 0, 0, 1, ...fields.flatMap((field) => [field.length, ...encoder.encode(field)]), ...encoder.encode(BARE_REDIRECT_URL)]);
  const at = fieldBounds(plain, 4, plain.length)!;
  await time(`payloadOf, ${plain.length} bytes (one native decode, then slices)`, () => payloadOf(plain, at, plain.length, "click", 1, 1, false));
  await time("  for comparison: each field through fieldText", () => [
    fieldText(plain, at.prefixStart, at.domainStart - 1),
    fieldText(plain, at.domainStart, at.messageIdStart - 1),
    fieldText(plain, at.messageIdStart, at.recipientStart - 1),
    fieldText(plain, at.recipientStart, at.urlStart),
    fieldText(plain, at.urlStart, plain.length),
  ]);
  // What the runtime does for any route, the bare one included (bench/pipeline.bench.ts).
  const url = `http://127.0.0.1/c/${await signToken({ ...payload, kind: "click", url: BARE_REDIRECT_URL }, secret, "sealed")}`;
  const headers = { "user-agent": "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17928; Pro)", "cf-connecting-ip": "203.0.113.7" };
  const request = new Request(url, { headers });
  await time(`new Request (a ${url.length}-character URL, two headers)`, () => new Request(url, { headers }));
  await time("request.url (copied out of the runtime each time)", () => request.url);
  await time("pixelResponse", () => pixelResponse());
  const gif = new Uint8Array(await pixelResponse().arrayBuffer());
  const pixelHeaders = new Headers(pixelResponse().headers);
  await time("  for comparison: the GIF with a Headers object made once", () => new Response(gif, { headers: pixelHeaders }));
  await time("redirectResponse", () => redirectResponse(BARE_REDIRECT_URL));
  await time("new URL(request.url)", () => new URL(request.url));
  await time("two request.headers.get", () => [request.headers.get("user-agent"), request.headers.get("cf-connecting-ip")]);
});
