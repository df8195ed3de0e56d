import { createSecureContext, type ConnectionOptions, type SecureContext } from 'node:tls';
import type { MtlsMaterialSnapshot } from '../material/material-snapshot';
import type { MtlsMaterialSource } from '../material/material-source';
import { secureContextOf } from '../material/snapshot-secrets';

/**
 * `tlsOptions` for Nest's TCP client (`ClientTCP`, `ClientsModule` with
 * `Transport.TCP`) from the material in use now: a Node secure context
 * (`secureContext`: our key and certificate chain, our trust store only,
 * never the public roots, our CRLs, protocols and cipher list with its
 * security level; the key cannot be read back from it), and the server's
 * chain and name verified. Nest keeps it for the life of the client, so later
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

/** The client secure context of each snapshot, made once. */
const contexts = new WeakMap<MtlsMaterialSnapshot, SecureContext>();

/** The client TLS options of one snapshot: a secure context, never the key as text. */
export function tlsOptionsOf(snapshot: MtlsMaterialSnapshot, servername?: string): ConnectionOptions {
  let secureContext = contexts.get(snapshot);
  if (!secureContext) {
    const { key, cert, ca, crl, minVersion, maxVersion, ciphers, ecdhCurve } = secureContextOf(snapshot);
    contexts.set(snapshot, (secureContext = createSecureContext({ key, cert, ca, crl, minVersion, maxVersion, ciphers, ...(ecdhCurve ? { ecdhCurve } : {}) })));
  }
  return { secureContext, rejectUnauthorized: true, ...(servername ? { servername } : {}) };
}
