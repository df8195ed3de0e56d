import type { X509Certificate } from 'node:crypto';

/** How DNs are written: as OpenSSL prints them (RFC 4514), or as Java's `getSubjectDN().getName()` does. */
export type DnFormat = 'rfc4514' | 'jdk';

/** Subject alternative names, by type, in certificate order. */
export interface SubjectAltNames {
  dns: string[];
  uri: string[];
  /** IPv4 dotted, IPv6 in RFC 5952 form. */
  ip: string[];
  email: string[];
}

/**
 * Who is on the other end of a verified TLS connection. Built once per TLS
 * connection from the peer certificate and cached on the socket.
 */
export interface ClientIdentity {
  /**
   * Subject DN, most specific RDN first, in the form `dnFormat` says: RFC 4514,
   * what `openssl x509 -noout -subject -nameopt RFC2253,-esc_msb` prints
   * (`CN=api,O=Example`), or what Java's `getSubjectDN().getName()` prints (`CN=api, O=Example`).
   */
  subject: string;
  /** Issuer DN in the same form. */
  issuer: string;
  /** The form of `subject` and `issuer`: MtlsModule's `dnFormat` (undefined: `rfc4514`). */
  dnFormat?: DnFormat;
  /** The (first, most specific) CN of the subject, unescaped; undefined when none. */
  commonName?: string;
  san: SubjectAltNames;
  /**
   * The SPIFFE ID, when the certificate is an X509-SVID: exactly one URI SAN,
   * and it is a valid SPIFFE ID. A certificate with several URI SANs has none
   * (the X509-SVID standard says to reject it); its URIs are still in `san.uri`.
   */
  spiffeId?: string;
  /** The values of every OU attribute of the subject, most specific RDN first, unescaped (string values only). */
  organizationalUnits?: string[];
  /** Serial number, uppercase hex without separators (as `X509Certificate.serialNumber`). */
  serialNumber: string;
  /** SHA-256 fingerprint, uppercase hex pairs joined by `:` (as `X509Certificate.fingerprint256`). */
  fingerprint256: string;
  validFrom: Date;
  validTo: Date;
  /** The certificate itself. */
  certificate: X509Certificate;
}
