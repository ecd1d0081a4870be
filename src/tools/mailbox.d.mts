// Types of mailbox.mjs for the TypeScript tests (test/node); the tool itself is plain JavaScript.

/** One stored message, as in its <id>.json sidecar and in GET /api/messages. */
export interface MailboxMessage {
  id: string;
  /** The From header as "Name <address>" (decoded); the envelope sender when the message has none. */
  from: string;
  /** Envelope sender (MAIL FROM), the Worker's VERP return path; empty for the null sender. */
  envelopeFrom: string;
  /** Envelope recipients (RCPT TO). */
  to: string[];
  subject: string;
  /** ISO 8601, UTC. */
  receivedAt: string;
  /** Bytes of the .eml. */
  size: number;
}

export interface MailboxOptions {
  /** 0 picks a free port. */
  smtpPort: number;
  /** 0 picks a free port. */
  httpPort: number;
  /** Where the .eml files and their .json sidecars go; created if missing. */
  dir: string;
  /** Defaults to 127.0.0.1. */
  host?: string;
  /** Called once a message is stored. */
  onMessage?: (message: MailboxMessage) => void;
}

export interface RunningMailbox {
  smtpPort: number;
  httpPort: number;
  close(): Promise<void>;
}

export declare const DEFAULT_MAILBOX_DIR: string;
export declare function startMailbox(options: MailboxOptions): Promise<RunningMailbox>;
export declare function listMessages(dir: string): Promise<MailboxMessage[]>;
export declare function clearMessages(dir: string): Promise<number>;
export declare function extractLinks(parts: { html?: string; text?: string }): string[];
export declare function escapeHtml(value: unknown): string;
export declare function decodeEntities(text: string): string;
