// The bindings tests see through `env` from "cloudflare:test": the Worker's (Cloudflare.Env, which
// `wrangler types` generates into worker-configuration.d.ts) plus the migrations.
declare global {
  namespace Cloudflare {
    interface Env {
      TEST_MIGRATIONS: D1Migration[];
    }
  }
}

export {};
