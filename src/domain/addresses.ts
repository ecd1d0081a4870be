// Email address lists as senders write them: `Bob <bob@example.com>, "Doe, Jane" <jane@x.org>, c@y.z`.
import { breaksHeader } from "./header-values";

/** Loose on purpose: the relay has the last word; this only refuses what cannot be an address. */
const ADDRESS = /^[^\s@<>(),;:"[\]]+@[^\s@<>(),;:"[\]]+\.[^\s@<>(),;:"[\]]+$/;

export interface ParsedAddress {
  /** The address as written in the list, display name included (for headers). */
  display: string;
  /** The bare address (for the envelope and events). */
  address: string;
}

/** Splits on commas outside quotes and angle brackets (a backslash escapes a quote inside quotes). */
export function splitAddressList(text: string): string[] {
  const parts: string[] = [];
  const push = (part: string) => {
    if (part.trim()) parts.push(part.trim());
  };
  let start = 0;
  let quoted = false;
  let escaped = false;
  let angle = 0;
  // Character codes and slices, not a string built character by character: a To header can hold
  // a thousand addresses and is split once per recipient's copy.
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (escaped) escaped = false;
    else if (quoted && c === 0x5c) escaped = true;
    else if (c === 0x22) quoted = !quoted;
    else if (!quoted && c === 0x3c) angle++;
    else if (!quoted && c === 0x3e) angle = Math.max(0, angle - 1);
    else if ((c === 0x2c || c === 0x3b) && !quoted && angle === 0) {
      push(text.slice(start, i));
      start = i + 1;
    }
  }
  push(text.slice(start));
  return parts;
}

/**
 * Returns null when the entry holds no valid address, or a CR, LF or NUL anywhere: a line break
 * in a display name would start a header line of its own in the sent message.
 */
export function parseAddress(entry: string): ParsedAddress | null {
  if (breaksHeader(entry)) return null;
  const display = entry.trim();
  const angle = /<([^<>]*)>\s*$/.exec(display);
  const address = (angle ? angle[1]! : display).trim();
  return ADDRESS.test(address) ? { display, address } : null;
}

export function isAddress(text: string): boolean {
  return ADDRESS.test(text.trim());
}

/** `Name <address>` as a list entry, the name quoted when it holds characters that would split or end it. */
export function mailboxEntry(name: string, address: string): string {
  if (!name) return address;
  return /["\\,;<>()[\]:@]/.test(name) ? `"${name.replace(/(["\\])/g, "\\$1")}" <${address}>` : `${name} <${address}>`;
}
