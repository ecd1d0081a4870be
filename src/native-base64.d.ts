// Uint8Array's base64 and hex methods (TC39 "ArrayBuffer to/from base64", in workerd's V8) are not yet in
// TypeScript's lib (5.9) nor in @cloudflare/workers-types: the part of them this Worker uses.
// test/unit/token.test.ts checks that the runtime has them.

interface Uint8ArrayConstructor {
  fromBase64(
    text: string,
    options?: { alphabet?: "base64" | "base64url"; lastChunkHandling?: "loose" | "strict" | "stop-before-partial" },
  ): Uint8Array<ArrayBuffer>;
  fromHex(text: string): Uint8Array<ArrayBuffer>;
}

interface Uint8Array<TArrayBuffer extends ArrayBufferLike = ArrayBufferLike> {
  toHex(): string;
  toBase64(options?: { alphabet?: "base64" | "base64url"; omitPadding?: boolean }): string;
  setFromBase64(
    text: string,
    options?: { alphabet?: "base64" | "base64url"; lastChunkHandling?: "loose" | "strict" | "stop-before-partial" },
  ): { read: number; written: number };
}
