import type { Drainable } from './drainable';

/**
 * The listeners an application owns besides its HTTP server and microservice
 * transports (the admin port of `nest-mtls/admin`), for graceful shutdown to
 * drain: one per application, provided by MtlsModule. Graceful shutdown finds
 * it with `app.get(MtlsDrainRegistry)`; it knows nothing of TLS material.
 */
export class MtlsDrainRegistry {
  private readonly listeners = new Set<Drainable>();

  /** Adds a listener to drain at shutdown; returns a function that removes it. */
  register(drainable: Drainable): () => void {
    this.listeners.add(drainable);
    return () => this.listeners.delete(drainable);
  }

  /** The listeners registered now. */
  drainables(): Drainable[] {
    return [...this.listeners];
  }
}
