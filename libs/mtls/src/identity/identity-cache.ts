import { LRUCache } from 'lru-cache';

/**
 * Values by certificate SHA-256 fingerprint, least recently used out first
 * (lru-cache, the one LRU of the package).
 * Services see the same few callers reconnect again and again (new
 * connections, resumed sessions); each certificate is parsed once, not once
 * per connection. The key is a hash of the whole DER, so equal keys mean the
 * very same certificate. Only VERIFIED certificates may be put here (an
 * attacker can mint unverified ones without end); whether a connection is
 * verified is decided per socket, never here.
 */
export class IdentityCache<V extends NonNullable<unknown>> {
  private readonly entries: LRUCache<string, V>;

  constructor(capacity = 1024) {
    this.entries = new LRUCache<string, V>({ max: capacity });
  }

  /** The value cached under `fingerprint256`, or `build()` remembered for next time. */
  get(fingerprint256: string, build: () => V): V {
    const hit = this.entries.get(fingerprint256);
    if (hit !== undefined) return hit;
    const built = build();
    this.entries.set(fingerprint256, built);
    return built;
  }

  /** The value cached under `fingerprint256`, if any (marked as recently used). */
  peek(fingerprint256: string): V | undefined {
    return this.entries.get(fingerprint256);
  }

  /** Puts (or replaces) the value of `fingerprint256`. */
  set(fingerprint256: string, value: V): void {
    this.entries.set(fingerprint256, value);
  }

  /** Forgets the value of `fingerprint256`. */
  delete(fingerprint256: string): void {
    this.entries.delete(fingerprint256);
  }

  get size(): number {
    return this.entries.size;
  }
}
