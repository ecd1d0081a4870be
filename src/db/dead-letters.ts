// Dead letters: queue messages that could not be processed, kept in D1 for inspection.
import { drizzle } from "drizzle-orm/d1";
import { deadLetters } from "./schema";

export interface DeadLetter {
  queue: string;
  reason: string;
  body: unknown;
}

export async function recordDeadLetters(db: D1Database, letters: DeadLetter[]): Promise<void> {
  if (letters.length === 0) return;
  const now = Date.now();
  const rows = letters.map((l) => ({ queue: l.queue, reason: l.reason.slice(0, 2000), body: safeJson(l.body), createdAt: now }));
  // Five columns per row: stay under D1's 100 bound values per statement.
  const orm = drizzle(db);
  for (let i = 0; i < rows.length; i += 19) await orm.insert(deadLetters).values(rows.slice(i, i + 19)).run();
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? "null";
  } catch {
    return String(value);
  }
}
