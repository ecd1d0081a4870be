// Dead letters: queue messages that could not be processed, kept in D1 for inspection.

export interface DeadLetter {
  queue: string;
  reason: string;
  body: unknown;
}

/** Rows per INSERT: four bound values each, under D1's 100 bound values per statement. */
const DEAD_LETTER_ROWS_PER_INSERT = 25;

export async function recordDeadLetters(db: D1Database, letters: DeadLetter[]): Promise<void> {
  if (letters.length === 0) return;
  const now = Date.now();
  const rows = letters.map((l) => [l.queue, l.reason.slice(0, 2000), safeJson(l.body), now]);
  for (let i = 0; i < rows.length; i += DEAD_LETTER_ROWS_PER_INSERT) {
    const chunk = rows.slice(i, i + DEAD_LETTER_ROWS_PER_INSERT);
    await db
      .prepare(`INSERT INTO dead_letters (queue, reason, body, created_at) VALUES ${chunk.map(() => "(?, ?, ?, ?)").join(", ")}`)
      .bind(...chunk.flat())
      .run();
  }
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? "null";
  } catch {
    return String(value);
  }
}
