import type { TlsOptions } from 'node:tls';

/**
 * Options for a TLS server made before its material exists (an adapter's
 * server is created before any module runs): client certificates demanded
 * and verified, TLS 1.2 at least, and no certificate of its own, so no
 * handshake can succeed until MtlsModule installs the material.
 */
export function failClosedServerOptions(): TlsOptions {
  return { requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.2' };
}
