import { MtlsConfigError } from './mtls-config.error';
import type { MtlsOptions } from './mtls-options.interface';

/**
 * The revocation settings that a shape check cannot judge: the OCSP
 * responder must be an `http:` URL (OCSP answers are signed; nest-mtls does
 * not fetch them over TLS), and settings that only make sense together.
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
  if (options.crlCacheDir !== undefined && options.enableCRLDP !== true) {
    throw new MtlsConfigError('crlCacheDir', 'is set but enableCRLDP is not true: only CRLs downloaded from distribution points are cached');
  }
}
