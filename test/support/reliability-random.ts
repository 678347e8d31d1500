/**
 * A seeded random source for fault timing (RELIABILITY_SEED, else a fresh seed that the test
 * prints), so a run that found something can be replayed with the same kill moments.
 */
export function seededRandom(label: string): { seed: number; next(): number; between(min: number, max: number): number } {
  const seed = Number(process.env.RELIABILITY_SEED ?? Math.floor(Math.random() * 2 ** 31));
  console.log(`${label}: RELIABILITY_SEED=${seed}`);
  let a = seed >>> 0;
  // mulberry32: small, fast, good enough to spread kill moments.
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { seed, next, between: (min, max) => min + Math.floor(next() * (max - min + 1)) };
}
