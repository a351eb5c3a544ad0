/**
 * A string-keyed map for the common case of a single entry: that entry is held inline and a Map exists only while
 * there are two or more. The route table keeps three maps per route (its reasons, its claimers, each reason's
 * Services) and nearly every route has one of each: at 10,000 Services a Map each was 30,000 hash tables, 9 MiB of
 * a 73 MiB heap (a heap snapshot). Iteration follows insertion order, as a Map's does.
 */
export class SmallMap<V> {
  private key: string | undefined;
  private value: V | undefined;
  private map: Map<string, V> | undefined;

  get size(): number {
    if (this.map) return this.map.size;
    return this.key === undefined ? 0 : 1;
  }

  get(key: string): V | undefined {
    if (this.map) return this.map.get(key);
    return key === this.key ? this.value : undefined;
  }

  set(key: string, value: V): void {
    if (this.map) {
      this.map.set(key, value);
    } else if (this.key === undefined || this.key === key) {
      this.key = key;
      this.value = value;
    } else {
      this.map = new Map([
        [this.key, this.value as V],
        [key, value],
      ]);
      this.key = undefined;
      this.value = undefined;
    }
  }

  delete(key: string): boolean {
    if (!this.map) {
      if (this.key !== key) return false;
      this.key = undefined;
      this.value = undefined;
      return true;
    }
    const had = this.map.delete(key);
    if (this.map.size === 1) {
      const [[k, v]] = this.map;
      this.key = k;
      this.value = v;
      this.map = undefined;
    }
    return had;
  }

  values(): Iterable<V> {
    if (this.map) return this.map.values();
    return this.key === undefined ? [] : [this.value as V];
  }
}
