// Every D1 table in Drizzle's terms: the typed record of what migrations/ builds (docs/storage.md,
// "Schema and migrations"). The SQL files stay the source of truth and the Worker queries D1 with
// hand-written SQL, importing this file for its types only, so drizzle-orm is not in the bundle.
// `npm run schema:check` (CI) has drizzle-kit generate this schema's SQL and compares the tables
// it makes with the migrations' (columns, types, defaults, keys, indexes, checks, foreign keys).
// Drizzle cannot say WITHOUT ROWID, so the clustered tables' layout is the migrations' alone.
import { sql } from "drizzle-orm";
import { check, foreignKey, index, integer, primaryKey, type SQLiteIntegerBuilderInitial, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { STATS_COUNTERS, type StatsCounter } from "../domain/stats-counters";

/** A CHECK constraint as the migration wrote it; named as SQLite names an unnamed one: not at all in the comparison. */
const rule = (name: string, condition: string) => check(name, sql.raw(condition));

// 0001_init, 0002_retention --------------------------------------------------------------------

export const domains = sqliteTable(
  "domains",
  {
    name: text("name").primaryKey().notNull(),
    id: text("id").notNull().unique(),
    webPrefix: text("web_prefix").notNull().default("email"),
    webScheme: text("web_scheme", { enum: ["http", "https"] })
      .notNull()
      .default("http"),
    spamAction: text("spam_action").notNull().default("disabled"),
    wildcard: integer("wildcard", { mode: "boolean" }).notNull().default(false),
    openActive: integer("open_active", { mode: "boolean" }).notNull().default(false),
    openPlaceAtTop: integer("open_place_at_top", { mode: "boolean" }).notNull().default(false),
    clickActive: text("click_active", { enum: ["no", "yes", "htmlonly"] })
      .notNull()
      .default("no"),
    unsubscribeActive: integer("unsubscribe_active", { mode: "boolean" }).notNull().default(false),
    unsubscribeHtmlFooter: text("unsubscribe_html_footer").notNull(),
    unsubscribeTextFooter: text("unsubscribe_text_footer").notNull(),
    /** Unix milliseconds. */
    createdAt: integer("created_at").notNull(),
    /** Days events are kept (2..30); the cron purge deletes older ones. */
    retentionDays: integer("retention_days").notNull().default(30),
  },
  () => [
    rule("web_scheme", "web_scheme IN ('http', 'https')"),
    rule("click_active", "click_active IN ('no', 'yes', 'htmlonly')"),
    rule("retention_days", "retention_days BETWEEN 2 AND 30"),
  ],
);
export type DomainRecord = typeof domains.$inferSelect;

export const messages = sqliteTable(
  "messages",
  {
    domain: text("domain").notNull(),
    messageId: text("message_id").notNull(),
    recipient: text("recipient").notNull(),
    tags: text("tags").notNull().default("[]"),
    userVariables: text("user_variables").notNull().default("{}"),
    headers: text("headers").notNull().default("{}"),
    preparedAt: integer("prepared_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.domain, t.messageId, t.recipient] }), index("messages_by_time").on(t.domain, t.preparedAt)],
);

export const events = sqliteTable(
  "events",
  {
    id: text("id").notNull(),
    domain: text("domain").notNull(),
    /** Microseconds since the epoch. */
    ts: integer("ts").notNull(),
    event: text("event").notNull(),
    severity: text("severity"),
    recipient: text("recipient").notNull(),
    fromHeader: text("from_header"),
    toHeader: text("to_header"),
    subject: text("subject"),
    messageId: text("message_id"),
    size: integer("size"),
    body: text("body").notNull(),
  },
  (t) => [
    uniqueIndex("events_by_domain_time").on(t.domain, t.ts, t.id),
    index("events_by_recipient").on(t.domain, t.recipient, t.ts, t.id),
    index("events_by_type").on(t.domain, t.event, t.ts, t.id),
    index("events_by_message").on(t.domain, t.messageId, t.ts, t.id),
  ],
);

export const eventTags = sqliteTable(
  "event_tags",
  { domain: text("domain").notNull(), tag: text("tag").notNull(), ts: integer("ts").notNull(), eventId: text("event_id").notNull() },
  (t) => [primaryKey({ columns: [t.domain, t.tag, t.ts, t.eventId] })],
);

export const deadLetters = sqliteTable("dead_letters", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  queue: text("queue").notNull(),
  reason: text("reason").notNull(),
  body: text("body").notNull(),
  createdAt: integer("created_at").notNull(),
});

// 0003_webhooks ---------------------------------------------------------------------------------

export const webhooks = sqliteTable(
  "webhooks",
  { domain: text("domain").notNull(), webhook: text("webhook").notNull(), url: text("url").notNull(), position: integer("position").notNull() },
  (t) => [primaryKey({ columns: [t.domain, t.webhook, t.url] }), foreignKey({ columns: [t.domain], foreignColumns: [domains.name] }).onDelete("cascade")],
);

export const accountSettings = sqliteTable("account_settings", { name: text("name").primaryKey().notNull(), value: text("value").notNull() });

export const webhookDeliveries = sqliteTable(
  "webhook_deliveries",
  {
    id: text("id").primaryKey().notNull(),
    domain: text("domain").notNull(),
    webhook: text("webhook").notNull(),
    url: text("url").notNull(),
    eventId: text("event_id").notNull(),
    status: text("status", { enum: ["delivered", "rejected", "failed"] }).notNull(),
    attempts: integer("attempts").notNull(),
    lastStatus: integer("last_status"),
    lastError: text("last_error").notNull().default(""),
    payload: text("payload"),
    finishedAt: integer("finished_at").notNull(),
  },
  (t) => [
    rule("status", "status IN ('delivered', 'rejected', 'failed')"),
    index("webhook_deliveries_by_status").on(t.domain, t.status, t.finishedAt, t.id),
    index("webhook_deliveries_by_time").on(t.finishedAt),
  ],
);

// 0004_rollups ----------------------------------------------------------------------------------

/** The event shards' directory (migrations/0011): the ring's layout in force from each day. */
export const eventLayouts = sqliteTable("event_layouts", {
  fromDay: integer("from_day").primaryKey().notNull(),
  slots: integer("slots").notNull(),
  perSlot: integer("per_slot").notNull(),
  pins: text("pins").notNull().default("[]"),
  createdAt: integer("created_at").notNull(),
});

/** The day keys (migrations/0013, WITHOUT ROWID there): events per (day, key) for the Events API's equality filters. */
export const eventDayKeys = sqliteTable("event_day_keys", { day: integer("day").notNull(), key: integer("key").notNull(), n: integer("n").notNull() }, (t) => [
  primaryKey({ columns: [t.day, t.key] }),
]);

export const rollupState = sqliteTable("rollup_state", { name: text("name").primaryKey().notNull(), lastRowid: integer("last_rowid").notNull() });

/** The 19 counter columns both rollup tables carry (STATS_COUNTERS), each NOT NULL DEFAULT 0. */
const counters = () =>
  Object.fromEntries(STATS_COUNTERS.map((name) => [name, integer(name).notNull().default(0)])) as {
    [K in StatsCounter]: ReturnType<ReturnType<SQLiteIntegerBuilderInitial<K>["notNull"]>["default"]>;
  };

export const statsCounters = sqliteTable(
  "stats_counters",
  {
    domain: text("domain").notNull(),
    tag: text("tag").notNull(),
    resolution: text("resolution", { enum: ["hour", "day"] }).notNull(),
    bucket: integer("bucket").notNull(),
    ...counters(),
  },
  (t) => [
    rule("resolution", "resolution IN ('hour', 'day')"),
    primaryKey({ columns: [t.domain, t.tag, t.resolution, t.bucket] }),
    index("stats_counters_by_time").on(t.resolution, t.bucket),
  ],
);

export const statsDimensions = sqliteTable(
  "stats_dimensions",
  {
    domain: text("domain").notNull(),
    tag: text("tag").notNull(),
    kind: text("kind", { enum: ["country", "device", "bot", "provider"] }).notNull(),
    value: text("value").notNull(),
    day: integer("day").notNull(),
    ...counters(),
  },
  (t) => [
    rule("kind", "kind IN ('country', 'device', 'bot', 'provider')"),
    primaryKey({ columns: [t.domain, t.tag, t.kind, t.day, t.value] }),
    index("stats_dimensions_by_time").on(t.day),
  ],
);

export const statsSeen = sqliteTable(
  "stats_seen",
  {
    domain: text("domain").notNull(),
    messageId: text("message_id").notNull(),
    recipient: text("recipient").notNull(),
    scope: text("scope").notNull(),
    firstSeen: integer("first_seen").notNull(),
  },
  (t) => [primaryKey({ columns: [t.domain, t.messageId, t.recipient, t.scope] }), index("stats_seen_by_time").on(t.firstSeen)],
);

export const tags = sqliteTable(
  "tags",
  {
    domain: text("domain").notNull(),
    tag: text("tag").notNull(),
    description: text("description").notNull().default(""),
    firstSeen: integer("first_seen").notNull(),
    lastSeen: integer("last_seen").notNull(),
  },
  (t) => [primaryKey({ columns: [t.domain, t.tag] }), index("tags_by_last_seen").on(t.domain, t.lastSeen)],
);

// 0005_certificates, 0006_dns_checks ------------------------------------------------------------

export const certificates = sqliteTable(
  "certificates",
  {
    host: text("host").primaryKey().notNull(),
    domain: text("domain").notNull(),
    hostnameId: text("hostname_id"),
    status: text("status", { enum: ["processing", "active", "expired", "error"] }).notNull(),
    error: text("error").notNull().default(""),
    hostnameStatus: text("hostname_status").notNull().default(""),
    sslStatus: text("ssl_status").notNull().default(""),
    cname: text("cname", { enum: ["valid", "invalid", "unknown"] })
      .notNull()
      .default("unknown"),
    dnsRecords: text("dns_records").notNull().default("[]"),
    expiresAt: integer("expires_at"),
    attempts: integer("attempts").notNull().default(0),
    nextCheckAt: integer("next_check_at").notNull(),
    checkedAt: integer("checked_at").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [
    rule("status", "status IN ('processing', 'active', 'expired', 'error')"),
    rule("cname", "cname IN ('valid', 'invalid', 'unknown')"),
    index("certificates_due").on(t.nextCheckAt),
  ],
);

export const dnsChecks = sqliteTable(
  "dns_checks",
  {
    host: text("host").primaryKey().notNull(),
    domain: text("domain").notNull(),
    expected: text("expected").notNull().default(""),
    valid: text("valid", { enum: ["valid", "invalid", "unknown"] })
      .notNull()
      .default("unknown"),
    cached: text("cached").notNull().default("[]"),
    error: text("error").notNull().default(""),
    attempts: integer("attempts").notNull().default(0),
    nextCheckAt: integer("next_check_at").notNull().default(0),
    checkedAt: integer("checked_at").notNull().default(0),
  },
  (t) => [
    rule("valid", "valid IN ('valid', 'invalid', 'unknown')"),
    foreignKey({ columns: [t.domain], foreignColumns: [domains.name] }).onDelete("cascade"),
    index("dns_checks_domain").on(t.domain),
    index("dns_checks_due").on(t.nextCheckAt),
  ],
);

// 0007_return_paths, 0008_message_facts, 0009_keys ----------------------------------------------

export const returnPaths = sqliteTable(
  "return_paths",
  {
    domain: text("domain").notNull(),
    id: text("id").notNull(),
    messageId: text("message_id").notNull(),
    recipient: text("recipient").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  // return_paths_by_id: 0010_return_paths_by_id (BOUNCE_DOMAIN addresses name no sending domain).
  (t) => [primaryKey({ columns: [t.domain, t.id] }), index("return_paths_by_time").on(t.domain, t.createdAt), index("return_paths_by_id").on(t.id)],
);

export const messageFacts = sqliteTable(
  "message_facts",
  {
    domain: text("domain").notNull(),
    messageId: text("message_id").notNull(),
    tags: text("tags").notNull().default("[]"),
    userVariables: text("user_variables").notNull().default("{}"),
    headers: text("headers").notNull().default("{}"),
    preparedAt: integer("prepared_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.domain, t.messageId] }), index("message_facts_by_time").on(t.domain, t.preparedAt)],
);

export const apiKeys = sqliteTable(
  "api_keys",
  {
    id: text("id").primaryKey(),
    secretHash: text("secret_hash").notNull().unique(),
    role: text("role", { enum: ["admin", "developer", "basic", "sending"] }).notNull(),
    kind: text("kind", { enum: ["user", "domain"] }).notNull(),
    domainName: text("domain_name"),
    description: text("description").notNull().default(""),
    createdAt: integer("created_at").notNull(),
    expiresAt: integer("expires_at"),
  },
  () => [
    rule("role", "role IN ('admin', 'developer', 'basic', 'sending')"),
    rule("kind", "kind IN ('user', 'domain')"),
    rule("domain_key", "(kind = 'domain') = (domain_name IS NOT NULL)"),
    rule("domain_role", "(kind = 'domain') = (role = 'sending')"),
  ],
);
