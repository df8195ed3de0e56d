import { MtlsConfigError } from './mtls-config.error';
import type { MtlsOptions } from './mtls-options.interface';

/**
 * `enableCRLDP: true` (Dropwizard's name) asks for revocation checks through
 * the CRL distribution points of certificates, which nest-mtls does not do
 * yet. Refused, never ignored: a service that believes it checks revocation
 * must not start without doing so. `false` is what happens anyway.
 */
export function refuseCrlDistributionPoints(options: Pick<MtlsOptions, 'enableCRLDP'>): void {
  if (options.enableCRLDP === true) {
    throw new MtlsConfigError(
      'enableCRLDP',
      'CRL distribution points are not supported yet; download the CRLs of your CAs and give them with crlPath (they are checked at startup and in every handshake)',
    );
  }
}
