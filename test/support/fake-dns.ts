/// <reference types="node" />
// A fake DNS-over-HTTPS resolver (the JSON form of 1.1.1.1) for tests, run in Node by
// test/global-setup-cloudflare.ts and by the mailgun.js tests. GET /dns-query?name=&type= answers
// from what the test set for that name: {Status: 0, Answer: [CNAME]} for a CNAME, {Status: 3} for a
// name with nothing set. Control endpoints (state per name, so tests in parallel never meet):
//   POST /__fake/dns/NAME  {cname?, rcode?, httpStatus?, body?, delayMs?} -> how NAME is answered from now on
//   GET  /__fake/dns-requests?name=NAME -> every lookup of NAME: {query, accept}
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

export interface FakeDnsAnswer {
  /** The CNAME target to answer (with a trailing dot, as resolvers give it). */
  cname?: string;
  /** A DNS RCODE other than NOERROR (2 SERVFAIL, 3 NXDOMAIN, ...). */
  rcode?: number;
  /** Answer this HTTP status instead of DNS JSON. */
  httpStatus?: number;
  /** Answer this raw body instead of DNS JSON. */
  body?: string;
  /** Answer only after this long. Unit: ms. */
  delayMs?: number;
}

export async function startFakeDns(): Promise<{ port: number; close(): Promise<void> }> {
  const answers = new Map<string, FakeDnsAnswer>();
  const lookups = new Map<string, Array<{ query: Record<string, string>; accept: string | null }>>();
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const url = new URL(req.url ?? "/", "http://fake");
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    if (req.method === "POST" && url.pathname.startsWith("/__fake/dns/")) {
      answers.set(
        decodeURIComponent(url.pathname.slice("/__fake/dns/".length)).toLowerCase(),
        JSON.parse(Buffer.concat(chunks).toString("utf8")) as FakeDnsAnswer,
      );
      return json(200, { ok: true });
    }
    if (url.pathname === "/__fake/dns-requests") return json(200, lookups.get((url.searchParams.get("name") ?? "").toLowerCase()) ?? []);
    if (url.pathname !== "/dns-query") return json(404, { error: "not found" });
    const name = (url.searchParams.get("name") ?? "").toLowerCase().replace(/\.$/, "");
    const type = url.searchParams.get("type") ?? "A";
    lookups.set(name, [...(lookups.get(name) ?? []), { query: Object.fromEntries(url.searchParams), accept: req.headers.accept ?? null }]);
    const answer = answers.get(name) ?? { rcode: 3 };
    if (answer.delayMs) await new Promise((resolve) => setTimeout(resolve, answer.delayMs));
    if (res.destroyed) return;
    if (answer.httpStatus) return json(answer.httpStatus, { error: "fake failure" });
    if (answer.body !== undefined) {
      res.writeHead(200, { "content-type": "application/dns-json" });
      return res.end(answer.body);
    }
    const question = [{ name: `${name}.`, type: type === "CNAME" ? 5 : 1 }];
    if (answer.rcode) return json(200, { Status: answer.rcode, TC: false, RD: true, RA: true, AD: false, CD: false, Question: question });
    json(200, {
      Status: 0,
      TC: false,
      RD: true,
      RA: true,
      AD: false,
      CD: false,
      Question: question,
      Answer: answer.cname ? [{ name: `${name}.`, type: 5, TTL: 300, data: answer.cname }] : [],
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { port: (server.address() as AddressInfo).port, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}
