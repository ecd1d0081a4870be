// Where an event lives (docs/storage.md, "Event shards"): pure rules, no bindings. Events are
// spread over a ring of day slots, each slot a row of D1 databases; a domain's events of one day
// sit in one database of that day's slot, chosen by a stable hash of the domain (or the domain's
// own database, for a pinned domain). A layout says how many slots and databases per slot; the
// directory is the list of layouts, each in force from a day on, and a layout is only ever added
// for a day that has not started, so the database of a (domain, day) never changes once it has
// events: cursors and rollup watermarks stay valid across a rebalancing.

/** Microseconds in a day: event timestamps are µs, days are counted from the Unix epoch (UTC). */
export const DAY_US = 86_400_000_000;
/** The longest retention a domain can choose (PUT /v3/domains/{d}/retention_days). Unit: days. */
export const MAX_RETENTION_DAYS = 30;
/** The shortest. Unit: days. */
export const MIN_RETENTION_DAYS = 2;
/**
 * Slots in a ring, at least: a slot is emptied the day before the ring comes round to it, which
 * must be past every domain's retention (30 days back from any moment of today reach into the day
 * 30 days ago; the slot of tomorrow then last held the day 31 days back only if there are 32).
 */
export const MIN_RING_SLOTS = MAX_RETENTION_DAYS + 2;
/** A new layout starts this many days after it is first seen, so every isolate's cached directory (a minute) knows it first. */
export const LAYOUT_LEAD_DAYS = 2;
/** The control database's binding: it holds the directory, and every day of a "legacy" layout. */
export const CONTROL_DATABASE = "DB";
/** Binding names of shard databases: EV_S<slot>_K<index> (hashed) and EV_S<slot>_P<pin> (pinned). */
const SHARD_BINDING = /^EV_S(\d+)_([KP])(\d+)$/;

/** True for an event shard's binding name. */
export function isShardBinding(name: string): boolean {
  return SHARD_BINDING.test(name);
}

/** True for a binding that holds events: the control database or an event shard. */
export function holdsEvents(name: string): boolean {
  return name === CONTROL_DATABASE || SHARD_BINDING.test(name);
}

export interface ShardLayout {
  /** First day (days since the epoch, UTC) the layout is in force. */
  fromDay: number;
  /** Slots in the ring; 0 is the layout before sharding: every day in the control database. */
  slots: number;
  /** Hashed databases per slot. */
  perSlot: number;
  /** Domains with databases of their own: pins[i] lives in EV_S<slot>_P<i>. */
  pins: string[];
}

export function dayOf(tsUs: number): number {
  return Math.floor(tsUs / DAY_US);
}

/**
 * The first day any domain may still read at `nowMs`: the day MAX_RETENTION_DAYS back. What belongs
 * to an earlier day (an event, a message's metadata, a return path) is past every retention and is
 * not stored: its slot may already hold another day.
 */
export function firstStorableDay(nowMs: number): number {
  return dayOf((nowMs - MAX_RETENTION_DAYS * 86_400_000) * 1000);
}

/** The stats rollup's watermark name for a shard (the control database keeps its historical one). */
export function rollupStateName(shard: string): string {
  return shard === CONTROL_DATABASE ? "events" : `events:${shard}`;
}

/** FNV-1a (32-bit) of the domain's UTF-16 code units: stable across isolates and deploys; not a secret. */
export function domainHash(domain: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < domain.length; i++) hash = Math.imul(hash ^ domain.charCodeAt(i), 0x01000193);
  return hash >>> 0;
}

export function shardBinding(slot: number, kind: "K" | "P", index: number): string {
  return `EV_S${slot}_${kind}${index}`;
}

/** The binding holding a domain's events of a day under a layout. */
export function shardFor(layout: ShardLayout, domain: string, day: number): string {
  if (layout.slots === 0) return CONTROL_DATABASE;
  const slot = day % layout.slots;
  const pin = layout.pins.indexOf(domain);
  return pin >= 0 ? shardBinding(slot, "P", pin) : shardBinding(slot, "K", domainHash(domain) % layout.perSlot);
}

/** Every binding of a day's slot under a layout (the control database for a legacy layout). */
export function shardsOfSlot(layout: ShardLayout, day: number): string[] {
  if (layout.slots === 0) return [CONTROL_DATABASE];
  const slot = day % layout.slots;
  return [...Array.from({ length: layout.perSlot }, (_, k) => shardBinding(slot, "K", k)), ...layout.pins.map((_, p) => shardBinding(slot, "P", p))];
}

/** The layout in force on a day: the last one starting on or before it (layouts sorted by fromDay). */
export function layoutOn(layouts: readonly ShardLayout[], day: number): ShardLayout {
  let found: ShardLayout | undefined;
  for (const layout of layouts) {
    if (layout.fromDay > day) break;
    found = layout;
  }
  // Before the first layout nothing was sharded: the control database (an empty read there is harmless).
  return found ?? { fromDay: 0, slots: 0, perSlot: 0, pins: [] };
}

export class ShardLayoutError extends Error {}

/**
 * The ring the Worker's bindings describe: every EV_S<s>_K<k> for s < slots and k < perSlot, and
 * EV_S<s>_P<p> for each pinned domain, none missing and none extra. No shard bindings at all is the
 * unsharded layout (slots 0). Throws ShardLayoutError naming what is wrong.
 */
export function layoutOfBindings(names: Iterable<string>, pins: string[]): Omit<ShardLayout, "fromDay"> {
  const found = new Set<string>();
  let slots = 0;
  let perSlot = 0;
  let pinned = 0;
  for (const name of names) {
    const match = SHARD_BINDING.exec(name);
    if (!match) continue;
    found.add(name);
    const slot = Number(match[1]);
    const index = Number(match[3]);
    slots = Math.max(slots, slot + 1);
    if (match[2] === "K") perSlot = Math.max(perSlot, index + 1);
    else pinned = Math.max(pinned, index + 1);
  }
  if (found.size === 0) {
    if (pins.length > 0) throw new ShardLayoutError("EVENT_SHARD_PINS names domains but there are no shard databases");
    return { slots: 0, perSlot: 0, pins: [] };
  }
  if (pinned !== pins.length)
    throw new ShardLayoutError(`EVENT_SHARD_PINS names ${pins.length} domains; the bindings have ${pinned} pinned databases per slot`);
  if (new Set(pins).size !== pins.length) throw new ShardLayoutError("EVENT_SHARD_PINS names a domain twice");
  if (slots < MIN_RING_SLOTS) throw new ShardLayoutError(`the ring has ${slots} slots; it needs at least ${MIN_RING_SLOTS} (the longest retention + 2)`);
  if (perSlot < 1) throw new ShardLayoutError("every slot needs at least one hashed database (EV_S<slot>_K0)");
  const layout = { slots, perSlot, pins };
  for (let slot = 0; slot < slots; slot++) {
    for (const name of shardsOfSlot({ fromDay: 0, ...layout }, slot)) {
      if (!found.has(name)) throw new ShardLayoutError(`shard database ${name} is missing (run \`npm run shards\`)`);
    }
  }
  if (found.size !== slots * (perSlot + pins.length)) throw new ShardLayoutError("the shard bindings do not form a complete ring (run `npm run shards`)");
  return layout;
}

export function sameLayout(a: Omit<ShardLayout, "fromDay">, b: Omit<ShardLayout, "fromDay">): boolean {
  return a.slots === b.slots && a.perSlot === b.perSlot && a.pins.length === b.pins.length && a.pins.every((pin, i) => pin === b.pins[i]);
}

/** The pinned domains a comma-separated setting names, lower-cased, in order. */
export function parsePins(setting: string | undefined): string[] {
  return (setting ?? "")
    .split(",")
    .map((pin) => pin.trim().toLowerCase())
    .filter(Boolean);
}
