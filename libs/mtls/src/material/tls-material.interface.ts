import type { KeyObject, X509Certificate } from 'node:crypto';
import type { CrlIndex } from '../x509/crl-index';

/** Our own identity: private key and certificate chain (leaf first, root usually omitted). */
export interface KeyMaterial {
  /** The private key. */
  key: KeyObject;
  /** The private key as unencrypted PKCS#8 PEM, for `tls.createSecureContext`. Never logged. */
  keyPem: string;
  /** Leaf first, then each issuer found in the same file(s); no certificate twice. */
  chain: X509Certificate[];
  /** Where it came from, for messages: the file path (and alias, if any). */
  source: string;
}

/** The CAs we trust (and nothing else). */
export interface TrustMaterial {
  /** Every distinct certificate of the trust store, in file order. */
  cas: X509Certificate[];
  /**
   * The certificates of `cas` that are not CAs (no basicConstraints CA:TRUE).
   * They are kept (a pinned self-signed peer is legitimate); startup checks decide.
   * Always set by `loadTrustMaterial`.
   */
  nonCa?: X509Certificate[];
  /** The file path. */
  source: string;
}

/** Intermediate CA certificates from `intermediatesPath`: helpers for building forwarded certificates' paths, never trust anchors. */
export interface IntermediateMaterial {
  /** Every distinct certificate of the file (each a CA), in file order. */
  certificates: X509Certificate[];
  /** The file path. */
  source: string;
}

/** One CRL read from `crlPath`. */
export interface LoadedCrl {
  /** The CRL as one PEM block: one entry of the `crl` option of `tls.createSecureContext`. */
  pem: string;
  /** The parsed CRL: issuer, thisUpdate, nextUpdate, and its revoked serial numbers, indexed. */
  crl: CrlIndex;
  /** Where it came from, for messages: the file path (and position when the file holds several). */
  source: string;
  /** The CA whose key signed it (the trust store or our chain), found by the startup checks. */
  issuerCa?: X509Certificate;
}

/** Everything read from disk at startup, once. */
export interface TlsMaterial {
  identity: KeyMaterial;
  trust: TrustMaterial;
  /** From `intermediatesPath`, when set. */
  intermediates?: IntermediateMaterial;
  /** One entry per CRL of every `crlPath` file (Node reads one CRL per entry); undefined when no crlPath. */
  crls?: LoadedCrl[];
}
