// The small forms (domains, tracking, webhooks, tags, single suppressions, resend) are read with a
// byte and field cap before they are parsed: 100,000 empty fields cost over 100 ms of CPU to parse,
// so they are a 400 at once (issue 11, "zero requests over 100 ms of CPU").
import { describe, expect, it } from "vitest";
import { MAX_SMALL_FORM_BYTES, MAX_SMALL_FORM_FIELDS } from "../../src/api/fields";
import { api, createDomain, uniqueDomain } from "../helpers";

const put = (path: string, body: BodyInit, contentType: string) => api(path, { method: "PUT", headers: { "content-type": contentType }, body });

describe("small forms", () => {
  it("refuses more fields than a small form may carry, and more bytes", async () => {
    const domain = uniqueDomain("forms");
    await createDomain(domain);
    const path = `/v4/domains/${domain}`;
    const urlencoded = "application/x-www-form-urlencoded";

    const many = await put(path, "&".repeat(100_000), urlencoded);
    expect(many.status).toBe(400);
    expect(await many.json()).toEqual({ message: `A form may have at most ${MAX_SMALL_FORM_FIELDS} fields` });

    const big = await put(path, `spam_action=disabled&x=${"a".repeat(MAX_SMALL_FORM_BYTES)}`, urlencoded);
    expect(big.status).toBe(400);
    expect(await big.json()).toEqual({ message: `The body must be at most ${MAX_SMALL_FORM_BYTES} bytes` });

    // At the cap, the form is read as before.
    const fields = Array.from({ length: MAX_SMALL_FORM_FIELDS - 1 }, (_, i) => `f${i}=`).join("&");
    expect((await put(path, `${fields}&spam_action=disabled`, urlencoded)).status).toBe(200);
  });

  it("reads a multipart form whose boundary has capital letters", async () => {
    const domain = uniqueDomain("forms");
    await createDomain(domain);
    const boundary = "XyZBoundary42";
    const body = `--${boundary}\r\nContent-Disposition: form-data; name="active"\r\n\r\nyes\r\n--${boundary}--\r\n`;
    const response = await put(`/v3/domains/${domain}/tracking/open`, body, `multipart/form-data; boundary=${boundary}`);
    expect(response.status).toBe(200);
    const tracking = (await (await api(`/v3/domains/${domain}/tracking`)).json()) as { tracking: { open: { active: boolean } } };
    expect(tracking.tracking.open.active).toBe(true);
  });
});
