/**
 * A bounded first-in-first-out cache for simulators' hot paths (generated
 * rows, rendered JSON). Bounded by a total weight (entries, or characters),
 * so a scan over a million rows cannot grow it.
 *
 * Why not "delete the Map's first key": V8 leaves deleted Map entries as
 * holes until the table is rehashed, and `map.keys().next()` walks over
 * every hole from the start, so evicting that way costs O(holes) per insert
 * and turns a cold scan quadratic. A separate queue of keys evicts in O(1).
 * A hit does not move the entry (FIFO, not LRU): cheaper, and scans — the
 * access pattern here — gain nothing from recency.
 */
export class BoundedCache<K, V> {
  private readonly map = new Map<K, V>();
  private queue: K[] = [];
  private head = 0;
  private weight = 0;

  constructor(
    private readonly maxWeight: number,
    private readonly weigh: (key: K, value: V) => number = () => 1,
  ) {}

  get(key: K): V | undefined {
    return this.map.get(key);
  }

  set(key: K, value: V): void {
    if (this.maxWeight <= 0) return;
    const old = this.map.get(key);
    if (old !== undefined) {
      this.weight -= this.weigh(key, old);
      this.map.set(key, value);
      this.weight += this.weigh(key, value);
    } else {
      this.map.set(key, value);
      this.queue.push(key);
      this.weight += this.weigh(key, value);
    }
    while (this.weight > this.maxWeight && this.head < this.queue.length) {
      const k = this.queue[this.head++];
      const v = this.map.get(k);
      if (v !== undefined) {
        this.weight -= this.weigh(k, v);
        this.map.delete(k);
      }
    }
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }

  clear(): void {
    this.map.clear();
    this.queue = [];
    this.head = 0;
    this.weight = 0;
  }

  get size(): number {
    return this.map.size;
  }
}
