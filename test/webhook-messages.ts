// Webhook queue messages as tests read them: one entry per event, whatever the message's format
// (a pack, v2, or one event, v1), each event merged from its group's shared part and its own by
// this file's code, not the Worker's unpacking.
type Json = Record<string, any>;

/** One event from a shared part and its own: own keys win, `message` and its headers key by key. */
export function mergeShared(common: Json, own: Json): Json {
  const message = { ...(common.message ?? {}), ...(own.message ?? {}), headers: { ...(common.message?.headers ?? {}), ...(own.message?.headers ?? {}) } };
  return { ...common, ...own, message };
}

export interface AskedDelivery {
  domain: string;
  url: string;
  webhook: string;
  attempt: number;
  event: Json;
}

/** What a webhook queue message asks for, one entry per event. */
export function deliveriesIn(body: unknown): AskedDelivery[] {
  const b = body as Json;
  if (b.v === 1) return [{ domain: b.domain, url: b.url, webhook: b.webhook, attempt: b.attempt, event: b.event }];
  return (b.groups as Json[]).flatMap((g) =>
    (g.events as Json[]).map((own) => ({ domain: b.domain, url: b.url, webhook: g.webhook, attempt: b.attempt, event: mergeShared(g.common, own) })),
  );
}
