(Uint8Array.prototype as any).toBase64 ??= function(o?: any){ let s = Buffer.from(this).toString("base64"); if (o?.alphabet==="base64url") s = s.replace(/\+/g,"-").replace(/\//g,"_"); if (o?.omitPadding) s = s.replace(/=+$/,""); return s; };
(Uint8Array.prototype as any).toHex ??= function(){ return Buffer.from(this).toString("hex"); };
import { writeFileSync, appendFileSync, readFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { productionEvents } from "../bench/support/production-events";
import { leanEvent } from "../src/domain/lean-event";
const out = process.argv[2]!;
const shape = { domains: 1000, biggest: Number(process.env.BIGGEST ?? 30000), zipf: 2, recipients: 1_000_000, days: 30, endMs: Date.parse("2026-11-29T00:00:00Z"), seed: 20261129 };
writeFileSync(out, ["0001_events.sql", "0002_events_text.sql", "0003_lean_events.sql"].map((f) => readFileSync(`migrations-events/${f}`, "utf8")).join("\n"));
const q = (s: string | null | number) => (s === null ? "NULL" : typeof s === "number" ? String(s) : `'${s.replace(/'/g, "''")}'`);
const x = (b: Uint8Array) => `X'${Buffer.from(b).toString("hex")}'`;
let n = 0;
const dom = `(SELECT id FROM event_domains WHERE name = `;
for (const rows of productionEvents(shape, 100)) {
  let sql = "BEGIN;\n";
  for (const row of rows) {
    n++;
    const lean = leanEvent(row);
    const c = lean.columns;
    const hash = createHash("sha256").update(JSON.stringify([row.domain, c.messageId, c.subject, c.from, c.to, lean.partJson])).digest().subarray(0, 16);
    sql += `INSERT OR IGNORE INTO event_domains (name) VALUES (${q(row.domain)});\n`;
    sql += `INSERT OR IGNORE INTO event_parts (hash, domain_id, message_id, subject, from_header, to_header, body) VALUES (${x(hash)}, ${dom}${q(row.domain)}), ${q(c.messageId)}, ${q(c.subject)}, ${q(c.from)}, ${q(c.to)}, ${x(lean.part)});\n`;
    sql += `INSERT OR IGNORE INTO events (domain_id, ts, id, event, severity, recipient, size, part, body) VALUES (${dom}${q(row.domain)}), ${row.ts}, ${q(row.id)}, ${q(row.event)}, ${q(row.severity)}, ${q(row.recipient)}, ${q(row.size)}, (SELECT ref FROM event_parts WHERE hash = ${x(hash)}), ${x(lean.rest)});\n`;
    for (const t of row.tags) sql += `INSERT OR IGNORE INTO event_tags (domain_id, tag, ts, seq) VALUES (${dom}${q(row.domain)}), ${q(t)}, ${row.ts}, last_insert_rowid());\n`.replace("last_insert_rowid()", `(SELECT seq FROM events WHERE domain_id = ${dom}${q(row.domain)}) AND ts = ${row.ts} AND id = ${q(row.id)})`);
  }
  appendFileSync(out, sql + "COMMIT;\n");
}
console.error("events", n);
