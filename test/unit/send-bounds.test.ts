// Pure parts of the send path's bounds and packing (issue 11, items 2-6): byte lengths, JSON depth,
// recipient templates measured without being filled, event packs that unpack to exactly what
// was packed, and JSON parameters chunked by bytes.
import { describe, expect, it } from "vitest";
import { jsonChunks } from "../../src/db/json-chunks";
import { MAX_EVENTS_PER_PACK, mergeEvent, packEvents, splitEvents } from "../../src/domain/event-packs";
import { jsonNestsDeeperThan, MAX_JSON_DEPTH, parseBoundedJson } from "../../src/domain/json-bounds";
import { filledBytes, fillTemplate, parseTemplate, variableSizes } from "../../src/domain/recipient-template";
import { acceptedEvent, deliveredEvent, failedEvent, type MessageFacts } from "../../src/domain/send-events";
import { MAX_TOKEN_FIELD_BYTES, tokenFieldTooLong } from "../../src/domain/token";
import { utf8ByteLength } from "../../src/domain/utf8";
import { seededRandom } from "../support/prng";

/** Text mixing ASCII, 2- and 3-byte characters, astral pairs and lone surrogates. */
function randomText(next: () => number, length: number): string {
  const pieces = ["a", "%", "{", '"', "\\", "é", "ü", "€", "☃", "😀", "\ud800", "\udc00", "%recipient.name%", "%recipient.x.y%", "[", "]", "}"];
  let text = "";
  for (let i = 0; i < length; i++) text += pieces[Math.floor(next() * pieces.length)]!;
  return text;
}

describe("UTF-8 byte lengths", () => {
  it("match what TextEncoder writes, lone surrogates included", () => {
    const next = seededRandom(11);
    const encoder = new TextEncoder();
    for (let i = 0; i < 500; i++) {
      const text = randomText(next, Math.floor(next() * 40));
      expect(utf8ByteLength(text), JSON.stringify(text)).toBe(encoder.encode(text).length);
    }
  });

  it("hold tokens to their field limit in bytes, not characters", () => {
    const fields = { webPrefix: "email", domain: "mg.example.com", messageId: "m@mg.example.com", recipient: `${"é".repeat(121)}a@example.org` };
    expect(utf8ByteLength(fields.recipient)).toBe(MAX_TOKEN_FIELD_BYTES);
    expect(tokenFieldTooLong(fields)).toBeNull();
    expect(tokenFieldTooLong({ ...fields, recipient: `é${fields.recipient}` })).toBe("recipient");
    expect(tokenFieldTooLong({ ...fields, messageId: "☃".repeat(86) })).toBe("message_id");
  });
});

describe("JSON depth and size", () => {
  it("counts brackets outside strings only, escaped quotes included", () => {
    expect(jsonNestsDeeperThan('{"a":[1,{"b":2}]}', 3)).toBe(false);
    expect(jsonNestsDeeperThan('{"a":[1,{"b":[]}]}', 3)).toBe(true);
    expect(jsonNestsDeeperThan(`{"a":"${"[".repeat(100)}"}`, 1)).toBe(false);
    expect(jsonNestsDeeperThan(`{"a":"\\"${"{".repeat(100)}"}`, 1)).toBe(false);
    expect(jsonNestsDeeperThan(`{"a\\\\":${"[".repeat(3)}]]]}`, 3)).toBe(true);
  });

  it("agrees with the depth JSON.parse finds, on random documents", () => {
    const next = seededRandom(7);
    const depthOf = (value: unknown): number =>
      value !== null && typeof value === "object" ? 1 + Math.max(0, ...Object.values(value as object).map(depthOf)) : 0;
    const build = (depth: number): unknown => {
      if (depth === 0) return next() < 0.5 ? randomText(next, 6) : Math.floor(next() * 100);
      const child = () => build(Math.floor(next() * depth));
      const value: unknown = next() < 0.5 ? [build(depth - 1), child()] : { [randomText(next, 3)]: build(depth - 1), k: child() };
      return value;
    };
    for (let i = 0; i < 200; i++) {
      const text = JSON.stringify(build(Math.floor(next() * 12)));
      const depth = depthOf(JSON.parse(text));
      expect(jsonNestsDeeperThan(text, depth), text).toBe(false);
      if (depth > 0) expect(jsonNestsDeeperThan(text, depth - 1), text).toBe(true);
    }
  });

  it("refuses by size before depth, and by depth before parsing", () => {
    expect(parseBoundedJson("[1,2]", 4)).toEqual({ ok: false, problem: "too-large" });
    expect(parseBoundedJson('"ééé"', 7)).toEqual({ ok: false, problem: "too-large" });
    expect(parseBoundedJson("[".repeat(MAX_JSON_DEPTH + 1), 1000)).toEqual({ ok: false, problem: "too-deep" });
    expect(parseBoundedJson("[".repeat(MAX_JSON_DEPTH), 1000)).toEqual({ ok: false, problem: "invalid" });
    expect(parseBoundedJson('{"a":[1]}', 100)).toEqual({ ok: true, value: { a: [1] } });
  });
});

describe("recipient templates", () => {
  it("know the bytes a template fills to without filling it", () => {
    const next = seededRandom(3);
    for (let i = 0; i < 300; i++) {
      const text = randomText(next, Math.floor(next() * 30));
      const variables: Record<string, unknown> =
        next() < 0.2 ? {} : { name: randomText(next, 5), "x.y": next() < 0.5 ? 42 : { deep: [randomText(next, 2)] }, constructor: "own" };
      const template = parseTemplate(text);
      expect(filledBytes(template, variables, variableSizes(variables)), text).toBe(utf8ByteLength(fillTemplate(text, variables)));
      expect(filledBytes(template, undefined)).toBe(utf8ByteLength(fillTemplate(text, undefined)));
    }
  });

  it("empty unknown names and never read inherited properties", () => {
    expect(fillTemplate("%recipient.toString%|%recipient.constructor%|%recipient.a%", { a: null })).toBe("||");
    expect(fillTemplate("%recipient.n%", { n: { v: 1 } })).toBe('{"v":1}');
    expect(fillTemplate("%recipient.n%", undefined)).toBe("%recipient.n%");
  });
});

describe("event packs", () => {
  const everyone = Array.from({ length: 300 }, (_, i) => `r${i}@example.org`);
  const facts = (recipient: string, batch: boolean): MessageFacts => ({
    domain: "mg.example.com",
    messageId: "m1@mg.example.com",
    headers: {
      to: batch ? recipient : everyone.join(", "),
      from: "Shop <shop@mg.example.com>",
      subject: batch ? `Hi ${recipient}` : "Hi",
      "message-id": "m1@mg.example.com",
    },
    tags: ["news"],
    userVariables: batch ? { who: recipient } : { campaign: "c1" },
    size: 1000 + recipient.length,
    storage: { key: "20260101-abc", url: "https://api.example/v3/domains/mg.example.com/messages/20260101-abc" },
  });
  const eventsOf = (batch: boolean) =>
    everyone.flatMap((recipient, i) => {
      const accepted = acceptedEvent(
        facts(recipient, batch),
        recipient,
        { recipients: batch ? [recipient] : everyone, method: "http", sender: "shop@mg.example.com", attachments: [] },
        { id: `id-accepted-${i}-xxxxxxxx`, ms: 1_800_000_000_000 },
      );
      const other =
        i % 3 === 0
          ? failedEvent(
              facts(recipient, batch),
              recipient,
              { severity: "permanent", reason: "suppress-bounce", status: { code: 605, message: "", description: "gone", attemptNo: 1 } },
              { id: `id-failed-${i}-xxxxxxxxx`, ms: 1_800_000_000_001 + i },
            )
          : deliveredEvent(
              facts(recipient, batch),
              recipient,
              { code: 250, message: "OK", attemptNo: 1 },
              { id: `id-delivered-${i}-xxxxxx`, ms: 1_800_000_000_001 + i },
            );
      return [accepted, other];
    });

  for (const batch of [false, true]) {
    it(`unpack to exactly the events packed (${batch ? "batch send" : "one To header"})`, () => {
      const events = eventsOf(batch);
      const { common, deltas } = splitEvents(events);
      expect(deltas.map((delta) => mergeEvent(common, delta))).toEqual(JSON.parse(JSON.stringify(events)));
      const packs = packEvents("mg.example.com", events, 120_000);
      const unpacked = packs.flatMap((pack) => (JSON.parse(JSON.stringify(pack)) as typeof pack).events.map((delta) => mergeEvent(pack.common, delta)));
      const byId = (a: Record<string, unknown>, b: Record<string, unknown>) => String(a.id).localeCompare(String(b.id));
      expect(unpacked.sort(byId)).toEqual(JSON.parse(JSON.stringify(events)).sort(byId));
      for (const pack of packs) {
        expect(pack.events.length).toBeLessThanOrEqual(MAX_EVENTS_PER_PACK);
        expect(utf8ByteLength(JSON.stringify(pack))).toBeLessThanOrEqual(120_000);
        expect(new Set(pack.events.map((delta) => mergeEvent(pack.common, delta).event)).size).toBe(1);
      }
      // 600 events: a handful of packs, the recipient list sent once per pack.
      expect(packs.length).toBeLessThanOrEqual(batch ? 8 : 10);
    });
  }

  it("refuses an event that cannot fit a queue message alone", () => {
    const [event] = eventsOf(false);
    expect(() => packEvents("mg.example.com", [event!], 5_000)).toThrow(RangeError);
  });
});

describe("JSON parameters for D1", () => {
  it("are chunked by bytes, each within the limit, rows kept whole and in order", () => {
    const rows = Array.from({ length: 400 }, (_, i) => ["é".repeat(i % 50), i]);
    const chunks = jsonChunks(rows, 2_000);
    expect(chunks.length).toBeGreaterThan(10);
    for (const chunk of chunks) expect(utf8ByteLength(chunk)).toBeLessThanOrEqual(2_000);
    expect(chunks.flatMap((chunk) => JSON.parse(chunk))).toEqual(rows);
    expect(() => jsonChunks([["x".repeat(3_000)]], 2_000)).toThrow(RangeError);
  });
});
