// UTF-8 lengths of strings, counted without encoding them: limits that storage counts in bytes are
// checked in bytes, and a 25 MB value is refused without allocating its encoding. Pure.

/** The length of `text` encoded as UTF-8 (a lone surrogate counts 3, as TextEncoder writes U+FFFD). */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

/** Whether `text` takes at most `maxBytes` in UTF-8; never fewer bytes than UTF-16 units, so long text is refused at once. */
export function fitsUtf8Bytes(text: string, maxBytes: number): boolean {
  return text.length <= maxBytes && utf8Length(text) <= maxBytes;
}
