// Pure parts of the send path: addresses, MIME building, the retry schedule, VERP addresses.
import PostalMime from "postal-mime";
import { describe, expect, it } from "vitest";
import { parseAddress, splitAddressList } from "../../src/domain/addresses";
import { nextStepAfterTemporaryFailure, RETRY_SCHEDULE_SECONDS } from "../../src/domain/delivery-job";
import { formatHeader } from "../../src/domain/header-encoding";
import { buildMime, encodeQuotedPrintable } from "../../src/domain/mime";
import { parseVerpAddress, verpAddress } from "../../src/domain/verp";

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
      headers: [["From", "Zoë <zoe@x.org>"], ["To", "a@b.org"], ["Subject", "Grüße, ☃ and a long subject line that needs more than one encoded word to fit"]],
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
    expect(encodeQuotedPrintable("y".repeat(100)).split("\r\n").every((l) => l.length <= 76)).toBe(true);
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
  it("round-trip the delivery and refuse forged or foreign ones", async () => {
    const address = await verpAddress({ domain: "mg.example.com", messageId: "m1@mg.example.com", recipient: "Bob@Example.org" }, "s3cret");
    expect(address).toMatch(/^bounce\+[A-Za-z0-9_-]+@mg\.example\.com$/);
    expect(await parseVerpAddress(address, "s3cret")).toEqual({ domain: "mg.example.com", messageId: "m1@mg.example.com", recipient: "Bob@Example.org" });
    expect(await parseVerpAddress(address, "other")).toBeNull();
    expect(await parseVerpAddress(address.replace("@mg.example.com", "@evil.example"), "s3cret")).toBeNull();
    // Change a character in the middle: the last one may only carry padding bits.
    const i = "bounce+".length + 3;
    const tampered = address.slice(0, i) + (address[i] === "A" ? "B" : "A") + address.slice(i + 1);
    expect(await parseVerpAddress(tampered, "s3cret")).toBeNull();
    for (const junk of ["", "bob@example.org", "bounce+@x.org", "bounce+!!!@x.org"]) expect(await parseVerpAddress(junk, "s3cret")).toBeNull();
  });
});
