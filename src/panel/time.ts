// The panel's one way of writing an instant, "2026-11-26 09:14:03 UTC", in UTC or in the time zone
// the user chose (a cookie, checked with Intl), and reading a datetime-local field in that zone.
// Pure: no bindings.

export const UTC = "UTC";
/** The cookie that keeps the chosen time zone (display only: a forged one changes nothing else). */
export const TIME_ZONE_COOKIE = "tidings_tz";
/** How long the choice is kept. Unit: seconds (one year). */
export const TIME_ZONE_COOKIE_SECONDS = 365 * 24 * 3600;
/** IANA names are short ("America/Argentina/ComodRivadavia" is the longest, 32). Unit: characters. */
const MAX_TIME_ZONE_LENGTH = 64;

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterOf(zone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(zone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat("en-US", {
      timeZone: zone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
      timeZoneName: "shortOffset",
    });
    formatters.set(zone, formatter);
  }
  return formatter;
}

/** Whether Intl knows `zone` as a time zone (a name, never an offset typed by hand). */
export function isTimeZone(zone: string): boolean {
  if (!zone || zone.length > MAX_TIME_ZONE_LENGTH || !/^[A-Za-z][A-Za-z0-9_+/-]*$/.test(zone)) return false;
  try {
    formatterOf(zone);
    return true;
  } catch {
    return false;
  }
}

/** The zone to show times in: `asked` when Intl knows it, else UTC. */
export const timeZoneOr = (asked: string | undefined): string => (asked && isTimeZone(asked) ? asked : UTC);

/** The time zones to offer: what Intl lists, UTC first. */
export function timeZoneChoices(): string[] {
  const listed = typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : [];
  return [UTC, ...listed.filter((z) => z !== UTC)];
}

interface WallTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  /** "GMT+9", "GMT-3:30", or "GMT" for an offset of zero. */
  offset: string;
}

function wallTime(ms: number, zone: string): WallTime {
  const parts = Object.fromEntries(
    formatterOf(zone)
      .formatToParts(new Date(ms))
      .map((p) => [p.type, p.value]),
  );
  return {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    hour: Number(parts.hour),
    minute: Number(parts.minute),
    second: Number(parts.second),
    offset: parts.timeZoneName ?? "GMT",
  };
}

const two = (n: number) => String(n).padStart(2, "0");

/** "2026-11-26 09:14:03 UTC", or "2026-11-26 18:14:03 GMT+9" in Asia/Tokyo; "" for an invalid instant. */
export function formatInstant(ms: number, zone: string): string {
  if (!Number.isFinite(ms)) return "";
  const w = wallTime(ms, zone);
  const label = zone === UTC ? UTC : w.offset === "GMT" ? "GMT+0" : w.offset;
  return `${w.year}-${two(w.month)}-${two(w.day)} ${two(w.hour)}:${two(w.minute)}:${two(w.second)} ${label}`;
}

const ISO_WITHOUT_ZONE = /^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?$/;

/** A date the API wrote (RFC 1123, ISO 8601, or epoch seconds) in the panel's format; text it cannot read stays as it is. */
export function formatApiDate(value: string | number | undefined | null, zone: string): string {
  if (value === undefined || value === null || value === "") return "";
  // An ISO date without a zone is UTC here (Date.parse would read it in the runtime's local zone).
  const text = typeof value === "string" && ISO_WITHOUT_ZONE.test(value) ? `${value}Z` : value;
  const ms = typeof text === "number" ? text * 1000 : Date.parse(text);
  return Number.isNaN(ms) ? String(value) : formatInstant(ms, zone);
}

/** The `<input type="datetime-local">` value of an instant in `zone` ("2026-11-26T18:14"). */
export function toDateTimeLocal(ms: number, zone: string): string {
  const w = wallTime(ms, zone);
  return `${w.year}-${two(w.month)}-${two(w.day)}T${two(w.hour)}:${two(w.minute)}`;
}

const LOCAL = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d)(?::(\d\d))?$/;

/**
 * Epoch ms of a datetime-local value read as a wall time in `zone`; null when it is not one.
 * The zone's offset at that instant is found by guessing UTC and correcting twice (a DST change
 * between the guess and the answer moves the offset once).
 */
export function fromDateTimeLocal(value: string, zone: string): number | null {
  const m = LOCAL.exec(value);
  if (!m) return null;
  const [, y, mo, d, h, mi, s] = m.map(Number) as number[];
  const asUtc = Date.UTC(y!, mo! - 1, d!, h!, mi!, s || 0);
  if (Number.isNaN(asUtc)) return null;
  let guess = asUtc;
  for (let i = 0; i < 2; i++) {
    const w = wallTime(guess, zone);
    const shown = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
    guess += asUtc - shown;
  }
  return guess;
}
