import { DEFAULT_CIPHERS } from 'node:tls';
import type { ResolvedMtlsOptions } from '../config/mtls-options.interface';

/**
 * Never negotiated: it only keeps OpenSSL's TLS 1.2 list non-empty when the
 * configured suites are all TLS 1.3 ones, and such a context is TLS 1.3 only.
 */
const TLS12_PLACEHOLDER = 'ECDHE-ECDSA-AES256-GCM-SHA384';

/** The `ciphers` value of a secure context, and the lowest protocol it may then use. */
export interface CipherString {
  ciphers: string;
  minVersion: ResolvedMtlsOptions['supportedProtocols'][number];
}

/**
 * The cipher string for Node's `ciphers` option: the configured suites (or
 * Node's default list) with `:@SECLEVEL=N` appended, which sets OpenSSL's
 * security level for the whole context: the minimum key size of our
 * certificate and of every peer chain, for TLS 1.2 and TLS 1.3 alike.
 *
 * OpenSSL refuses a TLS 1.2 list that is only `@SECLEVEL=N`; Node would make a
 * context with only TLS 1.3 suites TLS 1.3 only, so here that is said
 * explicitly (minVersion TLSv1.3) and a never-used TLS 1.2 suite fills the list.
 */
export function cipherString(options: ResolvedMtlsOptions): CipherString {
  const level = `@SECLEVEL=${options.securityLevel}`;
  const minVersion = options.supportedProtocols[0];
  const suites = options.cipherSuitesOpenSsl;
  if (!suites) return { ciphers: `${DEFAULT_CIPHERS}:${level}`, minVersion };
  if (suites.every((s) => s.startsWith('TLS_'))) return { ciphers: [...suites, TLS12_PLACEHOLDER, level].join(':'), minVersion: 'TLSv1.3' };
  return { ciphers: [...suites, level].join(':'), minVersion };
}
