import type { ConnectionOptions } from 'node:tls';
import type { MtlsMaterialSnapshot } from '../material/material-snapshot';
import type { MtlsMaterialSource } from '../material/material-source';
import { secureContextOf } from '../material/snapshot-secrets';

/**
 * `tlsOptions` for Nest's TCP client (`ClientTCP`, `ClientsModule` with
 * `Transport.TCP`) from the material in use now: our key and certificate
 * chain, our trust store only (never the public roots), our CRLs, protocols
 * and cipher list (with its security level), and the server's chain and name
 * verified. A copy: Nest keeps it for the life of the client, so later
 * rotations do not reach it; {@link MtlsTcpClient} re-reads the material for
 * each connection instead. Marks the client role in use (clientAuth EKU).
 *
 *     ClientsModule.registerAsync([{ name: 'USERS', inject: [MtlsMaterialSource],
 *       useFactory: (source: MtlsMaterialSource) => ({ transport: Transport.TCP,
 *         options: { host: 'user-service', port: 8444, tlsOptions: mtlsTcpClientTlsOptions(source) } }) }])
 */
export function mtlsTcpClientTlsOptions(source: MtlsMaterialSource, servername?: string): ConnectionOptions {
  source.requireRole('clientAuth');
  return tlsOptionsOf(source.current(), servername);
}

/** The client TLS options of one snapshot. */
export function tlsOptionsOf(snapshot: MtlsMaterialSnapshot, servername?: string): ConnectionOptions {
  const { key, cert, ca, crl, minVersion, maxVersion, ciphers, ecdhCurve } = secureContextOf(snapshot);
  return { key, cert, ca, crl, minVersion, maxVersion, ciphers, ...(ecdhCurve ? { ecdhCurve } : {}), rejectUnauthorized: true, ...(servername ? { servername } : {}) };
}
