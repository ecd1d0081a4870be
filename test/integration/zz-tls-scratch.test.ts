import { expect, inject, it } from "vitest";
import { deliverOverSmtp } from "../../src/consumers/smtp-client";
for (const host of ["localhost", "127.0.0.1"]) {
  it("starttls " + host, async () => {
    const o = await deliverOverSmtp({ host, port: (inject as any)("stPort"), security: "starttls", heloName: "x", timeoutMs: 3000 }, { from: "a@b", to: "ok-1@x.org" }, "hi");
    console.log(host, "starttls", JSON.stringify(o));
    const o2 = await deliverOverSmtp({ host, port: (inject as any)("imPort"), security: "tls", heloName: "x", timeoutMs: 3000 }, { from: "a@b", to: "ok-1@x.org" }, "hi");
    console.log(host, "implicit", JSON.stringify(o2));
    const r = await fetch(`http://127.0.0.1:${(inject as any)("stCtl")}/messages`);
    console.log(await r.text());
  });
}
