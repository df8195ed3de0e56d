import { MtlsConfigError } from '../errors/mtls-config.error';
import type { MtlsOptions } from './mtls-options.interface';

/**
 * The revocation settings that a shape check cannot judge: the OCSP
 * responder must be an `http:` URL (OCSP answers are signed; nest-mtls does
 * not fetch them over TLS), allowed hosts must be `host` or `host:port`, and
 * settings that only make sense together.
 */
export function checkRevocationSettings(options: MtlsOptions): void {
  if (options.ocspResponderUrl !== undefined) {
    let url: URL;
    try {
      url = new URL(options.ocspResponderUrl);
    } catch {
      throw new MtlsConfigError('ocspResponderUrl', `not a URL: "${options.ocspResponderUrl}"`);
    }
    if (url.protocol !== 'http:') {
      throw new MtlsConfigError('ocspResponderUrl', `must be an http: URL (OCSP answers are signed and are fetched over plain HTTP), got ${url.protocol}`);
    }
    if (options.ocsp !== true) {
      throw new MtlsConfigError('ocspResponderUrl', 'is set but ocsp is not true: nothing would ask it; set ocsp: true (MTLS_OCSP=true)');
    }
  }
  for (const option of ['ocspNonce', 'ocspMaxAgeMs'] as const) {
    if (options[option] !== undefined && options.ocsp !== true) {
      throw new MtlsConfigError(option, 'is set but ocsp is not true: it says how OCSP answers are checked; set ocsp: true (MTLS_OCSP=true)');
    }
  }
  if (options.revocationAllowedHosts !== undefined) {
    if (options.enableCRLDP !== true && options.ocsp !== true) {
      throw new MtlsConfigError('revocationAllowedHosts', 'is set but neither enableCRLDP nor ocsp is true: nothing is fetched');
    }
    for (const entry of options.revocationAllowedHosts) checkHost(entry);
  }
  if (options.crlCacheDir !== undefined && options.enableCRLDP !== true) {
    throw new MtlsConfigError('crlCacheDir', 'is set but enableCRLDP is not true: only CRLs downloaded from distribution points are cached');
  }
}

/** `host` or `host:port` (IPv6 in brackets): nothing else (a scheme, a path, a wildcard) is an allowed host. */
function checkHost(entry: string): void {
  const problem = `"${entry}" is not a host or host:port (e.g. crl.example.com or 10.0.0.5:8080)`;
  if (!/^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?)(?::\d{1,5})?$/.test(entry)) throw new MtlsConfigError('revocationAllowedHosts', problem);
  let url: URL;
  try {
    url = new URL(`http://${entry}/`);
  } catch {
    throw new MtlsConfigError('revocationAllowedHosts', problem);
  }
  if (url.pathname !== '/') throw new MtlsConfigError('revocationAllowedHosts', problem);
}
