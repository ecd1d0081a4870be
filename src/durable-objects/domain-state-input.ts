// What DomainState takes over RPC, as zod schemas built on the shared suppression limits
// (domain/suppression-limits.ts), and how a refusal is answered: as a Refused value, never thrown.

import type { Refused } from "../domain/refusal";
import {
  MAX_ADDRESS_BYTES,
  MAX_NOTE_BYTES,
  MAX_RECIPIENTS_PER_CHECK,
  MAX_SUPPRESSION_BATCH,
  MAX_TAG_BYTES,
  MAX_TAGS_PER_UNSUBSCRIBE,
} from "../domain/suppression-limits";
import { MAX_SUPPRESSION_LIMIT, SUPPRESSION_KINDS } from "../domain/suppression-list";
import { fitsUtf8Bytes } from "../domain/utf8";
import * as z from "../domain/zod";

/** The tag that stands for "every message of the domain". */
export const ALL_TAGS = "*";

const bytes = (max: number) => z.string().check(z.refine((text) => fitsUtf8Bytes(text, max), `must be at most ${max} bytes`));
const key = z.pipe(
  bytes(MAX_ADDRESS_BYTES),
  z.transform((text: string) => text.trim().toLowerCase()),
);
const address = key.check(z.refine((text) => text.length >= 3, "must be an address"));
const millis = z.int().check(z.nonnegative());
const tag = bytes(MAX_TAG_BYTES).check(z.refine((text) => text.length > 0, "must not be empty"));

const unsubscribeSchema = z.object({
  address,
  tags: z.array(tag).check(z.minLength(1), z.maxLength(MAX_TAGS_PER_UNSUBSCRIBE, `At most ${MAX_TAGS_PER_UNSUBSCRIBE} tags per unsubscribe`)),
  /** Unix milliseconds. */
  createdAt: millis,
});
export type UnsubscribeRecord = z.input<typeof unsubscribeSchema>;

const bounceSchema = z.object({ address, code: z.int().check(z.gte(0), z.lte(999)), error: bytes(MAX_NOTE_BYTES), createdAt: millis });
export type BounceRecord = z.input<typeof bounceSchema>;

const complaintSchema = z.object({ address, createdAt: millis });
export type ComplaintRecord = z.input<typeof complaintSchema>;

/** The allowlist holds an address or a whole recipient domain. */
const allowlistSchema = z.object({
  type: z.enum(["address", "domain"]),
  value: key.check(z.refine((text) => text.length > 0, "must not be empty")),
  reason: bytes(MAX_NOTE_BYTES),
  createdAt: millis,
});
export type AllowlistRecord = z.input<typeof allowlistSchema>;

const batch = <T extends z.ZodMiniType>(item: T) =>
  z.array(item).check(z.maxLength(MAX_SUPPRESSION_BATCH, `At most ${MAX_SUPPRESSION_BATCH} records per call`));
export const unsubscribesInput = batch(unsubscribeSchema);
export const bouncesInput = batch(bounceSchema);
export const complaintsInput = batch(complaintSchema);
export const allowlistInput = batch(allowlistSchema);

export const kindInput = z.enum(SUPPRESSION_KINDS);
export const keyInput = key.check(z.refine((text) => text.length > 0, "must not be empty"));
export const addressInput = address;
export const tagInput = z.pipe(
  tag,
  z.transform((text: string) => (text === ALL_TAGS ? text : text.toLowerCase())),
);
export const listInput = z.object({
  page: z.enum(["first", "next", "previous", "last"]),
  limit: z.int().check(z.gte(1), z.lte(MAX_SUPPRESSION_LIMIT)),
  address: z.optional(keyInput),
  term: z.optional(bytes(MAX_ADDRESS_BYTES)),
});
export const checkInput = z.object({
  recipients: z.array(bytes(MAX_ADDRESS_BYTES)).check(z.maxLength(MAX_RECIPIENTS_PER_CHECK)),
  tags: z.array(bytes(MAX_TAG_BYTES)).check(z.maxLength(MAX_TAGS_PER_UNSUBSCRIBE)),
});

/** The parsed input, or a Refused that names the first problem ("0.address: must be at most 320 bytes"). */
export function accept<T extends z.ZodMiniType>(schema: T, input: unknown): z.output<T> | Refused {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const where = issue?.path.length ? `${issue.path.join(".")}: ` : "";
  return { refused: `${where}${issue?.message ?? "invalid input"}` };
}
