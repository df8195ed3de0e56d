/**
 * The most recently seen `max` distinct keys with a value each (a caller's
 * subject and its certificate's notAfter): seeing a key again makes it the
 * most recent and replaces its value; a new key beyond `max` pushes out the
 * least recently seen. Memory and metric cardinality stay bounded whatever
 * callers present.
 */
export class RecentSubjects<V> {
  private readonly entries = new Map<string, V>();

  constructor(private readonly max: number) {}

  /** The key seen last: seeing it again only replaces its value (the common case, one caller after another request). */
  private last?: string;

  see(key: string, value: V): void {
    if (key === this.last) {
      this.entries.set(key, value);
      return;
    }
    this.entries.delete(key);
    this.entries.set(key, value);
    this.last = key;
    if (this.entries.size > this.max) this.entries.delete(this.entries.keys().next().value as string);
  }

  get size(): number {
    return this.entries.size;
  }

  /** Least recently seen first. */
  [Symbol.iterator](): IterableIterator<[string, V]> {
    return this.entries.entries();
  }
}
