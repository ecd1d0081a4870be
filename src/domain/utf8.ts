// Byte lengths of text as UTF-8, the unit every storage limit counts in (D1 strings and rows,
// queue messages, token fields, suppression records), computed without encoding the text, so a
// 25 MB value is refused without allocating its encoding. Pure.

/** Bytes of `text` encoded as UTF-8 (a lone surrogate counts 3 bytes, as TextEncoder writes U+FFFD). */
export function utf8ByteLength(text: string): number {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) bytes += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes += 2; // a surrogate pair: 4 bytes for 2 UTF-16 units
      i++;
    } else bytes += 2;
  }
  return bytes;
}

/** Whether `text` takes at most `maxBytes` in UTF-8; never fewer bytes than UTF-16 units, so long text is refused at once. */
export function fitsUtf8Bytes(text: string, maxBytes: number): boolean {
  return text.length <= maxBytes && utf8ByteLength(text) <= maxBytes;
}

/** Bytes of a value's JSON text. */
export function jsonByteLength(value: unknown): number {
  return utf8ByteLength(JSON.stringify(value) ?? "");
}
