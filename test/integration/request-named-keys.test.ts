// Names a request chooses (a page, an aggregate type, a filter attribute) are looked up in Maps or
// with Object.hasOwn, so built-in property names such as constructor, __proto__ and toString are
// refused like any other unknown name (issue 11, item 8).
import { describe, expect, it } from "vitest";
import { api, createDomain, uniqueDomain } from "../helpers";

const BUILT_INS = ["constructor", "__proto__", "toString", "hasOwnProperty", "valueOf"];

const call = async (path: string, init: RequestInit = {}) => {
  const response = await api(path, init);
  return { status: response.status, body: (await response.json()) as { message?: string } };
};

async function newDomain(): Promise<string> {
  const domain = uniqueDomain("keys");
  await createDomain(domain);
  return domain;
}

describe("request-named keys", () => {
  it("refuses a built-in name as a tag aggregate, by path and by ?type=", async () => {
    const d = await newDomain();
    for (const name of BUILT_INS) {
      expect(await call(`/v3/${d}/tags/promo/stats/aggregates/${name}`), name).toEqual({
        status: 400,
        body: { message: "type must be country, provider or device" },
      });
      expect(await call(`/v3/${d}/tag/stats/aggregates?tag=promo&type=${name}`), name).toEqual({
        status: 400,
        body: { message: "type must be country, provider or device" },
      });
    }
  });

  it("refuses a built-in name as the tags list's page", async () => {
    const d = await newDomain();
    for (const name of BUILT_INS) {
      expect(await call(`/v3/${d}/tags?page=${name}`), name).toEqual({ status: 400, body: { message: "page must be first, last, next or prev" } });
    }
  });

  it("refuses a built-in name as a suppression list's page", async () => {
    const d = await newDomain();
    for (const kind of ["bounces", "unsubscribes", "complaints", "whitelists"]) {
      for (const name of BUILT_INS) {
        expect(await call(`/v3/${d}/${kind}?page=${name}`), `${kind} ${name}`).toEqual({
          status: 400,
          body: { message: "'page' must be first, next, previous or last" },
        });
      }
    }
  });

  it("refuses a built-in name as a Logs filter attribute", async () => {
    const d = await newDomain();
    for (const name of BUILT_INS) {
      const filter = {
        AND: [
          { attribute: "domain", comparator: "=", values: [{ value: d }] },
          { attribute: name, comparator: "=", values: [{ value: "x" }] },
        ],
      };
      const answer = await call("/v1/analytics/logs", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ filter }) });
      expect(answer, name).toEqual({ status: 400, body: { message: `Unsupported filter attribute '${name}'` } });
    }
  });
});
