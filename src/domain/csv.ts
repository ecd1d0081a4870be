// A streaming CSV reader (RFC 4180): feed it text chunks as they arrive, take whole records out.
// Quoted fields may hold commas, doubled quotes and line breaks, and may span chunks.

export interface CsvRecord {
  /** 1-based line where the record starts. */
  line: number;
  fields: string[];
  /** The file ended inside a quoted field. */
  unterminated?: true;
}

export class CsvReader {
  #field = "";
  #fields: string[] = [];
  #quoted = false;
  /** Just saw the closing quote of a quoted field: a second quote means a literal one. */
  #afterQuote = false;
  #line = 1;
  #recordLine = 1;

  /** The records completed by this chunk; blank lines are skipped. */
  push(chunk: string): CsvRecord[] {
    const records: CsvRecord[] = [];
    for (const c of chunk) {
      if (this.#quoted) {
        if (c === '"') {
          this.#quoted = false;
          this.#afterQuote = true;
        } else {
          if (c === "\n") this.#line++;
          this.#field += c;
        }
        continue;
      }
      const afterQuote = this.#afterQuote;
      this.#afterQuote = false;
      if (c === '"') {
        if (afterQuote || this.#field === "") this.#quoted = true;
        if (afterQuote) this.#field += '"';
        else if (this.#field !== "") this.#field += c; // a stray quote inside a bare field stays
      } else if (c === ",") {
        this.#fields.push(this.#field);
        this.#field = "";
      } else if (c === "\n") {
        this.#endRecord(records);
        this.#line++;
        this.#recordLine = this.#line;
      } else if (c !== "\r") {
        this.#field += c;
      }
    }
    return records;
  }

  /** Whatever record the input ended in without a final line break. */
  end(): CsvRecord[] {
    const records: CsvRecord[] = [];
    const unterminated = this.#quoted;
    this.#endRecord(records);
    if (unterminated && records[0]) records[0].unterminated = true;
    this.#quoted = false;
    return records;
  }

  #endRecord(records: CsvRecord[]): void {
    this.#fields.push(this.#field);
    const fields = this.#fields;
    this.#fields = [];
    this.#field = "";
    if (fields.length === 1 && fields[0]!.trim() === "") return;
    records.push({ line: this.#recordLine, fields });
  }
}
