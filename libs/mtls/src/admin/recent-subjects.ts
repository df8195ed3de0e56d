import { LRUCache } from 'lru-cache';

/**
 * The most recently seen `max` distinct keys with a value each (a caller's
 * subject and its certificate's notAfter): seeing a key again makes it the
 * most recent and replaces its value; a new key beyond `max` pushes out the
 * least recently seen. Memory and metric cardinality stay bounded whatever
 * callers present. (lru-cache, the one LRU of the package.)
 */
export class RecentSubjects<V extends NonNullable<unknown>> {
  private readonly entries: LRUCache<string, V>;

  constructor(max: number) {
    this.entries = new LRUCache<string, V>({ max });
  }

  see(key: string, value: V): void {
    this.entries.set(key, value);
  }

  get size(): number {
    return this.entries.size;
  }

  /** Least recently seen first. */
  [Symbol.iterator](): IterableIterator<[string, V]> {
    return this.entries.rentries() as IterableIterator<[string, V]>;
  }
}
