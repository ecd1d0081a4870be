// The Suppressions API's limits, checked at the boundary with the Durable Object's own definitions
// (src/domain/suppression-limits.ts): too long an address, too many or too long tags, too long an
// error or reason, term or page boundary are a 400 in Mailgun's shape on every carrier, and write
// nothing. A refusal by the Durable Object itself crosses RPC as a value and is a 400 too (issue 11,
// item 1).
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { ApiError, acceptedByState } from "../../src/api/errors";
import { isRefused } from "../../src/domain/refusal";
import { api, createDomain, form, uniqueDomain } from "../helpers";

type Json = Record<string, any>;
const call = async (path: string, init: RequestInit = {}) => {
  const response = await api(path, init);
  return { status: response.status, body: (await response.json()) as Json };
};
const postJson = (path: string, body: unknown) => call(path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
const upload = (path: string, csv: string) => {
  const body = new FormData();
  body.append("file", new Blob([csv], { type: "text/csv" }), "list.csv");
  return call(path, { method: "POST", body });
};

/** 64 + "@" + 255 = 320 bytes: the longest address a list holds. */
const LONGEST = `${"a".repeat(64)}@${`${"b".repeat(63)}.`.repeat(3)}${"c".repeat(63)}`;
/** 321 bytes. */
const TOO_LONG = `a${LONGEST}`;
/** 190 characters but 378 bytes: a limit in characters would let it through. */
const TOO_MANY_BYTES = `${"é".repeat(180)}@example.org`;
const KINDS = ["bounces", "unsubscribes", "complaints", "whitelists"] as const;
const ADDRESS_TOO_LONG = { status: 400, body: { message: "'address' must be at most 320 bytes" } };

async function newDomain(): Promise<string> {
  const domain = uniqueDomain("lim");
  await createDomain(domain);
  return domain;
}

async function listed(domain: string, kind: string): Promise<string[]> {
  const { body } = await call(`/v3/${domain}/${kind}`);
  return body.items.map((item: Json) => item.address ?? item.value);
}

describe("suppression limits at the API boundary", () => {
  it("takes an address of exactly 320 bytes", async () => {
    expect(new TextEncoder().encode(LONGEST).length).toBe(320);
    const d = await newDomain();
    for (const kind of KINDS) {
      expect((await call(`/v3/${d}/${kind}`, { method: "POST", body: form({ address: LONGEST }) })).status, kind).toBe(200);
      expect((await call(`/v3/${d}/${kind}/${encodeURIComponent(LONGEST)}`)).status, kind).toBe(200);
      expect((await call(`/v3/${d}/${kind}/${encodeURIComponent(LONGEST)}`, { method: "DELETE" })).status, kind).toBe(200);
    }
  });

  it("refuses a longer address, counted in bytes, on every list and carrier, and writes nothing", async () => {
    const d = await newDomain();
    for (const address of [TOO_LONG, TOO_MANY_BYTES]) {
      for (const kind of KINDS) {
        expect(await call(`/v3/${d}/${kind}`, { method: "POST", body: form({ address }) }), `${kind} form`).toEqual(ADDRESS_TOO_LONG);
        expect(
          await call(`/v3/${d}/${kind}`, {
            method: "POST",
            headers: { "content-type": "application/x-www-form-urlencoded" },
            body: new URLSearchParams({ address }).toString(),
          }),
          `${kind} urlencoded`,
        ).toEqual(ADDRESS_TOO_LONG);
        expect(await call(`/v3/${d}/${kind}/${encodeURIComponent(address)}`), `${kind} GET`).toEqual(ADDRESS_TOO_LONG);
        expect(await call(`/v3/${d}/${kind}/${encodeURIComponent(address)}`, { method: "DELETE" }), `${kind} DELETE`).toEqual(ADDRESS_TOO_LONG);
        const imported = await upload(`/v3/${d}/${kind}/import`, `address\nok@example.org\n${address}\n`);
        expect(imported.status, `${kind} import`).toBe(202);
        expect(imported.body.errors, `${kind} import`).toEqual([{ line: 3, message: "'address' must be at most 320 bytes" }]);
        await call(`/v3/${d}/${kind}`, { method: "DELETE" });
      }
      for (const kind of ["bounces", "unsubscribes", "complaints"]) {
        expect(await postJson(`/v3/${d}/${kind}`, [{ address: "ok@example.org" }, { address }]), `${kind} JSON`).toEqual({
          status: 400,
          body: { message: "record 1: 'address' must be at most 320 bytes" },
        });
        expect(await listed(d, kind), kind).toEqual([]);
      }
    }
  });

  it("refuses more than 100 tags, or a tag over 256 bytes, on one unsubscribe", async () => {
    const d = await newDomain();
    const tags = Array.from({ length: 101 }, (_, i) => `t${i}`);
    expect(await postJson(`/v3/${d}/unsubscribes`, { address: "many@example.org", tags })).toEqual({
      status: 400,
      body: { message: "At most 100 tags per unsubscribe" },
    });
    expect(await postJson(`/v3/${d}/unsubscribes`, [{ address: "many@example.org", tags }])).toEqual({
      status: 400,
      body: { message: "record 0: At most 100 tags per unsubscribe" },
    });
    const many = new FormData();
    many.append("address", "many@example.org");
    for (const tag of tags) many.append("tag", tag);
    expect(await call(`/v3/${d}/unsubscribes`, { method: "POST", body: many })).toEqual({ status: 400, body: { message: "At most 100 tags per unsubscribe" } });
    expect(await call(`/v3/${d}/unsubscribes`, { method: "POST", body: form({ address: "long@example.org", tag: "é".repeat(129) }) })).toEqual({
      status: 400,
      body: { message: "A tag must be at most 256 bytes" },
    });
    expect(await listed(d, "unsubscribes")).toEqual([]);
    expect((await postJson(`/v3/${d}/unsubscribes`, { address: "many@example.org", tags: tags.slice(0, 100) })).status).toBe(200);
    const removeTag = await call(`/v3/${d}/unsubscribes/many%40example.org?tag=${encodeURIComponent("é".repeat(129))}`, { method: "DELETE" });
    expect(removeTag).toEqual({ status: 400, body: { message: "A tag must be at most 256 bytes" } });
  });

  it("refuses an error or reason over 2000 bytes", async () => {
    const d = await newDomain();
    expect(await call(`/v3/${d}/bounces`, { method: "POST", body: form({ address: "b@example.org", error: "é".repeat(1001) }) })).toEqual({
      status: 400,
      body: { message: "'error' must be at most 2000 bytes" },
    });
    expect(await call(`/v3/${d}/whitelists`, { method: "POST", body: form({ address: "w@example.org", reason: "é".repeat(1001) }) })).toEqual({
      status: 400,
      body: { message: "'reason' must be at most 2000 bytes" },
    });
    expect(await listed(d, "bounces")).toEqual([]);
    expect(await listed(d, "whitelists")).toEqual([]);
  });

  it("refuses a list's term or page boundary over 320 bytes", async () => {
    const d = await newDomain();
    for (const kind of KINDS) {
      expect(await call(`/v3/${d}/${kind}?term=${encodeURIComponent(TOO_MANY_BYTES)}`), kind).toEqual({
        status: 400,
        body: { message: "'term' must be at most 320 bytes" },
      });
      expect(await call(`/v3/${d}/${kind}?page=next&address=${encodeURIComponent(TOO_LONG)}`), kind).toEqual(ADDRESS_TOO_LONG);
    }
  });
});

describe("a refusal by the Durable Object", () => {
  it("crosses RPC as a value the API answers with a 400", async () => {
    const stub = env.DOMAIN_STATE.get(env.DOMAIN_STATE.idFromName(uniqueDomain("refuse")));
    const answers = [
      await stub.addBounces([{ address: TOO_MANY_BYTES, code: 550, error: "", createdAt: 1 }]),
      await stub.addUnsubscribes([{ address: "u@example.org", tags: Array.from({ length: 101 }, (_, i) => `t${i}`), createdAt: 1 }]),
      await stub.listSuppressions("bounces", { page: "constructor" as "first", limit: 10 }),
      await stub.getSuppression("complaints", TOO_LONG),
      await stub.deleteSuppression("unsubscribes", "u@example.org", "é".repeat(129)),
      await stub.clearSuppressions("__proto__" as "bounces"),
      await stub.checkRecipients([TOO_LONG], []),
    ];
    for (const [i, answer] of answers.entries()) {
      expect(isRefused(answer), String(i)).toBe(true);
      let thrown: unknown;
      try {
        acceptedByState(answer);
      } catch (error) {
        thrown = error;
      }
      expect(thrown, String(i)).toBeInstanceOf(ApiError);
      expect((thrown as ApiError).status, String(i)).toBe(400);
    }
    expect(answers[0]).toEqual({ refused: "0.address: must be at most 320 bytes" });
    expect(answers[1]).toEqual({ refused: "0.tags: At most 100 tags per unsubscribe" });
    expect(await stub.listSuppressions("bounces", { page: "first", limit: 10 })).toEqual([]);
  });
});
