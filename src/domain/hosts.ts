// The deployment's own hosts: SHARED_HOSTS, where every domain's tracking links are honoured and
// where the API and the panel answer. Any other host is a domain's tracking host, which serves
// /o, /c, /u and robots.txt only. Pure; the parsed list is kept per setting string.

const parsed = new Map<string, Set<string>>();

/** SHARED_HOSTS as a set of lower-case hostnames (no ports). */
export function sharedHosts(setting: string): Set<string> {
  let hosts = parsed.get(setting);
  if (!hosts) {
    hosts = new Set(
      setting
        .split(",")
        .map((h) => h.trim().toLowerCase())
        .filter(Boolean),
    );
    parsed.set(setting, hosts);
  }
  return hosts;
}

/** Whether a request's hostname (lower-case, no port, as URL.hostname gives it) is one of the deployment's own. */
export function isOwnHost(hostname: string, setting: string): boolean {
  return sharedHosts(setting).has(hostname);
}
