// Packs of webhook deliveries: the events one URL is to receive travel together on the webhooks
// queue, up to 100 in one queue message, instead of one message per event and URL. Events of one
// message and one webhook id form a group whose shared part (headers, the recipient list of an
// accepted event, tags, variables) is written once, as event packs do (event-packs.ts); a queue
// message holds as many groups as fit. Unpacking gives back exactly the events that were packed.
// Pure. Format in docs/storage.md, "Message on tidings-webhooks".
import { mergeEvent, splitEvents } from "./event-packs";
import type { MailgunEvent } from "./tracking-event";
import { jsonByteLength } from "./utf8";
import type { WebhookId } from "./webhooks";

/**
 * Events in one webhook queue message: the consumer posts each in its own request, so a pack is
 * at most 100 posts, and a consumer batch a few hundred (wrangler.toml). Unit: events.
 */
export const MAX_EVENTS_PER_WEBHOOK_PACK = 100;

type Json = Record<string, unknown>;

export interface WebhookGroup {
  webhook: WebhookId;
  /** Keys every event of the group has with the same value; `message` and its headers key by key. */
  common: Json;
  /** Per event, the rest. */
  events: Json[];
}

export interface WebhookPack {
  type: "webhook";
  v: 2;
  domain: string;
  url: string;
  /** 1 for the first attempt; the same for every event of the pack. */
  attempt: number;
  groups: WebhookGroup[];
}

/** One event for one URL: which webhook it fires and its event-data (the Events API item). */
export interface WebhookItem {
  webhook: WebhookId;
  event: Json;
}

const isRecord = (value: unknown): value is Json => typeof value === "object" && value !== null && !Array.isArray(value);

/**
 * Groups by webhook id and message id, in the order they first appear. Events without a `message`
 * object holding a `headers` object (none the Worker makes, but a queue may hold anything) group apart.
 */
function groupsOf(items: WebhookItem[]): Array<{ webhook: WebhookId; withMessage: boolean; events: Json[] }> {
  const groups = new Map<string, { webhook: WebhookId; withMessage: boolean; events: Json[] }>();
  for (const { webhook, event } of items) {
    const headers = isRecord(event.message) && isRecord(event.message.headers) ? event.message.headers : null;
    const withMessage = headers !== null;
    const key = JSON.stringify([webhook, withMessage, headers?.["message-id"] ?? null]);
    const group = groups.get(key);
    if (group) group.events.push(event);
    else groups.set(key, { webhook, withMessage, events: [event] });
  }
  return [...groups.values()];
}

/**
 * What a group's events share and what each adds. Events without `message.headers` are not split
 * (their common part is empty, so has no `message`): unpacking merges only where it has one.
 */
function splitGroup(events: Json[], withMessage: boolean): { common: Json; deltas: Json[] } {
  return withMessage ? splitEvents(events as unknown as MailgunEvent[]) : { common: {}, deltas: events };
}

/**
 * The items for one URL as packs whose JSON stays within `maxBytes`, at most
 * MAX_EVENTS_PER_WEBHOOK_PACK events each. Each event must fit a pack alone (events are bounded by
 * MAX_EVENT_BYTES and URLs by MAX_WEBHOOK_URL_BYTES, far below a queue message).
 */
export function packWebhookItems(domain: string, url: string, attempt: number, items: WebhookItem[], maxBytes: number): WebhookPack[] {
  const frame = jsonByteLength({ type: "webhook", v: 2, domain, url, attempt, groups: [] });
  const packs: WebhookPack[] = [];
  let groups: WebhookGroup[] = [];
  let count = 0;
  let bytes = frame;
  const flush = () => {
    if (count > 0) packs.push({ type: "webhook", v: 2, domain, url, attempt, groups });
    groups = [];
    count = 0;
    bytes = frame;
  };
  for (const { webhook, withMessage, events } of groupsOf(items)) {
    const { common, deltas } = splitGroup(events, withMessage);
    // The group's frame and its comma in the pack's list, then each event and its comma.
    const groupFrame = jsonByteLength({ webhook, common, events: [] }) + 1;
    let open: WebhookGroup | null = null;
    for (const delta of deltas) {
      const size = jsonByteLength(delta) + 1;
      if (frame + groupFrame + size > maxBytes) throw new RangeError(`a webhook event of ${frame + groupFrame + size} bytes does not fit a queue message`);
      const needed = open ? size : groupFrame + size;
      if (count === MAX_EVENTS_PER_WEBHOOK_PACK || bytes + needed > maxBytes) {
        flush();
        open = null;
      }
      if (!open) {
        open = { webhook, common, events: [] };
        groups.push(open);
        bytes += groupFrame;
      }
      open.events.push(delta);
      bytes += size;
      count++;
    }
  }
  flush();
  return packs;
}

/** The events of a pack, each merged back whole, with the webhook it fires. */
export function unpackWebhookItems(pack: Pick<WebhookPack, "groups">): WebhookItem[] {
  return pack.groups.flatMap(({ webhook, common, events }) =>
    events.map((delta) => ({ webhook, event: Object.hasOwn(common, "message") ? mergeEvent(common, delta) : { ...common, ...delta } })),
  );
}
