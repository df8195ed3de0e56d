import type { KeyObject, X509Certificate } from 'node:crypto';

/** Our own identity: private key and certificate chain (leaf first, root usually omitted). */
export interface KeyMaterial {
  /** The private key. */
  key: KeyObject;
  /** The private key as unencrypted PKCS#8 PEM, for `tls.createSecureContext`. Never logged. */
  keyPem: string;
  /** Leaf first, then intermediates, as stored. */
  chain: X509Certificate[];
  /** Where it came from, for messages: the file path (and alias, if any). */
  source: string;
}

/** The CAs we trust (and nothing else). */
export interface TrustMaterial {
  cas: X509Certificate[];
  source: string;
}

/** Everything read from disk at startup, once. */
export interface TlsMaterial {
  identity: KeyMaterial;
  trust: TrustMaterial;
  /** One PEM string per CRL (Node reads one CRL per entry); undefined when no crlPath. */
  crls?: string[];
}
