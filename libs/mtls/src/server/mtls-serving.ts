import type { MtlsMaterialSource } from '../material/material-source';
import type { MtlsRevocation } from '../revocation/mtls-revocation';
import type { MtlsEvents } from '../telemetry/mtls-events';

/**
 * What a TLS endpoint (an HTTP adapter, a TCP transport, a server bound by
 * hand with `bindMtlsServer`) serves with, from the application's
 * MtlsModule: the material (and its changes), the revocation checks every
 * new connection passes right after its handshake, and the event streams
 * its refusals go to. MtlsModule provides it (an abstract class: the
 * injection token; only MtlsModule makes one) and hands it to its HTTP
 * adapter; `mtlsTcpMicroservice()` injects it; a TCP transport made by hand
 * takes it from the application:
 *
 *     app.connectMicroservice({ strategy: new MtlsTcpServer(app.get(MtlsServing), { port: 8444 }) });
 */
export abstract class MtlsServing {
  /** The application's material. */
  abstract readonly source: MtlsMaterialSource;
  /** The application's event streams. */
  abstract readonly events: MtlsEvents;
}

/** MtlsServing as MtlsModule makes it: with the revocation checks, which are not public API. */
class ModuleServing extends MtlsServing {
  constructor(
    readonly source: MtlsMaterialSource,
    readonly events: MtlsEvents,
    readonly revocation: MtlsRevocation,
  ) {
    super();
  }
}

/** The MtlsServing of an application (MtlsModule's provider; tests make one by hand through nest-mtls/internal). */
export function mtlsServing(source: MtlsMaterialSource, events: MtlsEvents, revocation: MtlsRevocation): MtlsServing {
  return new ModuleServing(source, events, revocation);
}

/** The revocation checks of `serving` (internal: endpoints of nest-mtls install them; they are not public API). */
export function revocationOf(serving: MtlsServing): MtlsRevocation {
  return (serving as unknown as { revocation: MtlsRevocation }).revocation;
}

/** Duck-typed, so that what another copy of nest-mtls made is recognised too. */
export function isMtlsServing(value: unknown): value is MtlsServing {
  const candidate = value as { source?: Partial<MtlsMaterialSource>; events?: unknown; revocation?: unknown } | undefined;
  const source = candidate?.source;
  return typeof source?.current === 'function' && typeof source.requireRole === 'function' && typeof source.changes?.subscribe === 'function' && !!candidate?.events && !!candidate.revocation;
}
