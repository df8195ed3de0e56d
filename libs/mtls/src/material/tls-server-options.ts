import type { SecureContextOptions, TlsOptions } from 'node:tls';
import type { ResolvedMtlsOptions } from '../config/mtls-options.interface';
import type { LoadedTlsMaterial } from './tls-material.interface';
import { cipherString } from './cipher-string';
import { opensslChecksCrls } from './crl-checks';

/**
 * Key, chain, trust and CRLs as Node's secure context wants them (also what a
 * reload swaps in). The CRLs go to OpenSSL only when its whole-chain,
 * refuse-when-unsure check is the policy (see opensslChecksCrls); otherwise
 * the revocation gate applies them after the handshake.
 */
export function secureContextOptions(material: LoadedTlsMaterial, options: ResolvedMtlsOptions): SecureContextOptions {
  const { ciphers, minVersion } = cipherString(options);
  return {
    key: material.identity.keyPem,
    cert: material.identity.chain.map((c) => c.toString()).join(''),
    // Only our CAs: giving `ca` replaces Node's public root store for peer verification.
    ca: material.trust.cas.map((c) => c.toString()),
    crl: opensslChecksCrls(material, options) ? material.crls?.map((c) => c.pem) : undefined,
    minVersion,
    maxVersion: options.supportedProtocols[options.supportedProtocols.length - 1],
    // Suites plus `@SECLEVEL=N`: the minimum key strength, ours and the peer's, in TLS 1.2 and 1.3.
    ciphers,
    honorCipherOrder: true,
    // The key-exchange groups (`groups`), most preferred first; unset: OpenSSL's default list.
    ...(options.groupList ? { ecdhCurve: options.groupList } : {}),
  };
}

/**
 * Options for `https.createServer`: the secure context plus the client
 * certificate demands. With needClientAuth=false the certificate is still
 * requested ("want"); an unverified one is then refused right after the
 * handshake (see hardenTlsServer). validatePeers does not change either.
 */
export function tlsServerOptions(material: LoadedTlsMaterial, options: ResolvedMtlsOptions): TlsOptions {
  return {
    ...secureContextOptions(material, options),
    requestCert: true,
    rejectUnauthorized: options.needClientAuth,
    handshakeTimeout: options.handshakeTimeoutMs,
  };
}
