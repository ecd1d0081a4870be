// Pure parts of the send path: addresses, MIME building, the retry schedule, VERP addresses.
import PostalMime from "postal-mime";
import { describe, expect, it } from "vitest";
import { parseAddress, splitAddressList } from "../../src/domain/addresses";
import { encodeBase64Url } from "../../src/domain/base64url";
import { nextStepAfterTemporaryFailure, RETRY_SCHEDULE_SECONDS } from "../../src/domain/delivery-job";
import { formatHeader } from "../../src/domain/header-encoding";
import { buildMime, encodeQuotedPrintable } from "../../src/domain/mime";
import { domainKey } from "../../src/domain/token";
import { parseVerpAddress, returnPathId, verpAddress } from "../../src/domain/verp";

describe("address lists", () => {
  it("splits on commas outside quotes and angle brackets", () => {
    expect(splitAddressList('Bob <bob@x.org>, "Doe, Jane" <jane@y.org>;c@z.org,, ')).toEqual(["Bob <bob@x.org>", '"Doe, Jane" <jane@y.org>', "c@z.org"]);
  });
  it("extracts the bare address and refuses non-addresses", () => {
    expect(parseAddress('"Doe, Jane" <jane@y.org>')).toEqual({ display: '"Doe, Jane" <jane@y.org>', address: "jane@y.org" });
    expect(parseAddress("c@z.org")).toEqual({ display: "c@z.org", address: "c@z.org" });
    for (const bad of ["", "no-at-sign", "a@b", "<>", "two words@x.org"]) expect(parseAddress(bad)).toBeNull();
  });
});

describe("MIME", () => {
  it("builds a message that a MIME parser reads back exactly", async () => {
    const mime = buildMime({
      headers: [
        ["From", "Zoë <zoe@x.org>"],
        ["To", "a@b.org"],
        ["Subject", "Grüße, ☃ and a long subject line that needs more than one encoded word to fit"],
      ],
      text: "Line one\nLine two with = sign and trailing space \n" + "x".repeat(200),
      html: "<p>Héllo</p>",
      attachments: [
        { filename: "data.bin", contentType: "application/octet-stream", content: new Uint8Array([0, 1, 2, 255]), inline: false },
        { filename: "logo.png", contentType: "image/png", content: new Uint8Array([137, 80, 78, 71]), inline: true },
      ],
    });
    expect(mime).not.toMatch(/[^\r]\n/); // CRLF only
    expect(mime.split("\r\n").every((line) => line.length <= 998)).toBe(true);
    const parsed = await PostalMime.parse(mime);
    expect(parsed.subject).toBe("Grüße, ☃ and a long subject line that needs more than one encoded word to fit");
    expect(parsed.from).toMatchObject({ name: "Zoë", address: "zoe@x.org" });
    // postal-mime ends every text part with a newline, whatever the message says.
    expect(parsed.text).toBe("Line one\nLine two with = sign and trailing space \n" + "x".repeat(200) + "\n");
    expect(parsed.html).toBe("<p>Héllo</p>\n");
    const files = parsed.attachments.map((a) => [a.filename, a.mimeType, a.disposition, Array.from(new Uint8Array(a.content as ArrayBuffer))]);
    expect(files).toContainEqual(["data.bin", "application/octet-stream", "attachment", [0, 1, 2, 255]]);
    expect(files).toContainEqual(["logo.png", "image/png", "inline", [137, 80, 78, 71]]);
  });

  it("encodes headers and quoted-printable by the rules", () => {
    expect(formatHeader("Subject", "plain ascii")).toBe("Subject: plain ascii");
    expect(formatHeader("Subject", "a\r\nBcc: injected")).toBe("Subject: a  Bcc: injected");
    expect(formatHeader("Subject", "é")).toBe("Subject: =?UTF-8?B?w6k=?=");
    expect(encodeQuotedPrintable("a=b é")).toBe("a=3Db =C3=A9");
    expect(encodeQuotedPrintable("ends with space ")).toBe("ends with space=20");
    expect(
      encodeQuotedPrintable("y".repeat(100))
        .split("\r\n")
        .every((l) => l.length <= 76),
    ).toBe(true);
  });
});

describe("retry schedule", () => {
  const hour = 3600_000;
  it("follows Mailgun's 10 min, 15 min, 30 min, 1 h, 2 h, 4 h, then gives up as old", () => {
    const accepted = 1_000_000;
    let now = accepted;
    const delays: number[] = [];
    for (let attempt = 1; ; attempt++) {
      const step = nextStepAfterTemporaryFailure(attempt, accepted, now);
      if (step.kind === "expired") break;
      delays.push(step.delaySeconds);
      now += step.delaySeconds * 1000;
    }
    expect(delays).toEqual([...RETRY_SCHEDULE_SECONDS]);
    expect(delays).toEqual([600, 900, 1800, 3600, 7200, 14400]);
  });
  it("expires early when the 8-hour window would be passed", () => {
    expect(nextStepAfterTemporaryFailure(6, 0, 5 * hour)).toEqual({ kind: "expired" });
    expect(nextStepAfterTemporaryFailure(2, 0, 7.9 * hour)).toEqual({ kind: "expired" });
    expect(nextStepAfterTemporaryFailure(2, 0, 1 * hour)).toEqual({ kind: "retry", delaySeconds: 900 });
  });
});

describe("VERP addresses", () => {
  const target = { domain: "mg.example.com", messageId: "20261126072711123.Ab3dEf@mg.example.com", recipient: "Bob@Example.org" };
  const local = (address: string) => address.slice(0, address.lastIndexOf("@"));

  it("keep the local part within RFC 5321's 64 octets for the longest domain, message id and recipient", async () => {
    const longest = {
      domain: `${"d".repeat(63)}.${"e".repeat(63)}.${"f".repeat(63)}.${"g".repeat(57)}.com`.slice(0, 253),
      messageId: `${"m".repeat(200)}é${"n".repeat(40)}@x.org`,
      recipient: `${"r".repeat(64)}@${"s".repeat(251)}.org`,
    };
    for (const t of [target, longest]) {
      const address = await verpAddress(t, "s3cret");
      expect(new TextEncoder().encode(local(address)).length).toBeLessThanOrEqual(64);
      expect(address.endsWith(`@${t.domain}`)).toBe(true);
    }
  });

  it("name the delivery by a lower-case signed id that survives case-folding and round-trips", async () => {
    const address = await verpAddress(target, "s3cret");
    expect(address).toMatch(/^bounce\+[a-z2-7]{32}@mg\.example\.com$/);
    const id = await returnPathId(target, "s3cret");
    expect(id).toMatch(/^[a-z2-7]{16}$/);
    expect(await parseVerpAddress(address, "s3cret")).toEqual({ kind: "id", domain: "mg.example.com", id });
    // Some MTAs upper-case local parts; the recipient's case does not change the id.
    expect(await parseVerpAddress(address.toUpperCase(), "s3cret")).toEqual({ kind: "id", domain: "mg.example.com", id });
    expect(await returnPathId({ ...target, recipient: "bob@example.org" }, "s3cret")).toBe(id);
    // Another message or recipient is another id.
    expect(await returnPathId({ ...target, recipient: "ann@example.org" }, "s3cret")).not.toBe(id);
    expect(await returnPathId({ ...target, messageId: "other@mg.example.com" }, "s3cret")).not.toBe(id);
  });

  it("refuse tampered, truncated, foreign and unsigned ones", async () => {
    const address = await verpAddress(target, "s3cret");
    expect(await parseVerpAddress(address, "other")).toBeNull();
    expect(await parseVerpAddress(address.replace("@mg.example.com", "@evil.example"), "s3cret")).toBeNull();
    const payload = local(address).slice("bounce+".length);
    for (let i = 0; i < payload.length; i++) {
      const swapped = payload[i] === "a" ? "b" : "a";
      const tampered = `bounce+${payload.slice(0, i)}${swapped}${payload.slice(i + 1)}@mg.example.com`;
      expect(await parseVerpAddress(tampered, "s3cret"), tampered).toBeNull();
    }
    for (const junk of [
      "",
      "bob@example.org",
      "bounce+@x.org",
      "bounce+!!!@x.org",
      `bounce+${payload.slice(0, 31)}@mg.example.com`,
      `bounce+${payload}a@mg.example.com`,
    ]) {
      expect(await parseVerpAddress(junk, "s3cret"), junk).toBeNull();
    }
  });

  it("name the day the message was accepted, signed with the id, so a report is looked up in that day's shards", async () => {
    const sentAt = Date.UTC(2026, 10, 28, 23, 59, 59);
    const day = Math.floor(sentAt / 86_400_000);
    const address = await verpAddress({ ...target, sentAt }, "s3cret", "bounces.example.net");
    expect(address).toMatch(/^bounce\+[a-z2-7]{35}@bounces\.example\.net$/);
    expect(new TextEncoder().encode(local(address)).length).toBe(42);
    const id = await returnPathId(target, "s3cret");
    const now = sentAt + 3 * 86_400_000;
    expect(await parseVerpAddress(address, "s3cret", now)).toEqual({ kind: "id", domain: "bounces.example.net", id, day });
    expect(await parseVerpAddress(address.toUpperCase(), "s3cret", now)).toEqual({ kind: "id", domain: "bounces.example.net", id, day });
    // The day is three characters modulo 32,768 days: read back as the latest such day not after tomorrow.
    expect((await parseVerpAddress(address, "s3cret", sentAt - 86_400_000))?.kind).toBe("id");
    expect(await parseVerpAddress(address, "s3cret", sentAt + 32_768 * 86_400_000)).toMatchObject({ day: day + 32_768 });
    // The same delivery on another day is another address, with the same id; a changed day is refused.
    const next = await verpAddress({ ...target, sentAt: sentAt + 1000 }, "s3cret", "bounces.example.net");
    expect(next).not.toBe(address);
    expect(await parseVerpAddress(next, "s3cret", now)).toEqual({ kind: "id", domain: "bounces.example.net", id, day: day + 1 });
    const payload = local(address).slice("bounce+".length);
    for (let i = 16; i < 19; i++) {
      const swapped = payload[i] === "a" ? "b" : "a";
      expect(await parseVerpAddress(`bounce+${payload.slice(0, i)}${swapped}${payload.slice(i + 1)}@bounces.example.net`, "s3cret", now)).toBeNull();
    }
    // A day-less tag does not verify a day-carrying id, nor the reverse.
    const dayless = local(await verpAddress(target, "s3cret", "bounces.example.net")).slice("bounce+".length);
    expect(await parseVerpAddress(`bounce+${payload.slice(0, 19)}${dayless.slice(16)}@bounces.example.net`, "s3cret", now)).toBeNull();
  });

  it("still read the long self-contained form of mail sent before the change", async () => {
    const legacy = await legacyVerpAddress(target, "s3cret");
    expect(await parseVerpAddress(legacy, "s3cret")).toEqual({ kind: "legacy", ...target });
    expect(await parseVerpAddress(legacy, "other")).toBeNull();
  });
});

/** The envelope sender as it was made before return paths had ids: base64url(message id NUL recipient, 10-byte tag). */
async function legacyVerpAddress(t: { domain: string; messageId: string; recipient: string }, secret: string): Promise<string> {
  const payload = new TextEncoder().encode(`${t.messageId}\u0000${t.recipient}`);
  const key = await domainKey(secret, `verp:${t.domain}`);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, payload)).subarray(0, 10);
  const bytes = new Uint8Array(payload.length + 10);
  bytes.set(payload);
  bytes.set(mac, payload.length);
  return `bounce+${encodeBase64Url(bytes)}@${t.domain}`;
}
