// Types of start-output.mjs for the TypeScript tests (test/node); the tool itself is plain JavaScript.

export declare function plain(text: string): string;
export declare function wranglerOutputFilter(): (line: string) => boolean;
