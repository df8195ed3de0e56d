import { credentials, type ChannelCredentials } from '@grpc/grpc-js';
import { checkServerIdentity, createSecureContext, type PeerCertificate, type SecureContext } from 'node:tls';
import { serverIdentityOf, serverIdentityProblem, serverIdentityRule } from '../client/server-identity';
import type { MtlsMaterialSnapshot } from '../material/material-snapshot';
import type { MtlsMaterialSource } from '../material/material-source';
import { secureContextOf } from '../material/snapshot-secrets';
import type { ClientCertRequirement } from '../policy/client-cert-policy';

/** Options of {@link mtlsGrpcCredentials}. */
export interface MtlsGrpcCredentialsOptions {
  /**
   * What the server's certificate must be besides naming the host (a
   * SPIFFE ID, a subject regex, SANs: the same rules as
   * `@RequireClientCert`), e.g. `{ spiffeId: 'spiffe://example.org/user-service' }`.
   * A server that does not match fails the connection (UNAVAILABLE).
   */
  serverIdentity?: ClientCertRequirement;
}

/** The client secure context of each snapshot, made once. */
const contexts = new WeakMap<MtlsMaterialSnapshot, SecureContext>();

function clientContextOf(snapshot: MtlsMaterialSnapshot): SecureContext {
  let context = contexts.get(snapshot);
  if (!context) {
    const { key, cert, ca, crl, minVersion, maxVersion, ciphers, ecdhCurve } = secureContextOf(snapshot);
    contexts.set(snapshot, (context = createSecureContext({ key, cert, ca, crl, minVersion, maxVersion, ciphers, ...(ecdhCurve ? { ecdhCurve } : {}) })));
  }
  return context;
}

/**
 * gRPC channel credentials (@grpc/grpc-js) from the material in use now:
 * our key and certificate chain presented, only our trust store (and CRLs)
 * trusted, never the public roots; the server's chain and host name verified,
 * and with `serverIdentity` its identity too. For a grpc-js client, or Nest's
 * gRPC client (`ClientsModule` with `Transport.GRPC`):
 *
 *     ClientsModule.registerAsync([{ name: 'USERS', inject: [MtlsMaterialSource],
 *       useFactory: (source: MtlsMaterialSource) => ({ transport: Transport.GRPC,
 *         options: { url: 'user-service:8445', package: 'users', protoPath,
 *           credentials: mtlsGrpcCredentials(source) } }) }])
 *
 * A channel keeps its credentials for its life: after a rotation make a new
 * client (or call this again) for the new material; the old certificate is
 * presented until then. Marks the client role in use (clientAuth EKU).
 */
export function mtlsGrpcCredentials(source: MtlsMaterialSource, options: MtlsGrpcCredentialsOptions = {}): ChannelCredentials {
  source.requireRole('clientAuth');
  const rule = options.serverIdentity !== undefined ? serverIdentityRule(options.serverIdentity) : undefined;
  return credentials.createFromSecureContext(clientContextOf(source.current()), {
    checkServerIdentity: (host: string, cert: PeerCertificate) => {
      const hostProblem = checkServerIdentity(host, cert);
      if (hostProblem || !rule) return hostProblem;
      return serverIdentityProblem(rule, serverIdentityOf(cert.raw, cert.fingerprint256));
    },
  });
}
