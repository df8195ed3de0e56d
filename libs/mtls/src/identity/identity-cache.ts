import type { X509Certificate } from 'node:crypto';
import type { ClientIdentity } from './client-identity.interface';

/**
 * Identities by certificate SHA-256 fingerprint, least recently used out
 * first. Services see the same few callers reconnect again and again (new
 * connections, resumed sessions); each certificate is parsed once, not once
 * per connection. The key is a hash of the whole DER, so equal keys mean the
 * very same certificate; whether a connection is verified is decided per
 * socket, never here.
 */
export class IdentityCache {
  private readonly entries = new Map<string, ClientIdentity | undefined>();

  constructor(private readonly capacity = 1024) {}

  /** The cached identity of `cert`, or `build(cert)` remembered for next time. */
  get(cert: X509Certificate, build: (cert: X509Certificate) => ClientIdentity | undefined): ClientIdentity | undefined {
    const key = cert.fingerprint256;
    if (this.entries.has(key)) {
      const hit = this.entries.get(key);
      this.entries.delete(key);
      this.entries.set(key, hit); // most recently used last
      return hit;
    }
    const built = build(cert);
    this.entries.set(key, built);
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value as string);
    return built;
  }

  get size(): number {
    return this.entries.size;
  }
}
