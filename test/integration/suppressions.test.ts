// Suppressions API (issue 4): every operation on the four lists in Mailgun's shapes and texts,
// paging, CSV import, and the send path seeing a change at once.
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { valueOrThrow } from "../../src/domain/refusal";
import { api, createDomain, form, uniqueDomain } from "../helpers";

type Json = Record<string, any>;
const json = async (response: Response, status = 200): Promise<Json> => {
  const body = await response.text();
  expect(response.status, body).toBe(status);
  return JSON.parse(body);
};
const RFC1123 = /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/;
const postJson = (path: string, body: unknown) => api(path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
const urlencoded = (path: string, fields: Record<string, string>, method = "POST") =>
  api(path, { method, headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams(fields).toString() });
const upload = (path: string, csv: string) => {
  const body = new FormData();
  body.append("file", new Blob([csv], { type: "text/csv" }), "list.csv");
  return api(path, { method: "POST", body });
};

async function newDomain(): Promise<string> {
  const domain = uniqueDomain("sup");
  await createDomain(domain);
  return domain;
}

describe("bounces", () => {
  it("adds, reads, lists, removes one and clears", async () => {
    const d = await newDomain();
    expect(
      await json(
        await api(`/v3/${d}/bounces`, {
          method: "POST",
          body: form({ address: "Bob@Example.org", code: "554", error: "No such mailbox", created_at: "Thu, 11 Dec 2025 01:49:40 UTC" }),
        }),
      ),
    ).toEqual({
      message: "Address has been added to the bounces table",
      address: "bob@example.org",
    });
    expect(await json(await api(`/v3/${d}/bounces/bob%40example.org`))).toEqual({
      address: "bob@example.org",
      code: "554",
      error: "No such mailbox",
      created_at: "Thu, 11 Dec 2025 01:49:40 GMT",
    });
    // Defaults: code 550, empty error, now; urlencoded works too.
    await json(await urlencoded(`/v3/${d}/bounces`, { address: "a+b@example.org" }));
    const dflt = await json(await api(`/v3/${d}/bounces/${encodeURIComponent("a+b@example.org")}`));
    expect(dflt).toMatchObject({ address: "a+b@example.org", code: "550", error: "" });
    expect(Math.abs(Date.parse(dflt.created_at) - Date.now())).toBeLessThan(5000);

    expect(
      await json(
        await postJson(
          `/v3/${d}/bounces`,
          ["c", "d", "e", "f"].map((l) => ({ address: `${l}@example.org`, code: 550, error: "err" })),
        ),
      ),
    ).toEqual({
      message: "4 addresses have been added to the bounces table",
    });
    const list = await json(await api(`/v3/${d}/bounces`));
    expect(list.items.map((i: Json) => i.address)).toEqual([
      "a+b@example.org",
      "bob@example.org",
      "c@example.org",
      "d@example.org",
      "e@example.org",
      "f@example.org",
    ]);
    expect(list.items[2]).toEqual({ address: "c@example.org", code: "550", error: "err", created_at: expect.stringMatching(RFC1123) });

    expect(await json(await api(`/v3/${d}/bounces/bob%40example.org`, { method: "DELETE" }))).toEqual({
      message: "Bounced address has been removed",
      address: "bob@example.org",
    });
    expect(await json(await api(`/v3/${d}/bounces/bob%40example.org`), 404)).toEqual({ message: "Address not found in bounces table" });
    expect(await json(await api(`/v3/${d}/bounces/bob%40example.org`, { method: "DELETE" }), 404)).toEqual({ message: "Address not found in bounces table" });
    expect(await json(await api(`/v3/${d}/bounces`, { method: "DELETE" }))).toEqual({ message: "Bounced addresses for this domain have been removed" });
    expect((await json(await api(`/v3/${d}/bounces`))).items).toEqual([]);
  });

  it("refuses bad input, big batches and unknown domains", async () => {
    const d = await newDomain();
    expect((await json(await api(`/v3/${d}/bounces`, { method: "POST", body: form({ address: "not-an-address" }) }), 400)).message).toMatch(
      /not a valid address/,
    );
    expect(await json(await api(`/v3/${d}/bounces`, { method: "POST", body: form({ code: "550" }) }), 400)).toEqual({
      message: "Missing mandatory parameter: address",
    });
    expect(
      (await json(await api(`/v3/${d}/bounces`, { method: "POST", body: form({ address: "x@example.org", created_at: "yesterday" }) }), 400)).message,
    ).toMatch(/created_at/);
    const many = Array.from({ length: 1001 }, (_, i) => ({ address: `u${i}@example.org` }));
    expect(await json(await postJson(`/v3/${d}/bounces`, many), 400)).toEqual({ message: "Batch size should be less than 1000" });
    expect(await json(await postJson(`/v3/${d}/bounces`, many.slice(0, 1000)))).toEqual({ message: "1000 addresses have been added to the bounces table" });
    expect(await json(await api(`/v3/${d}/bounces?limit=1001`), 400)).toEqual({ message: "'limit' must be an integer from 1 to 1000" });
    expect(await json(await api(`/v3/nope-${d}/bounces`), 404)).toEqual({ message: "Domain not found" });
    expect(await json(await api(`/v3/nope-${d}/bounces`, { method: "POST", body: form({ address: "x@example.org" }) }), 404)).toEqual({
      message: "Domain not found",
    });
  });

  it("takes effect for the next message at once, and never covers an allowlisted address", async () => {
    const d = await newDomain();
    const state = env.DOMAIN_STATE.get(env.DOMAIN_STATE.idFromName(d));
    await json(await api(`/v3/${d}/bounces`, { method: "POST", body: form({ address: "gone@example.org" }) }));
    expect(valueOrThrow(await state.checkRecipients(["gone@example.org"], []))[0]!.suppressed?.code).toBe(605);
    await json(await api(`/v3/${d}/bounces/gone%40example.org`, { method: "DELETE" }));
    expect(valueOrThrow(await state.checkRecipients(["gone@example.org"], []))[0]!.suppressed).toBeNull();

    await json(await api(`/v3/${d}/bounces`, { method: "POST", body: form({ address: "vip@trusted.org" }) }));
    await json(await api(`/v3/${d}/whitelists`, { method: "POST", body: form({ domain: "trusted.org" }) }));
    await json(await api(`/v3/${d}/bounces/vip%40trusted.org`), 404);
    await json(await postJson(`/v3/${d}/bounces`, [{ address: "other@trusted.org" }]));
    await json(await api(`/v3/${d}/bounces/other%40trusted.org`), 404);
  });
});

describe("unsubscribes", () => {
  it("takes `tag`, `tags` as JSON or repeated, lists, removes one tag, one address and all", async () => {
    const d = await newDomain();
    expect(await json(await api(`/v3/${d}/unsubscribes`, { method: "POST", body: form({ address: "all@example.org" }) }))).toEqual({
      message: "Address has been added to the unsubscribes table",
      address: "all@example.org",
    });
    await json(await api(`/v3/${d}/unsubscribes`, { method: "POST", body: form({ address: "one@example.org", tag: "Promo" }) }));
    await json(await api(`/v3/${d}/unsubscribes`, { method: "POST", body: form({ address: "json@example.org", tags: '["a","b"]' }) }));
    const repeated = new FormData();
    repeated.append("address", "rep@example.org");
    repeated.append("tags", "x");
    repeated.append("tags", "y");
    await json(await api(`/v3/${d}/unsubscribes`, { method: "POST", body: repeated }));
    expect(await json(await postJson(`/v3/${d}/unsubscribes`, [{ address: "m1@example.org", tags: ["t1", "t2"] }, { address: "m2@example.org" }]))).toEqual({
      message: "2 addresses have been added to the unsubscribes table",
    });

    expect(await json(await api(`/v3/${d}/unsubscribes/all%40example.org`))).toEqual({
      address: "all@example.org",
      tags: ["*"],
      created_at: expect.stringMatching(RFC1123),
    });
    expect((await json(await api(`/v3/${d}/unsubscribes/one%40example.org`))).tags).toEqual(["promo"]);
    expect((await json(await api(`/v3/${d}/unsubscribes/json%40example.org`))).tags).toEqual(["a", "b"]);
    expect((await json(await api(`/v3/${d}/unsubscribes/rep%40example.org`))).tags).toEqual(["x", "y"]);
    const list = await json(await api(`/v3/${d}/unsubscribes`));
    expect(list.items.map((i: Json) => [i.address, i.tags])).toEqual([
      ["all@example.org", ["*"]],
      ["json@example.org", ["a", "b"]],
      ["m1@example.org", ["t1", "t2"]],
      ["m2@example.org", ["*"]],
      ["one@example.org", ["promo"]],
      ["rep@example.org", ["x", "y"]],
    ]);

    expect(await json(await api(`/v3/${d}/unsubscribes/m1%40example.org?tag=t1`, { method: "DELETE" }))).toEqual({
      message: "Unsubscribe event has been removed",
      address: "m1@example.org",
    });
    expect((await json(await api(`/v3/${d}/unsubscribes/m1%40example.org`))).tags).toEqual(["t2"]);
    await json(await urlencoded(`/v3/${d}/unsubscribes/m1%40example.org`, { tag: "t2" }, "DELETE"));
    expect(await json(await api(`/v3/${d}/unsubscribes/m1%40example.org`), 404)).toEqual({ message: "Address not found in unsubscribers table" });
    await json(await api(`/v3/${d}/unsubscribes/json%40example.org`, { method: "DELETE" }));
    await json(await api(`/v3/${d}/unsubscribes/json%40example.org`), 404);
    expect(await json(await api(`/v3/${d}/unsubscribes`, { method: "DELETE" }))).toEqual({
      message: "Unsubscribe addresses for this domain have been removed",
    });
    expect((await json(await api(`/v3/${d}/unsubscribes`))).items).toEqual([]);
  });
});

describe("complaints", () => {
  it("adds one and many, reads, removes", async () => {
    const d = await newDomain();
    expect(
      await json(
        await api(`/v3/${d}/complaints`, { method: "POST", body: form({ address: "spam@example.org", created_at: "Mon, 08 Jul 2024 00:00:00 -0000" }) }),
      ),
    ).toEqual({
      message: "Address has been added to the complaints table",
      address: "spam@example.org",
    });
    expect(await json(await api(`/v3/${d}/complaints/spam%40example.org`))).toEqual({
      address: "spam@example.org",
      created_at: "Mon, 08 Jul 2024 00:00:00 GMT",
    });
    expect(await json(await postJson(`/v3/${d}/complaints`, [{ address: "c1@example.org" }, { address: "c2@example.org" }]))).toEqual({
      message: "2 complaint addresses have been added to the complaints table",
    });
    expect((await json(await api(`/v3/${d}/complaints`))).items.map((i: Json) => i.address)).toEqual(["c1@example.org", "c2@example.org", "spam@example.org"]);
    const state = env.DOMAIN_STATE.get(env.DOMAIN_STATE.idFromName(d));
    expect(valueOrThrow(await state.checkRecipients(["c1@example.org"], []))[0]!.suppressed?.code).toBe(607);
    expect(await json(await api(`/v3/${d}/complaints/c1%40example.org`, { method: "DELETE" }))).toEqual({
      message: "Spam complaint has been removed",
      address: "c1@example.org",
    });
    expect(await json(await api(`/v3/${d}/complaints/c1%40example.org`), 404)).toEqual({ message: "No spam complaints found for this address" });
    expect(await json(await api(`/v3/${d}/complaints`, { method: "DELETE" }))).toEqual({ message: "Complaint addresses for this domain have been removed" });
    expect((await json(await api(`/v3/${d}/complaints`))).items).toEqual([]);
  });
});

describe("whitelists", () => {
  it("adds an address or a domain, reads in camelCase, removes", async () => {
    const d = await newDomain();
    expect(await json(await api(`/v3/${d}/whitelists`, { method: "POST", body: form({ address: "Alice@Example.com", reason: "VIP" }) }))).toEqual({
      message: "Address/Domain has been added to the allowlists table",
      type: "address",
      value: "alice@example.com",
    });
    expect(await json(await api(`/v3/${d}/whitelists`, { method: "POST", body: form({ domain: "partner.org" }) }))).toEqual({
      message: "Address/Domain has been added to the allowlists table",
      type: "domain",
      value: "partner.org",
    });
    expect(await json(await api(`/v3/${d}/whitelists`, { method: "POST", body: form({ reason: "x" }) }), 400)).toEqual({
      message: "Missing mandatory parameter: address/domain",
    });
    expect((await json(await postJson(`/v3/${d}/whitelists`, [{ address: "x@example.org" }]), 400)).message).toBeTruthy();
    expect(await json(await api(`/v3/${d}/whitelists/alice%40example.com`))).toEqual({
      type: "address",
      value: "alice@example.com",
      reason: "VIP",
      createdAt: expect.stringMatching(RFC1123),
    });
    expect((await json(await api(`/v3/${d}/whitelists`))).items.map((i: Json) => [i.type, i.value])).toEqual([
      ["address", "alice@example.com"],
      ["domain", "partner.org"],
    ]);
    expect(await json(await api(`/v3/${d}/whitelists/partner.org`, { method: "DELETE" }))).toEqual({
      message: "Allowlist address/domain has been removed",
      value: "partner.org",
    });
    expect(await json(await api(`/v3/${d}/whitelists/partner.org`), 404)).toEqual({ message: "Address/Domain not found in allowlist table" });
    expect(await json(await api(`/v3/${d}/whitelists`, { method: "DELETE" }))).toEqual({
      message: "Allowlist addresses/domains for this domain have been removed",
    });
    expect((await json(await api(`/v3/${d}/whitelists`))).items).toEqual([]);
  });
});

describe("paging", () => {
  it("visits 250 records once each, alphabetically, forwards and backwards; term filters", async () => {
    const d = await newDomain();
    const addresses = Array.from({ length: 250 }, (_, i) => `user${String(i).padStart(3, "0")}@example.org`);
    // Added out of order: the list order must come from the addresses.
    await json(
      await postJson(
        `/v3/${d}/complaints`,
        [...addresses].reverse().map((address) => ({ address })),
      ),
    );
    const seen: string[] = [];
    let page = await json(await api(`/v3/${d}/complaints?limit=100`));
    expect(page.paging.first).toBe(`http://127.0.0.1/v3/${d}/complaints?page=first&limit=100`);
    expect(page.paging.last).toBe(`http://127.0.0.1/v3/${d}/complaints?page=last&limit=100`);
    for (let guard = 0; page.items.length > 0 && guard < 10; guard++) {
      seen.push(...page.items.map((i: Json) => i.address));
      const next = new URL(page.paging.next);
      expect(next.searchParams.get("page")).toBe("next");
      expect(next.searchParams.get("address")).toBe(seen[seen.length - 1]);
      page = await json(await api(`/v3/${d}/complaints${next.search}`));
    }
    expect(seen).toEqual(addresses);

    const last = await json(await api(`/v3/${d}/complaints?page=last&limit=100`));
    expect(last.items.map((i: Json) => i.address)).toEqual(addresses.slice(150));
    const previous = await json(await api(`/v3/${d}/complaints${new URL(last.paging.previous).search}`));
    expect(previous.items.map((i: Json) => i.address)).toEqual(addresses.slice(50, 150));
    const prev = await json(await api(`/v3/${d}/complaints?page=prev&address=${encodeURIComponent(addresses[50]!)}&limit=100`));
    expect(prev.items.map((i: Json) => i.address)).toEqual(addresses.slice(0, 50));

    const term = await json(await api(`/v3/${d}/complaints?term=user12&limit=5`));
    expect(term.items.map((i: Json) => i.address)).toEqual(addresses.slice(120, 125));
    expect(term.paging.next).toBe(`http://127.0.0.1/v3/${d}/complaints?page=next&address=user124%40example.org&limit=5&term=user12`);
    const termNext = await json(await api(`/v3/${d}/complaints${new URL(term.paging.next).search}`));
    expect(termNext.items.map((i: Json) => i.address)).toEqual(addresses.slice(125, 130));
    expect(await json(await api(`/v3/${d}/complaints?page=sideways`), 400)).toEqual({ message: "'page' must be first, next, previous or last" });
  });

  it("leaves the events and messages routes alone", async () => {
    const d = await newDomain();
    expect((await json(await api(`/v3/${d}/events`))).items).toEqual([]);
    expect((await api(`/v3/${d}/messages`, { method: "POST", body: form({}) })).status).toBe(400);
    expect(await json(await api(`/v3/${d}/bouncesx`), 404)).toEqual({ message: "Not found" });
  });
});

describe("CSV import", () => {
  it("keeps good rows, reports a bad one, reads quoted fields", async () => {
    const d = await newDomain();
    const csv =
      'address,code,error,created_at\r\ngood1@example.org,551,"Mailbox full, try later",Thu, 11 Dec 2025 01:49:40 UTC\r\nnot-an-address,550,x,\r\n"good2@example.org",,"said ""no""\nand left",\r\n';
    // The date column holds a comma without quotes in row 2: that row has too many fields.
    const body = await json(await upload(`/v3/${d}/bounces/import`, csv), 202);
    expect(body.message).toBe("file uploaded successfully for processing. standby...");
    expect(body.imported).toBe(1);
    expect(body.errors.map((e: Json) => e.line)).toEqual([2, 3]);
    expect(body.errors[0].message).toMatch(/wrong number of fields/);
    expect(body.errors[1].message).toMatch(/not a valid address/);
    expect(await json(await api(`/v3/${d}/bounces/good2%40example.org`))).toMatchObject({ code: "550", error: 'said "no"\nand left' });

    const fixed = 'address,code,error,created_at\ngood1@example.org,551,"Mailbox full, try later","Thu, 11 Dec 2025 01:49:40 UTC"\n';
    expect(await json(await upload(`/v3/${d}/bounces/import`, fixed), 202)).toMatchObject({ imported: 1, errors: [] });
    expect(await json(await api(`/v3/${d}/bounces/good1%40example.org`))).toEqual({
      address: "good1@example.org",
      code: "551",
      error: "Mailbox full, try later",
      created_at: "Thu, 11 Dec 2025 01:49:40 GMT",
    });
  });

  it("imports each list kind, in chunks past 1000 rows", async () => {
    const d = await newDomain();
    const rows = Array.from({ length: 1500 }, (_, i) => `u${i}@example.org,"[""news""]",`);
    expect(await json(await upload(`/v3/${d}/unsubscribes/import`, `address,tags,created_at\n${rows.join("\n")}\n`), 202)).toMatchObject({
      imported: 1500,
      errors: [],
    });
    expect((await json(await api(`/v3/${d}/unsubscribes/u1499%40example.org`))).tags).toEqual(["news"]);
    expect((await json(await api(`/v3/${d}/unsubscribes?limit=1000`))).items).toHaveLength(1000);
    expect(await json(await upload(`/v3/${d}/complaints/import`, "address\nc@example.org\n"), 202)).toMatchObject({ imported: 1 });
    await json(await api(`/v3/${d}/complaints/c%40example.org`));
    expect(await json(await upload(`/v3/${d}/whitelists/import`, "address,domain\na@example.org,\n,trusted.org\n,\n"), 202)).toMatchObject({
      imported: 2,
      errors: [{ line: 4, message: "Missing mandatory parameter: address/domain" }],
    });
    expect((await json(await api(`/v3/${d}/whitelists/trusted.org`))).type).toBe("domain");
  });

  it("refuses a bad header with 400", async () => {
    const d = await newDomain();
    const bad = await json(await upload(`/v3/${d}/bounces/import`, "address,colour\nx@example.org,red\n"), 400);
    expect(bad.message).toMatch(/^while reading csv header: unknown column "colour"/);
    expect((await json(await upload(`/v3/${d}/complaints/import`, "created_at\nMon, 08 Jul 2024\n"), 400)).message).toMatch(
      /^while reading csv header: missing column "address"/,
    );
    expect((await json(await upload(`/v3/${d}/complaints/import`, ""), 400)).message).toMatch(/^while reading csv header/);
    expect((await json(await api(`/v3/${d}/complaints`))).items).toEqual([]);
  });
});
