import { Logger } from '@nestjs/common';
import type { MtlsMaterialSnapshot } from '../material/material-snapshot';
import { RevocationHosts } from './allowed-hosts';
import { CrlDistributionPointSource } from './crl-distribution-points';
import type { NetworkRevocationSource } from './mtls-revocation';
import { OcspSource } from './ocsp-source';

/**
 * The network sources the options ask for: CRLs from distribution points
 * (enableCRLDP) and OCSP (ocsp). Says in one line which hosts they may
 * fetch from (a warning when none).
 */
export function networkRevocationSources(snapshot: MtlsMaterialSnapshot, changed: (why: string) => void, logger = new Logger('MtlsRevocation')): NetworkRevocationSource[] {
  const sources: NetworkRevocationSource[] = [];
  if (snapshot.options.enableCRLDP) sources.push(new CrlDistributionPointSource(snapshot, changed));
  if (snapshot.options.ocsp) sources.push(new OcspSource(snapshot, changed));
  if (sources.length > 0) {
    const hosts = RevocationHosts.of(snapshot);
    if (hosts.size === 0) {
      logger.warn(
        'no host may be asked for revocation information: neither our chain nor the trust store names a CRL distribution point or OCSP responder, and neither ocspResponderUrl nor revocationAllowedHosts (MTLS_REVOCATION_ALLOWED_HOSTS) is set: every client certificate that needs a download or a query counts as revocation unknown',
      );
    } else {
      logger.log(`revocation information is fetched only from ${hosts.describe()}; other hosts are refused (revocationAllowedHosts adds some)`);
    }
  }
  return sources;
}
