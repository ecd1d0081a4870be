-- The event shards' directory (docs/storage.md, "Event shards"): which layout of the ring is in
-- force from which day. The Worker adds a layout when its bindings describe a new one, starting two
-- days later, so no day that has begun ever changes database. Never edit once applied.
CREATE TABLE event_layouts (
  from_day INTEGER PRIMARY KEY NOT NULL, -- days since the Unix epoch, UTC
  slots INTEGER NOT NULL, -- 0: not sharded, every day in this (the control) database
  per_slot INTEGER NOT NULL,
  pins TEXT NOT NULL DEFAULT '[]', -- JSON array: pins[i]'s events are in EV_S<slot>_P<i>
  created_at INTEGER NOT NULL -- unix milliseconds
);
-- A deployment that already holds events keeps reading them here: the unsharded layout from day 0,
-- until the Worker's first layout (two days on) takes over. A new one starts sharded on day 0.
INSERT INTO event_layouts (from_day, slots, per_slot, pins, created_at)
  SELECT 0, 0, 0, '[]', unixepoch() * 1000 WHERE EXISTS (SELECT 1 FROM events);
