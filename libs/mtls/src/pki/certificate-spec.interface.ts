import type { KeyObject, X509Certificate } from 'node:crypto';

/** Key type of a generated certificate: ECDSA P-256 (default, fast) or RSA (2048 bits unless `modulusLength` says otherwise). */
export type KeyAlgorithm = 'ec' | 'rsa';

/** Extended key usages a generated certificate may carry (`ocspSigning`: a delegated OCSP responder). */
export type ExtendedKeyUsageName = 'serverAuth' | 'clientAuth' | 'ocspSigning';

/** What to put into a certificate. Everything but the subject has a default. */
export interface CertificateSpec {
  /**
   * Subject DN, RFC 4514, most specific RDN first: the string
   * `openssl x509 -noout -subject -nameopt RFC2253` prints, e.g.
   * `CN=home-page-service,O=nest-mtls`. Escaped specials (`CN=a\,b`) and
   * multi-valued RDNs (`CN=a+OU=b,O=c`) are supported; the certificate encodes
   * the RDNs (and the values of a multi-valued RDN) in reverse, so openssl
   * prints exactly this string back.
   */
  subject: string;
  /** DNS subject alternative names. */
  dns?: string[];
  /** URI subject alternative names (e.g. a SPIFFE ID). */
  uri?: string[];
  /** IP subject alternative names, IPv4 or IPv6. */
  ip?: string[];
  /** rfc822Name (e-mail) subject alternative names. */
  email?: string[];
  /** Leaf default: both. `[]`: no EKU extension at all. CAs: none unless given. */
  extendedKeyUsage?: ExtendedKeyUsageName[];
  /** Leaf default: now - 1 hour. CA default: now - 1 hour. */
  notBefore?: Date;
  /** Leaf default: now + 365 days. CA default: now + 10 years. */
  notAfter?: Date;
  /** Default `'ec'` (ECDSA P-256). */
  keyAlgorithm?: KeyAlgorithm;
  /** RSA modulus length in bits, for `keyAlgorithm: 'rsa'` (default 2048; tests make weak 1024-bit keys with it). */
  modulusLength?: number;
  /** Hexadecimal serial number; default 16 random bytes, positive. */
  serialNumber?: string;
  /** CRL distribution point URIs; no extension when absent or empty. */
  crlDistributionPoints?: string[];
  /** OCSP responder URIs, in an Authority Information Access extension; none when absent or empty. */
  ocspUrls?: string[];
}

/** A generated certificate with its private key and chain. */
export interface IssuedCertificate {
  certificate: X509Certificate;
  certPem: string;
  key: KeyObject;
  /** Unencrypted PKCS#8 PEM. */
  keyPem: string;
  /** This certificate, then its issuers up to but excluding the root (for a root: just itself). */
  chain: X509Certificate[];
  /** `chain` as concatenated PEM. */
  chainPem: string;
}

/** One revoked certificate in a CRL. */
export interface RevokedCertificate {
  /** Hexadecimal serial number (as `X509Certificate.serialNumber`). */
  serialNumber: string;
  /** Revocation date; default the CRL's thisUpdate. */
  date?: Date;
  /** Reason code; absent by default (then the entry carries an invalidity date instead). */
  reason?: CrlReason;
}

/** RFC 5280 CRL reason codes (without `unspecified`, which RFC 5280 says not to use). */
export type CrlReason =
  | 'keyCompromise'
  | 'cACompromise'
  | 'affiliationChanged'
  | 'superseded'
  | 'cessationOfOperation'
  | 'certificateHold'
  | 'privilegeWithdrawn'
  | 'aACompromise';

/** Options of `createCrl`. */
export interface CrlOptions {
  revoked?: RevokedCertificate[];
  /** Default: now - 1 hour. */
  thisUpdate?: Date;
  /** Default: thisUpdate + 30 days. */
  nextUpdate?: Date;
  /** CRL number; default the current time in seconds (so later CRLs have larger numbers). */
  crlNumber?: number;
}

/** Options of `toPkcs12`. */
export interface Pkcs12Options {
  /** friendlyName of the key and the leaf certificate (the keystore alias). */
  alias?: string;
  /** PBKDF2 and MAC iteration count; default 2048 (OpenSSL 3's default). */
  iterations?: number;
}
