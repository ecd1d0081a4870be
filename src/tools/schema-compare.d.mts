// Types of schema-compare.mjs for the TypeScript tests (test/node); the tool itself is plain JavaScript.

/** One table as SQLite reports it, each part as comparable lines. */
export interface DescribedTable {
  columns: string[];
  indexes: string[];
  foreignKeys: string[];
  checks: string[];
  autoincrement: boolean;
}

export type DescribedSchema = Map<string, DescribedTable>;

export function describeSchemas(...statementLists: string[][]): Promise<DescribedSchema[]>;
export function checksOf(createTable: string): string[];
export function diffSchemas(left: DescribedSchema, right: DescribedSchema, leftName?: string, rightName?: string): string[];
