import type { TLSSocket } from 'node:tls';

/**
 * The subject of the certificate a peer presented, verified or not, for log
 * lines only: OpenSSL's own rendering (`X509Certificate.subject`, escaped),
 * most specific RDN first, without parsing the certificate's extensions. It
 * costs the same for a 30 KB certificate with thousands of SANs as for a
 * small one. Undefined when no certificate was presented.
 */
export function presentedSubject(socket: TLSSocket): string | undefined {
  try {
    const cert = socket.getPeerX509Certificate();
    return cert ? cert.subject.split('\n').reverse().join(',') : undefined;
  } catch {
    return undefined;
  }
}
