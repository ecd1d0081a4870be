// Grouping a list by a key, as the stores do before one statement per database and the producers
// before one send per queue partition. Pure.

/** The items grouped by `keyOf`, groups and items in the order first seen; an item whose key is null is left out. */
export function groupBy<T, K>(items: Iterable<T>, keyOf: (item: T) => K | null): Map<K, T[]> {
  const groups = new Map<K, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    if (key === null) continue;
    const group = groups.get(key);
    if (group) group.push(item);
    else groups.set(key, [item]);
  }
  return groups;
}
