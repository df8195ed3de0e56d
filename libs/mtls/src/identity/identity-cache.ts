/**
 * Values by certificate SHA-256 fingerprint, least recently used out first.
 * Services see the same few callers reconnect again and again (new
 * connections, resumed sessions); each certificate is parsed once, not once
 * per connection. The key is a hash of the whole DER, so equal keys mean the
 * very same certificate. Only VERIFIED certificates may be put here (an
 * attacker can mint unverified ones without end); whether a connection is
 * verified is decided per socket, never here.
 */
export class IdentityCache<V> {
  private readonly entries = new Map<string, V>();

  constructor(private readonly capacity = 1024) {}

  /** The value cached under `fingerprint256`, or `build()` remembered for next time. */
  get(fingerprint256: string, build: () => V): V {
    const key = fingerprint256;
    if (this.entries.has(key)) {
      const hit = this.entries.get(key) as V;
      this.entries.delete(key);
      this.entries.set(key, hit); // most recently used last
      return hit;
    }
    const built = build();
    this.entries.set(key, built);
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value as string);
    return built;
  }

  /** The value cached under `fingerprint256`, if any (marked as recently used). */
  peek(fingerprint256: string): V | undefined {
    const hit = this.entries.get(fingerprint256);
    if (hit === undefined) return undefined;
    this.entries.delete(fingerprint256);
    this.entries.set(fingerprint256, hit);
    return hit;
  }

  /** Puts (or replaces) the value of `fingerprint256`. */
  set(fingerprint256: string, value: V): void {
    this.entries.delete(fingerprint256);
    this.entries.set(fingerprint256, value);
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value as string);
  }

  /** Forgets the value of `fingerprint256`. */
  delete(fingerprint256: string): void {
    this.entries.delete(fingerprint256);
  }

  get size(): number {
    return this.entries.size;
  }
}
