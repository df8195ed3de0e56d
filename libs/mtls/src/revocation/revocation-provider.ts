import { Logger } from '@nestjs/common';
import { withEnvVariable } from '../config/env-origin';
import type { MtlsOptions } from '../config/mtls-options.interface';
import type { MtlsMaterialSource } from '../material/material-source';
import { MtlsRevocation } from './mtls-revocation';
import { networkRevocationSources } from './network-sources';
import { revocationCoverageWarning } from './revocation-coverage';

/** The revocation checks made for each source (one per application). */
const following = new WeakMap<MtlsMaterialSource, MtlsRevocation>();

/**
 * The revocation checks that follow `source` (made by {@link revocationFollowing}:
 * MtlsModule's), if any: what checks forwarded certificates besides the TLS
 * endpoints, without a constructor of a public class naming the engine.
 */
export function revocationFollowingSource(source: MtlsMaterialSource): MtlsRevocation | undefined {
  return following.get(source);
}

/**
 * The revocation checks of one application, as MtlsModule provides them: made
 * from the source's current material, updated with every snapshot the source
 * puts in place (subscribed here, before any TLS endpoint subscribes, so the
 * new CRLs are in force by the time an endpoint swaps in the new secure
 * context), and closed by MtlsModule at shutdown. Says at startup what is not
 * covered (a CA whose certificates get no revocation answer), and that
 * validatePeers false turns revocation off.
 */
export function revocationFollowing(source: MtlsMaterialSource, raw: MtlsOptions, logger = new Logger('MtlsModule')): MtlsRevocation {
  const snapshot = source.current();
  let revocation: MtlsRevocation;
  try {
    revocation = new MtlsRevocation(snapshot, networkRevocationSources);
  } catch (err) {
    throw withEnvVariable(err, raw); // crlCacheDir that cannot be created
  }
  source.changes.subscribe({ next: (next) => revocation.update(next) });
  following.set(source, revocation);
  const coverage = revocationCoverageWarning(snapshot.material, snapshot.options);
  if (coverage) logger.warn(coverage);
  if (!snapshot.options.validatePeers) {
    logger.warn('validatePeers is false: client certificates are not checked for revocation (no CRLs, CRL distribution points or OCSP); their chains are still verified against the trust store in the handshake');
  }
  return revocation;
}
