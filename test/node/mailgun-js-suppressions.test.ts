// mailgun.js 14, unchanged, against a running Worker: mg.suppressions for the four lists, as its
// users call them (create, list with paging, get, destroy, destroyAll, upload).
import Mailgun from "mailgun.js";
import { beforeAll, describe, expect, it } from "vitest";
import { sharedWorker } from "./start-worker";

const worker = sharedWorker();
let mg: ReturnType<InstanceType<typeof Mailgun>["client"]>;
const DOMAIN = "mgjs-sup.example.com";

beforeAll(async () => {
  mg = new Mailgun(FormData).client({ username: "api", key: worker.apiKey, url: worker.url });
  await mg.domains.create({ name: DOMAIN });
});

describe("mailgun.js suppressions against Tidings", () => {
  it("bounces: create (JSON array), list with pages, get, destroy, destroyAll", async () => {
    const created = await mg.suppressions.create(DOMAIN, "bounces", { address: "bob@example.org", code: 550, error: "No such mailbox" });
    expect(created).toMatchObject({ message: "1 addresses have been added to the bounces table", status: 200 });
    await mg.suppressions.create(DOMAIN, "bounces", [{ address: "a@example.org" }, { address: "c@example.org", code: 554 }]);

    const page = await mg.suppressions.list(DOMAIN, "bounces", { limit: 2 });
    expect(page.items.map((b: any) => b.address)).toEqual(["a@example.org", "bob@example.org"]);
    const bob = page.items[1] as any;
    expect(bob).toMatchObject({ type: "bounces", code: 550, error: "No such mailbox" });
    expect(bob.created_at).toBeInstanceOf(Date);
    expect(Number.isNaN(bob.created_at.getTime())).toBe(false);
    expect(page.pages.next.page).toMatch(/^\?/);
    expect(page.pages.next.iteratorPosition).toBe("bob@example.org");

    const next = await mg.suppressions.list(DOMAIN, "bounces", { limit: 2, page: page.pages.next.page });
    expect(next.items.map((b: any) => b.address)).toEqual(["c@example.org"]);
    const back = await mg.suppressions.list(DOMAIN, "bounces", { limit: 2, page: next.pages.previous.page });
    expect(back.items.map((b: any) => b.address)).toEqual(["a@example.org", "bob@example.org"]);

    const one = (await mg.suppressions.get(DOMAIN, "bounces", "c@example.org")) as any;
    expect(one).toMatchObject({ type: "bounces", address: "c@example.org", code: 554 });
    expect(await mg.suppressions.destroy(DOMAIN, "bounces", "c@example.org")).toMatchObject({
      message: "Bounced address has been removed",
      address: "c@example.org",
      status: 200,
    });
    await expect(mg.suppressions.get(DOMAIN, "bounces", "c@example.org")).rejects.toMatchObject({ status: 404, details: "Address not found in bounces table" });
    expect(await mg.suppressions.destroyAll(DOMAIN, "bounces")).toEqual({ message: "Bounced addresses for this domain have been removed", status: 200 });
    expect((await mg.suppressions.list(DOMAIN, "bounces")).items).toEqual([]);
  });

  it("unsubscribes: one with `tag` (multipart), many with `tags` (JSON)", async () => {
    expect(await mg.suppressions.create(DOMAIN, "unsubscribes", { address: "one+tag@example.org", tag: "promo" })).toMatchObject({
      message: "Address has been added to the unsubscribes table",
      status: 200,
    });
    await mg.suppressions.create(DOMAIN, "unsubscribes", [
      { address: "m1@example.org", tags: ["news", "promo"] },
      { address: "m2@example.org", tags: ["*"] },
    ]);
    const got = (await mg.suppressions.get(DOMAIN, "unsubscribes", "one+tag@example.org")) as any;
    expect(got).toMatchObject({ type: "unsubscribes", address: "one+tag@example.org", tags: ["promo"] });
    expect(got.created_at).toBeInstanceOf(Date);
    const list = await mg.suppressions.list(DOMAIN, "unsubscribes", { limit: 10 });
    expect(list.items.map((u: any) => [u.address, u.tags])).toEqual([
      ["m1@example.org", ["news", "promo"]],
      ["m2@example.org", ["*"]],
      ["one+tag@example.org", ["promo"]],
    ]);
    expect(await mg.suppressions.destroy(DOMAIN, "unsubscribes", "m2@example.org")).toMatchObject({ message: "Unsubscribe event has been removed" });
    expect(await mg.suppressions.destroyAll(DOMAIN, "unsubscribes")).toMatchObject({ message: "Unsubscribe addresses for this domain have been removed" });
  });

  it("complaints and whitelists", async () => {
    expect(await mg.suppressions.create(DOMAIN, "complaints", [{ address: "c1@example.org" }, { address: "c2@example.org" }])).toMatchObject({
      message: "2 complaint addresses have been added to the complaints table",
    });
    const complaint = (await mg.suppressions.get(DOMAIN, "complaints", "c1@example.org")) as any;
    expect(complaint).toMatchObject({ type: "complaints", address: "c1@example.org" });
    expect(complaint.created_at).toBeInstanceOf(Date);
    expect(await mg.suppressions.destroy(DOMAIN, "complaints", "c1@example.org")).toMatchObject({ message: "Spam complaint has been removed" });

    // mailgun.js's types insist on `address`, but it sends a `domain` field as given.
    const byDomain = { domain: "partner.org" } as unknown as { address: string };
    expect(await mg.suppressions.create(DOMAIN, "whitelists", byDomain)).toEqual({
      message: "Address/Domain has been added to the allowlists table",
      type: "domain",
      value: "partner.org",
      status: 200,
    });
    await mg.suppressions.create(DOMAIN, "whitelists", { address: "alice@example.com" });
    const entry = (await mg.suppressions.get(DOMAIN, "whitelists", "partner.org")) as any;
    expect(entry).toMatchObject({ type: "whitelists", value: "partner.org" });
    expect(entry.createdAt).toBeInstanceOf(Date);
    expect(Number.isNaN(entry.createdAt.getTime())).toBe(false);
    const list = await mg.suppressions.list(DOMAIN, "whitelists");
    expect(list.items.map((w: any) => w.value)).toEqual(["alice@example.com", "partner.org"]);
    expect(await mg.suppressions.destroy(DOMAIN, "whitelists", "partner.org")).toMatchObject({
      message: "Allowlist address/domain has been removed",
      value: "partner.org",
    });
    expect(await mg.suppressions.destroyAll(DOMAIN, "whitelists")).toMatchObject({ message: "Allowlist addresses/domains for this domain have been removed" });
  });

  it("uploads a CSV through mg.suppressions.upload", async () => {
    const csv = "address,code,error,created_at\nup1@example.org,550,Gone,\nbroken,550,x,\nup2@example.org,,,\n";
    const body = (await mg.suppressions.upload(DOMAIN, "bounces", { data: Buffer.from(csv), filename: "bounces.csv" })) as any;
    expect(body).toMatchObject({ message: "file uploaded successfully for processing. standby...", imported: 2 });
    expect(body.errors.map((e: any) => e.line)).toEqual([3]);
    expect(((await mg.suppressions.get(DOMAIN, "bounces", "up2@example.org")) as any).code).toBe(550);
    await expect(mg.suppressions.upload(DOMAIN, "complaints", { data: Buffer.from("email\nx@example.org\n"), filename: "c.csv" })).rejects.toMatchObject({
      status: 400,
    });
  });
});
