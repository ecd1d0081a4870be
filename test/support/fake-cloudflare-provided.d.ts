// What test/global-setup-cloudflare.ts hands to the tests through vitest's provide()/inject().
import "vitest";

declare module "vitest" {
  export interface ProvidedContext {
    /** The fake Cloudflare API (test/support/fake-cloudflare.ts) on 127.0.0.1. */
    cloudflareApiPort: number;
    /** The fake DNS-over-HTTPS resolver (test/support/fake-dns.ts) on 127.0.0.1. */
    dnsResolverPort: number;
  }
}
