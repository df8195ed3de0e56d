import { MtlsConfigError } from '../errors/mtls-config.error';
import type { MtlsOptions } from './mtls-options.interface';

/**
 * The settings that only revocation checking reads, each with whether a given
 * value asks for anything (`enableCRLDP: false` and `ocsp: false` ask for
 * nothing, like leaving them out).
 */
const REVOCATION_SETTINGS: ReadonlyArray<[keyof MtlsOptions, (value: unknown) => boolean]> = [
  ['crlPath', () => true],
  ['crlCheck', () => true],
  ['enableCRLDP', (value) => value === true],
  ['crlCacheDir', () => true],
  ['ocsp', (value) => value === true],
  ['ocspResponderUrl', () => true],
  ['ocspNonce', () => true],
  ['ocspMaxAgeMs', () => true],
  ['revocationAllowedHosts', () => true],
  ['revocationFailure', () => true],
  ['revocationRefreshMs', () => true],
  ['revocationTimeoutMs', () => true],
];

/**
 * `validatePeers: false` means what it means in Dropwizard (Jetty's
 * `validatePeerCerts`): no revocation checking of client certificates (no
 * CRL files, CRL distribution points or OCSP). The chain is verified against
 * the trust store in the handshake either way. Dropwizard silently ignores
 * revocation settings given with it; here they stop startup, naming both,
 * so that nothing is half-applied (`crlPath` would otherwise still reach the
 * outbound client).
 */
export function checkValidatePeers(options: MtlsOptions): void {
  if (options.validatePeers !== false) return;
  for (const [setting, asksForSomething] of REVOCATION_SETTINGS) {
    const value = options[setting];
    if (value === undefined || !asksForSomething(value)) continue;
    throw new MtlsConfigError(
      setting,
      'is a revocation setting, but validatePeers is false (MTLS_VALIDATE_PEERS=false), which turns revocation checking off, as in Dropwizard: remove it, or set validatePeers: true (client chains are verified against the trust store either way)',
    );
  }
}
