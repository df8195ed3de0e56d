import type { X509Certificate } from 'node:crypto';
import type { RevocationLookup } from './verify-client-chain';
import { describeCert } from '../x509/trust-path';
import { describeVerdict, type MtlsRevocation, type RevocationVerdict } from './mtls-revocation';

const SOURCE = { crl: 'the CRL', crldp: 'the CRL from the distribution point', ocsp: 'the OCSP responder' } as const;

/**
 * The revocation lookup for a certificate chain that did not arrive in a TLS
 * handshake (a trusted proxy forwarded it): the application's own revocation
 * checking (CRL files, CRL distribution points, OCSP, with their caches and
 * failure policy) judges the whole chain once; each certificate's status is
 * read from that verdict.
 */
export function revocationLookupOf(revocation: MtlsRevocation, leaf: X509Certificate, intermediates: X509Certificate[]): RevocationLookup {
  let verdict: Promise<RevocationVerdict | undefined> | undefined;
  return async (cert) => {
    verdict ??= Promise.resolve(revocation.judgeCertificates(leaf, intermediates));
    const judged = await verdict;
    if (!judged) return { status: 'unknown', detail: 'the chain could not be rebuilt from the CAs we know' };
    if (judged.result === 'good') return { status: 'good', detail: 'not revoked' };
    const concerns = !judged.link || judged.link.facts.fingerprint === cert.fingerprint256;
    if (!concerns) return { status: 'good', detail: 'not revoked' };
    if (judged.result === 'revoked') return { status: 'revoked', detail: `revoked by ${SOURCE[judged.answer.source]} of ${describeCert(judged.link.issuer)} (${judged.answer.by})` };
    return { status: 'unknown', detail: describeVerdict(judged) };
  };
}
