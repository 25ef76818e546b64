/**
 * Deterministic randomness for simulators. Worlds are generated lazily, row
 * by row, so every value must be a pure function of (seed, coordinates):
 * `hash32(seed, a, b, c)` gives that, and `Rng` is a small sequential
 * generator seeded from such a hash for the fields of one row.
 */

/** 32-bit mix of the inputs (murmur3-style finaliser); pure and fast. */
export function hash32(...parts: readonly number[]): number {
  let h = 0x811c9dc5;
  for (const p of parts) {
    // Split into two 32-bit halves so numbers above 2^32 still matter.
    const lo = p >>> 0;
    const hi = Math.floor(p / 4294967296) >>> 0;
    h = Math.imul(h ^ lo, 0x85ebca6b);
    h = (h << 13) | (h >>> 19);
    h = Math.imul(h ^ hi, 0xc2b2ae35);
    h ^= h >>> 16;
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Hash a string to a number, for mixing names into seeds. */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** mulberry32: a tiny sequential PRNG; good enough for test data. */
export class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  /** Uniform in [0, 1). */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** Integer in [min, max] inclusive. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)];
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

/** A lower-case GUID string from four 32-bit numbers. */
export function guidFrom(a: number, b: number, c: number, d: number): string {
  const h = (n: number, len: number) => (n >>> 0).toString(16).padStart(8, '0').slice(8 - len);
  return `${h(a, 8)}-${h(b >>> 16, 4)}-4${h(b, 3)}-${h(8 + (c & 3), 1)}${h(c >>> 8, 3)}-${h(c, 4)}${h(d, 8)}`;
}
