// Types of start-vars.mjs for the TypeScript tests (test/node); the tool itself is plain JavaScript.

export declare const MAILBOX_DEFAULTS: Readonly<{ MAILBOX_SMTP_PORT: string; MAILBOX_HTTP_PORT: string }>;
export declare const GENERATED_SECRETS: readonly string[];
export declare const RELAY_SETTINGS: readonly string[];
export declare function isWorkerSetting(name: string): boolean;
export declare function setting(name: string, devVars: ReadonlyMap<string, string>, env: Record<string, string | undefined>): string;
export declare function parseDevVars(text: string): Map<string, string>;
export declare function formatDevVar(name: string, value: string): string;
export declare function devVarsToRecord(options: {
  devVars: ReadonlyMap<string, string>;
  env: Record<string, string | undefined>;
  useMailbox: boolean;
  newSecret: () => string;
}): Map<string, string>;
export declare function workerVars(options: {
  devVars: ReadonlyMap<string, string>;
  env: Record<string, string | undefined>;
  port: string;
  /** Set when the local mailbox runs: the Worker relays to it. */
  mailboxSmtpPort?: number;
}): Map<string, string>;
export declare function dnsChecksAsked(devVars: ReadonlyMap<string, string>, env: Record<string, string | undefined>): boolean;
