// The environment every tool runs wrangler with: no metrics, no error reports, no update check or
// request.cf download, no banner. This machine (and CI) has no network but the npm registry.

/** Settings that keep wrangler off the network and quiet. */
export const WRANGLER_OFFLINE = {
  WRANGLER_SEND_METRICS: "false",
  WRANGLER_SEND_ERROR_REPORTS: "false",
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  WRANGLER_HIDE_BANNER: "true",
};

/** This process's environment with WRANGLER_OFFLINE over it. */
export function offlineEnv() {
  return { ...process.env, ...WRANGLER_OFFLINE };
}
