// A function's results kept by argument, for the few values a config names (webhook secrets, URLs) that
// every delivery would otherwise decode or parse again. Bounded: past `max` entries it starts over, so a
// caller passing ever-new values costs the recomputation, never unbounded memory. Throws are not kept.
export function memoized<K, V>(compute: (key: K) => V, max = 256): (key: K) => V {
  const kept = new Map<K, V>();
  return (key) => {
    if (kept.has(key)) return kept.get(key) as V;
    const value = compute(key);
    if (kept.size >= max) kept.clear();
    kept.set(key, value);
    return value;
  };
}
