// Mailgun's certificate API for tracking hosts (mailgun.js domainTracking.generate/regenerate/get):
// POST /v2/x509/{host}, PUT /v2/x509/{host}, GET /v2/x509/{host}/status. Certificates come from
// Cloudflare for SaaS (src/certificates/). Bindings: DB; the Cloudflare API.
import { Hono } from "hono";
import { CustomHostnames } from "../certificates/cloudflare";
import { type RequestMode, readCertificate, requestCertificate } from "../certificates/tracking-hosts";
import { getCertificate } from "../db/certificates";
import { getDomainByTrackingHost } from "../db/domains";
import type { ApiEnv } from "./context";
import { ApiError, badRequest, notFound } from "./errors";

const notTrackingHost = (host: string) => badRequest(`${host} is not the tracking host (<web_prefix>.<domain>) of any domain`);

/** POST and PUT: validates the host, starts the request, answers Mailgun's 202 or its 409. */
async function startX509(env: ApiEnv["Bindings"], host: string, mode: RequestMode): Promise<Response> {
  const domain = await getDomainByTrackingHost(env.DB, host);
  if (!domain) throw notTrackingHost(host);
  const { started, record } = await requestCertificate(env.DB, new CustomHostnames(env), { host, domain: domain.name, mode }, Date.now());
  if (!started) {
    throw new ApiError(
      409,
      record.status === "processing"
        ? `x509 key pair generation is already in progress for ${host}`
        : `${host} already has an active certificate; PUT /v2/x509/${host} re-issues it`,
    );
  }
  // Whatever Cloudflare answered (an error is stored and retried by the cron), generation has begun.
  return Response.json({ message: "Initiated x509 key pair generation", location: `/v2/x509/${host}/status` }, { status: 202 });
}

export const x509Api = new Hono<ApiEnv>()
  .post("/v2/x509/:host", (c) => startX509(c.env, c.req.param("host").toLowerCase(), "generate"))
  .put("/v2/x509/:host", (c) => startX509(c.env, c.req.param("host").toLowerCase(), "regenerate"))
  .get("/v2/x509/:host/status", async (c) => {
    const host = c.req.param("host").toLowerCase();
    const stored = await getCertificate(c.env.DB, host);
    if (!stored) {
      if (!(await getDomainByTrackingHost(c.env.DB, host))) throw notTrackingHost(host);
      throw notFound(`No certificate has been requested for ${host}`);
    }
    const record = await readCertificate(c.env.DB, new CustomHostnames(c.env), stored, Date.now());
    // Cloudflare keeps the key pair and serves the certificate itself, so there is no PEM to hand out.
    return c.json({ status: record.status, error: record.error, certificate: "" });
  });
