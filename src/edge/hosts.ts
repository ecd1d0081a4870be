// What the Worker answers before the panel and the API see a request: robots.txt on every host,
// and on a domain's tracking host (any host not in SHARED_HOSTS) a plain 404 page for everything
// but the tracking paths (answered before this, in tracking.ts). So the API and the panel answer
// only on the deployment's own hosts. No bindings; reads SHARED_HOSTS.
import { isOwnHost } from "../domain/hosts";
import type { Env } from "../env";
import { notFoundPage, robotsResponse } from "./responses";
import { targetOf } from "./tracking";

/** robots.txt, or the 404 page of a tracking host; null on the deployment's own hosts (panel and API follow). */
export function handleHostPaths(request: Request, env: Env): Response | null {
  const url = targetOf(request.url);
  // Nothing a crawler should index is served anywhere: tracking links, the panel, the API.
  if (url.path === "/robots.txt") return robotsResponse();
  if (isOwnHost(url.hostname, env.SHARED_HOSTS)) return null;
  return notFoundPage(url.https);
}
