// Drizzle view of the D1 tables in migrations/ (the SQL files are the source of truth; see
// docs/storage.md). Event rows are written and read with hand-written SQL in events-store.ts.
import { integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";

export const domains = sqliteTable("domains", {
  name: text("name").primaryKey(),
  id: text("id").notNull(),
  webPrefix: text("web_prefix").notNull(),
  webScheme: text("web_scheme", { enum: ["http", "https"] }).notNull(),
  spamAction: text("spam_action").notNull(),
  wildcard: integer("wildcard", { mode: "boolean" }).notNull(),
  openActive: integer("open_active", { mode: "boolean" }).notNull(),
  openPlaceAtTop: integer("open_place_at_top", { mode: "boolean" }).notNull(),
  clickActive: text("click_active", { enum: ["no", "yes", "htmlonly"] }).notNull(),
  unsubscribeActive: integer("unsubscribe_active", { mode: "boolean" }).notNull(),
  unsubscribeHtmlFooter: text("unsubscribe_html_footer").notNull(),
  unsubscribeTextFooter: text("unsubscribe_text_footer").notNull(),
  createdAt: integer("created_at").notNull(),
  /** Days events are kept (2..30); the cron purge deletes older ones. */
  retentionDays: integer("retention_days").notNull().default(30),
});
export type DomainRecord = typeof domains.$inferSelect;

export const messages = sqliteTable(
  "messages",
  {
    domain: text("domain").notNull(),
    messageId: text("message_id").notNull(),
    recipient: text("recipient").notNull(),
    tags: text("tags").notNull(),
    userVariables: text("user_variables").notNull(),
    headers: text("headers").notNull(),
    preparedAt: integer("prepared_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.domain, t.messageId, t.recipient] })],
);

export const deadLetters = sqliteTable("dead_letters", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  queue: text("queue").notNull(),
  reason: text("reason").notNull(),
  body: text("body").notNull(),
  createdAt: integer("created_at").notNull(),
});
