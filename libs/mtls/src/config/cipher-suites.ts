import { createSecureContext, getCiphers } from 'node:tls';
import { IANA_TO_OPENSSL_CIPHER } from './cipher-suite-names';
import { MtlsConfigError } from '../errors/mtls-config.error';
import type { ResolvedMtlsOptions } from './mtls-options.interface';

const OPENSSL_NAMES = new Set(Object.values(IANA_TO_OPENSSL_CIPHER));
const OPENSSL_TO_IANA = new Map(Object.entries(IANA_TO_OPENSSL_CIPHER).map(([iana, openssl]) => [openssl, iana]));
const NODE_NAMES = new Set(getCiphers().map((c) => c.toUpperCase()));

/**
 * Maps cipher suite names (IANA as in Java configs, or OpenSSL) to OpenSSL
 * names. Unknown names, and suites without authentication or encryption, are
 * setting errors. The list must also be one OpenSSL accepts as a whole.
 */
export function resolveCipherSuites(names: string[]): string[] {
  const resolved = names.map((raw) => {
    const name = raw.trim();
    const upper = name.toUpperCase();
    const fromIana = IANA_TO_OPENSSL_CIPHER[upper];
    if (fromIana) return fromIana;
    if (OPENSSL_NAMES.has(upper) || (NODE_NAMES.has(upper) && upper.startsWith('TLS_'))) return upper;
    if (/NULL|EXPORT|RC4|_DES_|anon|PSK|SRP/i.test(name) || NODE_NAMES.has(upper)) {
      throw new MtlsConfigError('supportedCipherSuites', `"${name}" is refused: it lacks certificate authentication or strong encryption`);
    }
    throw new MtlsConfigError('supportedCipherSuites', `unknown cipher suite "${name}" (use IANA names such as TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, or OpenSSL names)`);
  });
  const unique = [...new Set(resolved)];
  try {
    createSecureContext({ ciphers: unique.join(':') });
  } catch (err) {
    throw new MtlsConfigError('supportedCipherSuites', `OpenSSL accepts none of these suites (${(err as Error).message})`);
  }
  return unique;
}

/**
 * The configured TLS 1.2 suites without forward secrecy (static RSA key
 * exchange, `TLS_RSA_WITH_...`), named as given in IANA form where known;
 * empty when TLS 1.2 is off (its suites are then never used).
 */
export function tls12SuitesWithoutForwardSecrecy(options: Pick<ResolvedMtlsOptions, 'cipherSuitesOpenSsl' | 'supportedProtocols'>): string[] {
  if (!options.cipherSuitesOpenSsl || !options.supportedProtocols.includes('TLSv1.2')) return [];
  return options.cipherSuitesOpenSsl
    .filter((name) => !name.startsWith('TLS_'))
    .filter((name) => {
      const iana = OPENSSL_TO_IANA.get(name);
      return iana ? !/^TLS_(EC)?DHE_/.test(iana) : !/^(EC)?DHE-/.test(name);
    })
    .map((name) => OPENSSL_TO_IANA.get(name) ?? name);
}
