import { Injectable } from '@nestjs/common';
import { MtlsMaterialSource } from '../material/material-source';
import { MtlsRevocation } from '../revocation/mtls-revocation';
import { MtlsEvents } from '../telemetry/mtls-events';

/**
 * What a TLS endpoint (an HTTP adapter, a TCP transport) serves with, from
 * the application's MtlsModule: the material (and its changes), the
 * revocation checks every new connection passes right after its handshake,
 * and the event streams its refusals go to. MtlsModule hands it to its HTTP
 * adapter; `mtlsTcpMicroservice()` injects it; a TCP transport made by hand
 * takes it from the application:
 *
 *     app.connectMicroservice({ strategy: new MtlsTcpServer(app.get(MtlsServing), { port: 8444 }) });
 */
@Injectable()
export class MtlsServing {
  constructor(
    /** The application's material. */
    readonly source: MtlsMaterialSource,
    /** The application's event streams. */
    readonly events: MtlsEvents,
    private readonly revocation: MtlsRevocation,
  ) {}
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
