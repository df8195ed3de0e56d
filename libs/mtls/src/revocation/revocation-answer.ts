import type { CertificateFacts } from '../x509/certificate-facts';
import type { X509Certificate } from 'node:crypto';

/** Where a revocation answer came from: a CRL file, a CRL from a distribution point, or an OCSP responder. */
export type RevocationSource = 'crl' | 'crldp' | 'ocsp';

/** One certificate of a client's chain to check, with the CA that issued it. */
export interface ChainLink {
  facts: CertificateFacts;
  /** The CA certificate that issued it (found in the trust store, our chain, or a verified chain seen before). */
  issuer: X509Certificate;
  /** The client certificate itself, or a CA above it. */
  kind: 'leaf' | 'ca';
}

/** What one source says about one certificate. */
export type RevocationAnswer =
  | { result: 'good'; source: RevocationSource; by: string }
  | { result: 'revoked'; source: RevocationSource; by: string; revokedAt?: Date; reason?: string }
  | { result: 'unknown'; source: RevocationSource; by?: string; refusal: 'crl_expired' | 'revocation_unknown'; detail: string };

/** An answer now (from memory) or later (after a download or a query); undefined when the source has nothing to say about the certificate. */
export type MaybeAnswer = RevocationAnswer | Promise<RevocationAnswer> | undefined;

/** A source of revocation answers. */
export interface RevocationSourceOf {
  readonly name: RevocationSource;
  /**
   * The answer about `link`. With `cachedOnly` nothing is fetched: the last
   * answer known (even a stale one) or undefined. `caller`, when given,
   * gives the signal of the connection that waits (called only when a fetch
   * is needed): a fetch every waiting connection has left is abandoned.
   */
  answer(link: ChainLink, now: Date, cachedOnly: boolean, caller?: () => AbortSignal): MaybeAnswer;
}

/** One revocation check outcome, for metrics (see MtlsEvents.revocationChecks). */
export interface MtlsRevocationCheck {
  /** `crl`: a CRL file (crlPath); `crldp`: a CRL from a distribution point; `ocsp`: an OCSP responder. */
  source: RevocationSource;
  result: 'good' | 'revoked' | 'unknown';
  /** The certificate's subject and serial number (upper-case hex, as Node prints it), and its issuer. */
  subject: string;
  serialNumber: string;
  issuer: string;
  /** Whether the answer came from memory (no download or query on this connection). */
  cached: boolean;
}
