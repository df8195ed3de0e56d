import type { KeyObject, X509Certificate } from 'node:crypto';
import type { CrlIndex, ParsedCrl } from '../x509/crl-index';

/**
 * Our own identity as the rest of the application sees it: the certificate
 * chain (leaf first, root usually omitted) and where it came from. The
 * private key is not here: no public object holds it (see
 * snapshot-secrets.ts); only the TLS endpoints get it, inside Node's secure
 * context options.
 */
export interface KeyMaterial {
  /** Leaf first, then each issuer found in the same file(s); no certificate twice. */
  chain: X509Certificate[];
  /** Where it came from, for messages: the file path (and alias, if any). */
  source: string;
}

/** Our identity as the loaders read it, private key included: internal, never in a snapshot. */
export interface LoadedKeyMaterial extends KeyMaterial {
  /** The private key. */
  key: KeyObject;
  /** The private key as unencrypted PKCS#8 PEM, for `tls.createSecureContext`. Never logged. */
  keyPem: string;
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
  crl: ParsedCrl;
  /** Where it came from, for messages: the file path (and position when the file holds several). */
  source: string;
  /** The CA whose key signed it (the trust store or our chain), found by the startup checks. */
  issuerCa?: X509Certificate;
}

/** A CRL as the loaders read it: indexed by nest-mtls (internal; the public LoadedCrl shows it as a ParsedCrl). */
export interface IndexedCrl extends LoadedCrl {
  crl: CrlIndex;
}

/** Everything read at startup (or at a reload), once: our chain, the trust store, intermediates, CRLs. */
export interface TlsMaterial {
  identity: KeyMaterial;
  trust: TrustMaterial;
  /** From `intermediatesPath`, when set. */
  intermediates?: IntermediateMaterial;
  /** One entry per CRL of every `crlPath` file (Node reads one CRL per entry); undefined when no crlPath. */
  crls?: LoadedCrl[];
}

/** TLS material as the loaders read it, private key included: internal (startup checks, secure context options). */
export interface LoadedTlsMaterial extends TlsMaterial {
  identity: LoadedKeyMaterial;
  crls?: IndexedCrl[];
}

/**
 * The CRLs of `material` as nest-mtls indexed them. Every snapshot's
 * material comes from our loaders (a snapshot made elsewhere is never
 * served), so its CRLs are IndexedCrl; the public type shows less.
 */
export function indexedCrls(material: TlsMaterial): IndexedCrl[] | undefined {
  return material.crls as IndexedCrl[] | undefined;
}
