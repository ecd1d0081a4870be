/// <reference types="node" />
// A fake of Cloudflare's custom hostnames API (Cloudflare for SaaS) for tests, run in Node by
// test/global-setup-cloudflare.ts. It answers what Tidings calls, in the shapes of Cloudflare's API
// reference: the {success, errors, messages, result} envelope; POST .../custom_hostnames (a new
// hostname is "pending", its ssl "pending_validation" with an HTTP validation record, plus the
// TXT ownership record); GET .../custom_hostnames?hostname=; GET, PATCH (restart validation) and
// DELETE .../custom_hostnames/{id}; 403 for a wrong token, 409 (1406) for a duplicate, 404 for an
// unknown id. Control endpoints, for tests (state is per hostname, so tests in parallel never meet):
//   GET  /__fake/requests?hostname=H  -> every request concerning H, in order
//   POST /__fake/hostnames/H          {state: "active"|"timed_out"|"expired"|"pending"} -> sets its state
//   POST /__fake/faults               {hostname, method?, status?, retryAfter?, delayMs?, times?} -> the next
//        `times` (1) matching requests answer `status` with Cloudflare's error body (429: code 971), or
//        are answered normally but only after `delayMs` (a timeout when that exceeds the client's)
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

import { FAKE_CLOUDFLARE, type FakeFault, type RecordedRequest } from "./fake-cloudflare-shapes";

type Fault = FakeFault & { times: number };

type Hostname = Record<string, any>;

const ERRORS: Record<number, { code: number; message: string }> = {
  429: { code: 971, message: "Please wait and consider throttling your request speed" },
  500: { code: 1000, message: "Internal server error" },
  503: { code: 1000, message: "Service temporarily unavailable" },
};

function newHostname(hostname: string): Hostname {
  const token = randomUUID().replace(/-/g, "");
  const id = randomUUID().replace(/-/g, "");
  return {
    id,
    hostname,
    ssl: {
      id: randomUUID(),
      type: "dv",
      method: "http",
      status: "pending_validation",
      bundle_method: "ubiquitous",
      wildcard: false,
      certificate_authority: "google",
      settings: { min_tls_version: "1.2" },
      validation_records: [{ status: "pending", http_url: `http://${hostname}/.well-known/acme-challenge/${token}`, http_body: `${token}.fake-thumbprint` }],
    },
    status: "pending",
    verification_errors: ["custom hostname does not CNAME to this zone."],
    ownership_verification: { type: "txt", name: `_cf-custom-hostname.${hostname}`, value: randomUUID() },
    ownership_verification_http: { http_url: `http://${hostname}/.well-known/cf-custom-hostname-challenge/${id}`, http_body: randomUUID() },
    created_at: new Date().toISOString(),
  };
}

function setState(h: Hostname, state: string): void {
  if (state === "active") {
    h.status = "active";
    h.ssl.status = "active";
    h.ssl.validation_records = [];
    h.ssl.issuer = "GoogleTrustServices";
    h.ssl.expires_on = new Date(Date.now() + 90 * 86_400_000).toISOString();
    delete h.verification_errors;
    delete h.ownership_verification;
    delete h.ownership_verification_http;
  } else if (state === "timed_out") {
    h.ssl.status = "validation_timed_out";
    h.ssl.validation_errors = [{ message: "The certificate could not be validated: the HTTP token was not found at the validation URL." }];
  } else if (state === "expired") {
    h.ssl.status = "expired";
  } else {
    h.status = "pending";
    h.ssl.status = "pending_validation";
  }
}

export async function startFakeCloudflare(): Promise<{ port: number; close(): Promise<void> }> {
  const hostnames = new Map<string, Hostname>(); // by id
  const namesById = new Map<string, string>(); // kept after a delete, so later requests are still attributed
  const requests: Array<RecordedRequest & { hostname: string }> = [];
  const faults: Fault[] = [];
  const byName = (name: string) => [...hostnames.values()].find((h) => h.hostname === name);

  const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { "content-type": "application/json", ...headers });
    res.end(JSON.stringify(body));
  };
  const ok = (result: unknown, extra: object = {}) => ({ success: true, errors: [], messages: [], result, ...extra });
  const fail = (code: number, message: string) => ({ success: false, errors: [{ code, message }], messages: [], result: null });

  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString("utf8");
    const url = new URL(req.url ?? "/", "http://fake");
    const method = req.method ?? "GET";

    // Control endpoints.
    if (url.pathname === "/__fake/requests") {
      return send(
        res,
        200,
        requests.filter((r) => r.hostname === url.searchParams.get("hostname")).map(({ hostname: _, ...r }) => r),
      );
    }
    if (url.pathname === "/__fake/faults" && method === "POST") {
      const fault = JSON.parse(text) as Fault;
      faults.push({ ...fault, times: fault.times ?? 1 });
      return send(res, 200, { ok: true });
    }
    if (url.pathname.startsWith("/__fake/hostnames/") && method === "POST") {
      const h = byName(decodeURIComponent(url.pathname.slice("/__fake/hostnames/".length)));
      if (!h) return send(res, 404, { error: "no such hostname" });
      setState(h, (JSON.parse(text) as { state: string }).state);
      return send(res, 200, h);
    }

    // The API.
    const match = /^\/client\/v4\/zones\/([^/]+)\/custom_hostnames(?:\/([^/]+))?$/.exec(url.pathname);
    let body: unknown = null;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      body = text;
    }
    const id = match?.[2] ? decodeURIComponent(match[2]) : undefined;
    const concerning = (id ? namesById.get(id) : undefined) ?? (body as { hostname?: string } | null)?.hostname ?? url.searchParams.get("hostname") ?? "";
    requests.push({
      hostname: concerning,
      method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      authorization: req.headers.authorization ?? null,
      contentType: req.headers["content-type"] ?? null,
      body,
    });

    const fault = faults.find((f) => f.hostname === concerning && (!f.method || f.method === method) && f.times > 0);
    if (fault) fault.times--;
    if (fault?.status) {
      const error = ERRORS[fault.status] ?? { code: 1000, message: "Fake failure" };
      return send(res, fault.status, fail(error.code, error.message), fault.retryAfter ? { "retry-after": String(fault.retryAfter) } : {});
    }
    const answer = async (status: number, payload: unknown) => {
      if (fault?.delayMs) await new Promise((r) => setTimeout(r, fault.delayMs));
      if (!res.destroyed) send(res, status, payload);
    };

    if (!match) return answer(404, fail(7000, "No route for that URI"));
    if (req.headers.authorization !== `Bearer ${FAKE_CLOUDFLARE.token}`) return answer(403, fail(10000, "Authentication error"));
    if (match[1] !== FAKE_CLOUDFLARE.zoneId) return answer(404, fail(7003, `Could not route to ${url.pathname}, perhaps your object identifier is invalid?`));

    if (!id && method === "POST") {
      const request = body as { hostname?: string; ssl?: { method?: string; type?: string } } | null;
      if (!request?.hostname || !request.ssl) return answer(400, fail(1400, "Invalid custom hostname or SSL configuration."));
      if (byName(request.hostname)) return answer(409, fail(1406, "Duplicate custom hostname found."));
      const h = newHostname(request.hostname);
      hostnames.set(h.id, h);
      namesById.set(h.id, h.hostname);
      return answer(200, ok(h));
    }
    if (!id && method === "GET") {
      const name = url.searchParams.get("hostname");
      const found = [...hostnames.values()].filter((h) => !name || h.hostname === name);
      return answer(200, ok(found, { result_info: { page: 1, per_page: 20, count: found.length, total_count: found.length } }));
    }
    const h = id ? hostnames.get(id) : undefined;
    if (!h) return answer(404, fail(1436, "The custom hostname was not found."));
    if (method === "GET") return answer(200, ok(h));
    if (method === "PATCH") {
      if (h.ssl.status !== "active") {
        h.ssl.status = "pending_validation";
        h.ssl.validation_errors = [];
      }
      return answer(200, ok(h));
    }
    if (method === "DELETE") {
      hostnames.delete(h.id);
      return answer(200, ok({ id: h.id }));
    }
    return answer(405, fail(10405, "Method not allowed"));
  });

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
