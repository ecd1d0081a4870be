// Suppression lists as the API pages them (mailgun-api.md §5): the four kinds, a list query, and
// the paging links. Pages are keyset pages over the address (or allowlist value), alphabetical.
import { readIntParam } from "./integers";
import { MAX_ADDRESS_BYTES } from "./suppression-limits";
import { fitsUtf8Bytes } from "./utf8";

export const SUPPRESSION_KINDS = ["bounces", "unsubscribes", "complaints", "whitelists"] as const;
export type SuppressionKind = (typeof SUPPRESSION_KINDS)[number];

export const DEFAULT_SUPPRESSION_LIMIT = 100;
export const MAX_SUPPRESSION_LIMIT = 1000;

export type SuppressionPage = "first" | "next" | "previous" | "last";

export interface SuppressionListQuery {
  page: SuppressionPage;
  limit: number;
  /** The page boundary: `next` reads after it, `previous` before it. */
  address?: string;
  /** Prefix of the address (or allowlist value). */
  term?: string;
}

/** A stored record, whatever its kind; the API turns it into Mailgun's item shape. */
export interface SuppressionRow {
  /** The address, or for the allowlist the address or domain. */
  key: string;
  /** Unix milliseconds. */
  createdAt: number;
  code?: number;
  error?: string;
  tags?: string[];
  type?: "address" | "domain";
  reason?: string;
}

/** A Map: the request names the page, and built-in names such as constructor must not match. */
const PAGE_NAMES = new Map<string, SuppressionPage>([
  ["first", "first"],
  ["next", "next"],
  ["previous", "previous"],
  ["prev", "previous"],
  ["last", "last"],
]);

/** Parses `limit`, `page`, `address` and `term`; returns an error text for a bad value. */
export function parseSuppressionListQuery(params: URLSearchParams): SuppressionListQuery | string {
  const limit = readIntParam(params.get("limit"), "limit", { min: 1, max: MAX_SUPPRESSION_LIMIT, fallback: DEFAULT_SUPPRESSION_LIMIT });
  if (typeof limit === "string") return limit;
  const pageText = (params.get("page") ?? "").toLowerCase();
  const page = pageText === "" ? "first" : PAGE_NAMES.get(pageText);
  if (!page) return "'page' must be first, next, previous or last";
  const address = params.get("address")?.trim().toLowerCase() || undefined;
  const term = params.get("term")?.trim().toLowerCase() || undefined;
  if (address !== undefined && !fitsUtf8Bytes(address, MAX_ADDRESS_BYTES)) return `'address' must be at most ${MAX_ADDRESS_BYTES} bytes`;
  if (term !== undefined && !fitsUtf8Bytes(term, MAX_ADDRESS_BYTES)) return `'term' must be at most ${MAX_ADDRESS_BYTES} bytes`;
  // A boundary only means something when paging forward or back from it.
  const bounded = page === "next" || page === "previous";
  return {
    page: bounded && address === undefined ? (page === "next" ? "first" : "last") : page,
    limit,
    ...(bounded && address !== undefined ? { address } : {}),
    ...(term ? { term } : {}),
  };
}

export interface SuppressionPaging {
  first: string;
  next: string;
  previous: string;
  last: string;
}

/**
 * Absolute links (mailgun.js runs `new URL` on each) whose query string carries the page and the
 * `address` boundary: mailgun.js requests the text after the last `?` and reads `address` as the
 * iterator position. On an empty page the boundary stays put, so `next` can be polled.
 */
export function suppressionPaging(base: string, query: SuppressionListQuery, keys: string[]): SuppressionPaging {
  const url = (page: SuppressionPage, address?: string) => {
    const params = new URLSearchParams({ page });
    if (address !== undefined) params.set("address", address);
    params.set("limit", String(query.limit));
    if (query.term) params.set("term", query.term);
    return `${base}?${params}`;
  };
  const firstKey = keys[0] ?? query.address;
  const lastKey = keys[keys.length - 1] ?? query.address;
  return {
    first: url("first"),
    next: lastKey === undefined ? url("first") : url("next", lastKey),
    previous: firstKey === undefined ? url("last") : url("previous", firstKey),
    last: url("last"),
  };
}
