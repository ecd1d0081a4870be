// Types of bounce-sample.mjs for the TypeScript tests; the tool itself is plain JavaScript.
export declare const SAMPLE_FIELDS: readonly string[];
export declare function fillSample(template: string, values: Record<string, string>): string;
export declare function returnedHeaders(raw: string, returnPath: string): string;
