// Shared helpers for integration tests: API calls with auth, a domain with tracking on, prepare.
import { createExecutionContext, createMessageBatch, env, getQueueResult, SELF, waitOnExecutionContext } from "cloudflare:test";
import { inject } from "vitest";
import { buildPack, ComposeSources, composeAttempt } from "../src/consumers/compose";
import { LEAN_EVENT_COLUMNS, type LeanRow, leanBodies } from "../src/db/lean-events";
import { getOutgoingPack } from "../src/db/outgoing-packs";
import { randomId } from "../src/domain/base64url";
import { composePackJobSchema, type DeliveryJob, type PackFacts } from "../src/domain/delivery-job";
import { mergeEvent } from "../src/domain/event-packs";
import { CONTROL_DATABASE, holdsEvents, isShardBinding } from "../src/domain/event-shards";
import { type PartitionedQueue, partitionCountOfBindings, partitionOf } from "../src/domain/queue-partitions";
import type { EventRow } from "../src/domain/tracking-event";
import type { Env } from "../src/env";
import worker from "../src/index";
import { partitionsAs } from "./support/partitions";

export const API_KEY = "test-api-key";
export const BASE = "http://127.0.0.1";

export function api(path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set("authorization", `Basic ${btoa(`api:${API_KEY}`)}`);
  return SELF.fetch(`${BASE}${path}`, { ...init, headers });
}

/** An API call with auth through the Worker's fetch handler, with settings other than the test config's. */
export async function apiWith(callEnv: Env, path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set("authorization", `Basic ${btoa(`api:${API_KEY}`)}`);
  const ctx = createExecutionContext();
  const response = await worker.fetch(new Request(`${BASE}${path}`, { ...init, headers }) as Request<unknown, IncomingRequestCfProperties>, callEnv, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

/** One recipient's copy as a delivery job carries it (inline or in its R2 pack). */
export interface RecordedCopy {
  recipient: string;
  from: string;
  mime: string;
  size: number;
  /** What the job carries for this copy's events: its pack's facts. */
  facts: PackFacts;
}

/**
 * Each recipient's copy to deliver from delivery queue messages: built by the consumer's compose
 * code for a compose pack (as the Messages API sends them; nothing written), read from a pack of
 * built copies (inline or in R2) or a v1 job.
 */
export async function copiesOf(base: Env, jobs: unknown[]): Promise<RecordedCopy[]> {
  const copies: RecordedCopy[] = [];
  for (const job of jobs as DeliveryJob[]) {
    if (job.v === 1) copies.push({ recipient: job.recipient, from: job.from, mime: job.mime!, size: job.facts.size, facts: job.facts });
    else if (job.v === 3) {
      const pack = await buildPack(base, composePackJobSchema.parse(job), new ComposeSources());
      if (!pack) throw new Error(`the stored message of ${job.messageId} is gone`);
      copies.push(...pack.copies.map((c) => ({ recipient: c.recipient, from: c.from, mime: c.mime, size: c.size, facts: pack.facts })));
    } else {
      const pack = job.pack ?? (await getOutgoingPack(base.MESSAGES, job.packKey!));
      if (!pack) throw new Error(`pack ${job.packKey} is not stored`);
      const wanted = new Set(job.recipients);
      copies.push(
        ...pack.copies
          .filter((c) => wanted.has(c.recipient))
          .map((c) => ({ recipient: c.recipient, from: c.from, mime: c.mime, size: c.size, facts: pack.facts })),
      );
    }
  }
  return copies;
}

/** How many partitions the test config gives a partitioned queue (2: wrangler.toml's local setting). */
export function partitionCount(queue: PartitionedQueue): number {
  return partitionCountOfBindings(Object.keys(env), queue);
}

/** `binding` standing in for every partition of `queue` (EVENTS, EVENTS_1, ...): a recorder then sees every domain's messages. */
export function everyPartition(queue: PartitionedQueue, binding: unknown): Record<string, unknown> {
  return partitionsAs(env, queue, binding);
}

/** A fresh domain name whose messages go to `partition` of the partitioned queues. */
export function domainInPartition(partition: number, prefix = "part"): string {
  for (;;) {
    const domain = uniqueDomain(prefix);
    if (partitionOf(domain, partitionCount("events")) === partition) return domain;
  }
}

/** Events queue messages as the events they hold: a pack as one `{type: "event"}` message per event. */
export function unpackEventMessages(bodies: unknown[]): Array<{ type: "event"; v: 1; domain: string; event: any }> {
  return (bodies as Array<Record<string, any>>).flatMap((body) =>
    body.type === "events"
      ? (body.events as Array<Record<string, unknown>>).map((delta) => ({
          type: "event" as const,
          v: 1 as const,
          domain: body.domain,
          event: mergeEvent(body.common, delta),
        }))
      : [body as any],
  );
}

/**
 * The test env with the delivery and events queues recording what is sent instead of delivering
 * it. The delivery queue runs the consumer's compose stage on each compose pack it gets, as the
 * consumer would before its SMTP sessions: the copies are built, the return paths saved and the
 * acceptance events sent to the recording events queue (a scheduled message's held pack comes
 * back to the recording delivery queue). `deliveries` has one copy per recipient to deliver and
 * `events` one message per event (packs unpacked); `jobs` and `eventMessages` are the queue
 * messages themselves.
 */
export function recordingQueues(base: Env = env as unknown as Env) {
  const deliveries: RecordedCopy[] = [];
  const events: any[] = []; // event messages; tests read their `event` freely
  const jobs: unknown[] = [];
  const eventMessages: unknown[] = [];
  const record = async (body: unknown) => {
    jobs.push(body);
    if ((body as DeliveryJob).v !== 3) return void deliveries.push(...(await copiesOf(base, [body])));
    const attempt = await composeAttempt(composePackJobSchema.parse(body), recordingEnv, new ComposeSources());
    if (attempt?.copies)
      deliveries.push(...attempt.copies.map((c) => ({ recipient: c.recipient, from: c.from, mime: c.mime, size: c.size, facts: attempt.facts })));
  };
  const recordingEnv: Env = {
    ...base,
    DELIVERY: {
      send: async (b: unknown) => record(b),
      sendBatch: async (bs: Array<{ body: unknown }>) => {
        for (const { body } of bs) await record(body);
      },
    } as unknown as Env["DELIVERY"],
    ...everyPartition("events", {
      send: async (b: unknown) => void (eventMessages.push(b), events.push(...unpackEventMessages([b]))),
      sendBatch: async (bs: Array<{ body: unknown }>) =>
        void (eventMessages.push(...bs.map((m) => m.body)), events.push(...unpackEventMessages(bs.map((m) => m.body)))),
    }),
  };
  return { env: recordingEnv, deliveries, events, jobs, eventMessages };
}

/** Settings that point the delivery consumer at the scripted SMTP relay of test/global-setup.ts (plain, no auth). */
export function scriptedRelay(): Pick<Env, "SMTP_RELAY_HOST" | "SMTP_RELAY_PORT" | "SMTP_RELAY_SECURITY" | "SMTP_RELAY_USER"> {
  return { SMTP_RELAY_HOST: "127.0.0.1", SMTP_RELAY_PORT: String(inject("smtpPort")), SMTP_RELAY_SECURITY: "none", SMTP_RELAY_USER: "" };
}

/** The test env with WEBHOOKS recording what is queued (bodies and delays) instead of delivering it. */
export function recordingWebhooksEnv<T = Record<string, any>>() {
  const sent: Array<{ body: T; delaySeconds?: number }> = [];
  const queue = {
    async send(body: T, options?: QueueSendOptions) {
      sent.push({ body, delaySeconds: options?.delaySeconds });
    },
    async sendBatch(messages: Iterable<MessageSendRequest<T>>) {
      for (const m of messages) sent.push({ body: m.body, delaySeconds: m.delaySeconds });
    },
  };
  return { env: { ...(env as unknown as Env), ...everyPartition("webhooks", queue) } as unknown as Env, sent };
}

/** A batch of `bodies` from `queue` as a consumer gets it, recording each message's ack or retry (with its delay). */
/**
 * Runs one batch of `bodies` on `queue` through the Worker's queue handler with `callEnv`, as the
 * runtime would deliver it, and answers what the handler acked and retried (and the batch).
 */
export async function runQueueBatch(queue: string, bodies: unknown[], callEnv: Env) {
  const batch = createMessageBatch(
    queue,
    bodies.map((body) => ({ id: randomId(), timestamp: new Date(), attempts: 1, body })),
  );
  const ctx = createExecutionContext();
  await worker.queue(batch, callEnv, ctx);
  return { batch, result: await getQueueResult(batch, ctx) };
}

export function fakeQueueBatch(queue: string, bodies: unknown[]) {
  const outcomes: Array<"ack" | { retry: number | undefined }> = [];
  const messages = bodies.map((body, i) => ({
    id: crypto.randomUUID(),
    timestamp: new Date(),
    attempts: 1,
    body,
    ack: () => void (outcomes[i] = "ack"),
    retry: (options?: QueueRetryOptions) => void (outcomes[i] = { retry: options?.delaySeconds }),
  }));
  return { batch: { queue, messages } as unknown as MessageBatch<unknown>, outcomes };
}

export function form(fields: Record<string, string>): FormData {
  const data = new FormData();
  for (const [k, v] of Object.entries(fields)) data.append(k, v);
  return data;
}

let counter = 0;
/** A fresh domain name per call: storage is shared between the tests of a file. */
export function uniqueDomain(prefix = "d"): string {
  return `${prefix}${Date.now().toString(36)}${(counter++).toString(36)}.example.com`;
}

export async function createDomain(name: string, tracking: { open?: boolean; click?: string; unsubscribe?: boolean } = {}): Promise<void> {
  const created = await api("/v4/domains", { method: "POST", body: form({ name }) });
  if (created.status !== 200) throw new Error(`create domain: ${created.status} ${await created.text()}`);
  if (tracking.open) await api(`/v3/domains/${name}/tracking/open`, { method: "PUT", body: form({ active: "yes" }) });
  if (tracking.click) await api(`/v3/domains/${name}/tracking/click`, { method: "PUT", body: form({ active: tracking.click }) });
  if (tracking.unsubscribe) await api(`/v3/domains/${name}/tracking/unsubscribe`, { method: "PUT", body: form({ active: "yes" }) });
}

export interface Prepared {
  html: string | null;
  text: string | null;
  headers: Record<string, string>;
}

export async function prepare(body: Record<string, unknown>): Promise<Prepared> {
  const response = await api("/v1/tracking/prepare", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  if (response.status !== 200) throw new Error(`prepare: ${response.status} ${await response.text()}`);
  return response.json();
}

/** The tracking links of a prepared message, by kind. */
export function linksIn(content: string): { open: string[]; click: string[]; unsubscribe: string[] } {
  const find = (kind: string) => [...content.matchAll(new RegExp(`https?://[^/"\\s<>]+/${kind}/[A-Za-z0-9_-]+`, "g"))].map((m) => m[0]);
  return { open: find("o"), click: find("c"), unsubscribe: find("u") };
}

export async function waitFor<T>(probe: () => Promise<T | undefined>, timeoutMs = 8000): Promise<T> {
  const started = Date.now();
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() - started > timeoutMs) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function listEvents(domain: string, query = ""): Promise<{ items: Array<Record<string, any>>; paging: Record<string, string> }> {
  const response = await api(`/v3/${domain}/events${query ? `?${query}` : ""}`);
  if (response.status !== 200) throw new Error(`events: ${response.status} ${await response.text()}`);
  return response.json();
}

/**
 * Every row of a domain in a table the event shards hold (events, event_tags, messages,
 * message_facts, return_paths), from the control database and every shard: what a test inspects below the API.
 */
export async function storedRows(
  table: "events" | "event_tags" | "messages" | "message_facts" | "return_paths",
  domain: string,
  callEnv: object = env,
): Promise<Record<string, any>[]> {
  const databases = Object.entries(callEnv).filter(([name]) => holdsEvents(name)) as Array<[string, D1Database]>;
  const pages = await Promise.all(
    databases.map(async ([name, db]) => {
      // An event shard's lean layout (migrations-events/0003) as the control database's rows: names, not ids, and the body as JSON text.
      if (name !== CONTROL_DATABASE && (table === "events" || table === "event_tags")) return leanRows(db, table, domain);
      return (await db.prepare(`SELECT * FROM ${table} WHERE domain = ?`).bind(domain).all<Record<string, any>>()).results;
    }),
  );
  return pages.flat();
}

async function leanRows(db: D1Database, table: "events" | "event_tags", domain: string): Promise<Record<string, any>[]> {
  const domainId = "(SELECT id FROM event_domains WHERE name = ?1)";
  if (table === "event_tags") {
    const sql = `SELECT ?1 AS domain, n.name AS tag, t.ts, e.id AS event_id FROM event_tags AS t JOIN event_tag_names AS n ON n.id = t.tag
      JOIN events AS e ON e.seq = t.seq WHERE n.domain_id = ${domainId}`;
    return (await db.prepare(sql).bind(domain).all<Record<string, any>>()).results;
  }
  const sql = `SELECT ${LEAN_EVENT_COLUMNS}, e.seq AS seq, e.severity AS severity, e.size AS size
    FROM events AS e JOIN event_parts AS p ON p.ref = e.part WHERE e.domain_id = ${domainId}`;
  const rows = (await db.prepare(sql).bind(domain).all<LeanRow & { seq: number; severity: string | null; size: number | null }>()).results;
  const bodies = leanBodies(rows, true);
  return rows.map((row, i) => ({
    seq: row.seq,
    id: row.id,
    domain: row.domain,
    ts: row.ts,
    event: row.event,
    severity: row.severity,
    recipient: row.recipient,
    from_header: row.fromHeader,
    to_header: row.toHeader,
    subject: row.subject,
    message_id: row.messageId,
    size: row.size,
    body: bodies[i],
  }));
}

export interface StoredEventRow {
  id: string;
  event: string;
  recipient: string;
  body: string;
}

/** A domain's stored events (storedRows), ordered by id: what a test inspects below the API. */
export async function storedEvents(domain: string, callEnv: object = env): Promise<StoredEventRow[]> {
  const rows = (await storedRows("events", domain, callEnv)).map(({ id, event, recipient, body }) => ({ id, event, recipient, body }) as StoredEventRow);
  return rows.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/**
 * The statements that write an event and its tags as a database held them before the lean rows
 * (migrations/0001 and migrations-events/0001: every column in the row, the body as JSON text): a
 * control database of before the shards, or a shard before migrations-events/0003.
 */
export function legacyEventStatements(db: D1Database, row: EventRow): D1PreparedStatement[] {
  return [
    db
      .prepare(
        `INSERT INTO events (id, domain, ts, event, severity, recipient, from_header, to_header, subject, message_id, size, body)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)`,
      )
      .bind(
        row.id,
        row.domain,
        row.ts,
        row.event,
        row.severity,
        row.recipient,
        row.from,
        row.to,
        row.subject,
        row.messageId,
        row.size,
        JSON.stringify(row.body),
      ),
    ...row.tags.map((tag) => db.prepare("INSERT INTO event_tags (domain, tag, ts, event_id) VALUES (?1, ?2, ?3, ?4)").bind(row.domain, tag, row.ts, row.id)),
  ];
}

/**
 * An env whose event shards record the SQL of every statement prepared on them, in order. The
 * control database is wrapped too (uncounted): the shards' directory is cached per control
 * database object, so a wrapper of its own makes the directory hand out the recording shards.
 */
export function shardRecordingEnv(base: Env = env as unknown as Env): { env: Env; sql: string[] } {
  const sql: string[] = [];
  const wrap = (db: D1Database, record: boolean) => ({
    prepare: (text: string) => {
      if (record) sql.push(text);
      return db.prepare(text);
    },
    batch: (statements: D1PreparedStatement[]) => db.batch(statements),
  });
  const wrapped: Record<string, unknown> = { ...base, DB: wrap(base.DB, false) };
  for (const [name, value] of Object.entries(base)) if (isShardBinding(name)) wrapped[name] = wrap(value as D1Database, true);
  return { env: wrapped as unknown as Env, sql };
}
