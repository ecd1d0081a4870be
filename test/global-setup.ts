/// <reference types="node" />
// Vitest globalSetup (runs in Node, not workerd): starts the scripted SMTP relays that the Worker's
// tests deliver to over cloudflare:sockets, and hands their ports over with provide().
import { readFileSync } from "node:fs";
import type { TestProject } from "vitest/node";
import { startScriptedSmtp } from "./support/scripted-smtp";

const SMTP_AUTH = { user: "relay-user", pass: "relay-pass" };

/**
 * The TLS relay's throwaway certificate: for "localhost" only (so a connection to 127.0.0.1 must
 * fail the name check), valid 2000-2100, signed by TEST_TLS_CA whose private key was discarded, so
 * trusting that CA (NODE_EXTRA_CA_CERTS, which miniflare reads once, at load) trusts nothing else.
 */
const TEST_TLS_CA = `-----BEGIN CERTIFICATE-----
MIIBhDCCASqgAwIBAgICEAAwCgYIKoZIzj0EAwIwKDEmMCQGA1UEAwwdVGlkaW5n
cyBzY3JpcHRlZCBTTVRQIHRlc3QgQ0EwIBcNMDAwMTAxMDAwMDAwWhgPMjEwMDAx
MDEwMDAwMDBaMCgxJjAkBgNVBAMMHVRpZGluZ3Mgc2NyaXB0ZWQgU01UUCB0ZXN0
IENBMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEgNwKc4XRiAxjbH08FJPDsIDq
nv66/VJnnGutSnwS/PMcEOSN47FMIMvhMiexXbUodLFyP5O93x7l9ojKvjNGwKNC
MEAwDwYDVR0TAQH/BAUwAwEB/zAOBgNVHQ8BAf8EBAMCAQYwHQYDVR0OBBYEFCVJ
VbGMVsHarfiKg9dxqzCpyyJlMAoGCCqGSM49BAMCA0gAMEUCIH+qtM2psDGQT0aO
Vv8OxZUVEm67xVYRsOMf3JyjFzZWAiEAlgNz1Mg2xm8kmpUHv/qgkQI0j7737CwX
d4Dh4crg5tU=
-----END CERTIFICATE-----`;
const TEST_TLS = {
  key: `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQggEEcC2Pfl43ERZaa
9z0Sr/nafZKr3hsMz+vKE/WyqTShRANCAASuXQtytIcliQCKa+0FnVM0PGl8gY0+
fTCFU9Vv8jw64WgT+tx661jbhumpuhU1bvwJfLMzhUJQuCMQfTiH8MTk
-----END PRIVATE KEY-----`,
  cert: `-----BEGIN CERTIFICATE-----
MIIBuTCCAV6gAwIBAgICEAEwCgYIKoZIzj0EAwIwKDEmMCQGA1UEAwwdVGlkaW5n
cyBzY3JpcHRlZCBTTVRQIHRlc3QgQ0EwIBcNMDAwMTAxMDAwMDAwWhgPMjEwMDAx
MDEwMDAwMDBaMBQxEjAQBgNVBAMMCWxvY2FsaG9zdDBZMBMGByqGSM49AgEGCCqG
SM49AwEHA0IABK5dC3K0hyWJAIpr7QWdUzQ8aXyBjT59MIVT1W/yPDrhaBP63Hrr
WNuG6am6FTVu/Al8szOFQlC4IxB9OIfwxOSjgYkwgYYwFAYDVR0RBA0wC4IJbG9j
YWxob3N0MAkGA1UdEwQCMAAwDgYDVR0PAQH/BAQDAgeAMBMGA1UdJQQMMAoGCCsG
AQUFBwMBMB0GA1UdDgQWBBTMyyfnm9BQgsCFt/iC8NdnxT3H+TAfBgNVHSMEGDAW
gBQlSVWxjFbB2q34ioPXcaswqcsiZTAKBggqhkjOPQQDAgNJADBGAiEAxT524UjS
gMqMYM+yPxAZopSxqXqA4KrvKb+hF8noVQcCIQD9KwhJEpHfn+srXomcIa5myMDO
64gsmGZLcWi791pz6w==
-----END CERTIFICATE-----`,
};

/** Whether workerd will trust TEST_TLS: miniflare reads NODE_EXTRA_CA_CERTS once, before this file runs. */
function testCaIsTrusted(): boolean {
  const path = process.env.NODE_EXTRA_CA_CERTS;
  if (!path) return false;
  try {
    const squash = (pem: string) => pem.replace(/\s+/g, "");
    return squash(readFileSync(path, "utf8")).includes(squash(TEST_TLS_CA));
  } catch {
    return false;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const [plain, auth, tls, pipelining] = await Promise.all([
    startScriptedSmtp(),
    startScriptedSmtp({ requireAuth: SMTP_AUTH }),
    startScriptedSmtp({ tls: TEST_TLS }),
    startScriptedSmtp({ requireAuth: SMTP_AUTH, pipelining: true }),
  ]);
  project.provide("smtpPort", plain.port);
  project.provide("smtpControlPort", plain.controlPort);
  project.provide("smtpAuthPort", auth.port);
  project.provide("smtpAuthControlPort", auth.controlPort);
  project.provide("smtpStartTlsPort", tls.port);
  project.provide("smtpImplicitTlsPort", tls.tlsPort!);
  project.provide("smtpTlsControlPort", tls.controlPort);
  project.provide("smtpTlsTrusted", testCaIsTrusted());
  project.provide("smtpPipeliningPort", pipelining.port);
  project.provide("smtpPipeliningControlPort", pipelining.controlPort);
  return async () => {
    await Promise.all([plain.close(), auth.close(), tls.close(), pipelining.close()]);
  };
}
