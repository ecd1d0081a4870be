// CSV import of a suppression list: POST /v3/{domain}/{type}/import, multipart, file field `file`.
// The file is read as a stream of text; good rows are written in chunks, bad rows are reported.
import type { Context } from "hono";
import { CsvReader, type CsvRecord } from "../domain/csv";
import { MAX_SUPPRESSION_BATCH } from "../domain/suppression-limits";
import type { SuppressionKind } from "../domain/suppression-list";
import { ApiError, badRequest } from "./errors";
import type { Fields } from "./fields";
import { RECORD_PARSERS, type SuppressionRecord } from "./suppression-input";

/** Mailgun's upload limit: 25 MB, in bytes. */
export const MAX_CSV_BYTES = 25 * 1024 * 1024;
/** Multipart framing around the file, in bytes. */
const MULTIPART_SLACK_BYTES = 64 * 1024;
/** Bad rows listed in the answer; the rest are only counted out of `imported`. */
const MAX_REPORTED_ERRORS = 1000;

const COLUMNS: Record<SuppressionKind, { allowed: string[]; required: string[] }> = {
  bounces: { allowed: ["address", "code", "error", "created_at"], required: ["address"] },
  unsubscribes: { allowed: ["address", "tags", "created_at"], required: ["address"] },
  complaints: { allowed: ["address", "created_at"], required: ["address"] },
  // Either column will do: each row carries an address or a domain.
  whitelists: { allowed: ["address", "domain"], required: [] },
};

export interface ImportResult {
  message: string;
  imported: number;
  errors: Array<{ line: number; message: string }>;
}

/** The column names, or a 400 "while reading csv header: ..." */
export function parseCsvHeader(kind: SuppressionKind, record: CsvRecord | undefined): string[] {
  const fail = (why: string) => badRequest(`while reading csv header: ${why}`);
  if (!record) throw fail("the file is empty");
  const names = record.fields.map((name, i) => (i === 0 ? name.replace(/^\uFEFF/, "") : name).trim().toLowerCase());
  const { allowed, required } = COLUMNS[kind];
  for (const name of names) {
    if (!allowed.includes(name)) throw fail(`unknown column "${name}" (expected ${allowed.join(",")})`);
  }
  if (new Set(names).size !== names.length) throw fail("a column is named twice");
  for (const name of required) if (!names.includes(name)) throw fail(`missing column "${name}"`);
  if (kind === "whitelists" && !names.includes("address") && !names.includes("domain")) throw fail('missing column "address" or "domain"');
  return names;
}

function rowFields(header: string[], record: CsvRecord): Fields {
  if (record.unterminated) throw badRequest('extraneous or missing " in quoted-field');
  if (record.fields.length > header.length) throw badRequest(`wrong number of fields: ${record.fields.length}, the header has ${header.length}`);
  const fields: Fields = new Map();
  // An empty cell means "use the default", as an absent form field does.
  record.fields.forEach((value, i) => value.trim() !== "" && fields.set(header[i]!, [value]));
  return fields;
}

async function* csvRecords(stream: ReadableStream<Uint8Array>): AsyncGenerator<CsvRecord> {
  const reader = new CsvReader();
  const text = stream.pipeThrough(new TextDecoderStream()).getReader();
  for (;;) {
    const { done, value } = await text.read();
    if (done) break;
    yield* reader.push(value);
  }
  yield* reader.end();
}

export async function importSuppressionsCsv(c: Context, kind: SuppressionKind, store: (records: SuppressionRecord[]) => Promise<void>): Promise<ImportResult> {
  const tooLarge = () => new ApiError(413, `The file must be at most ${MAX_CSV_BYTES / 1024 / 1024} MB`);
  if (Number(c.req.header("content-length") ?? 0) > MAX_CSV_BYTES + MULTIPART_SLACK_BYTES) throw tooLarge();
  if (!(c.req.header("content-type") ?? "").toLowerCase().startsWith("multipart/form-data")) throw badRequest("The file must be sent as multipart/form-data");
  let form: FormData;
  try {
    form = await c.req.raw.formData();
  } catch {
    throw badRequest("Could not parse the multipart body");
  }
  const file = form.get("file");
  if (!file || typeof file === "string") throw badRequest("Missing mandatory parameter: file");
  if (file.size > MAX_CSV_BYTES) throw tooLarge();

  const now = Date.now();
  const result: ImportResult = { message: "file uploaded successfully for processing. standby...", imported: 0, errors: [] };
  let header: string[] | undefined;
  let batch: SuppressionRecord[] = [];
  const flush = async () => {
    if (batch.length > 0) await store(batch);
    result.imported += batch.length;
    batch = [];
  };
  for await (const record of csvRecords(file.stream())) {
    if (!header) {
      header = parseCsvHeader(kind, record);
      continue;
    }
    try {
      batch.push(RECORD_PARSERS[kind](rowFields(header, record), now));
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      if (result.errors.length < MAX_REPORTED_ERRORS) result.errors.push({ line: record.line, message: error.message });
      continue;
    }
    if (batch.length === MAX_SUPPRESSION_BATCH) await flush();
  }
  if (!header) parseCsvHeader(kind, undefined);
  await flush();
  return result;
}
