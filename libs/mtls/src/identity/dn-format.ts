import type { X509Certificate } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { DnFormatError } from './dn-format.error';
import { nameAttributes, type NameAttribute } from './name-attributes';
import { RawCertificateNames } from './name-schema';

/**
 * Formats a DER-encoded X.501 Name exactly as
 * `openssl x509 -noout -subject -nameopt RFC2253,-esc_msb` prints it after
 * `subject=` (OpenSSL 3): most specific RDN first, RDNs joined by `,`, the
 * attributes of a multi-valued RDN joined by `+`, OpenSSL short names,
 * RFC 2253 escaping, non-ASCII as raw UTF-8, unknown attribute types and
 * non-string values as `#` + hex DER.
 *
 * @throws DnFormatError when the Name is not valid DER or holds an encoding OpenSSL rejects.
 */
export function formatDn(nameDer: Uint8Array | ArrayBuffer): string {
  return formatRdns(nameAttributes(nameDer));
}

/** The DN string of already decoded RDNs (see {@link nameAttributes}). */
export function formatRdns(rdns: NameAttribute[][]): string {
  return rdns.map((rdn) => rdn.map((attribute) => `${attribute.label}=${attribute.printed}`).join('+')).join(',');
}

/** The DER of a certificate's issuer and subject Names (and its extensions), read from `cert.raw` in one pass. */
export function certificateNames(cert: X509Certificate): { issuer: ArrayBuffer; subject: ArrayBuffer; extensions?: ArrayBuffer } {
  try {
    const { tbsCertificate } = AsnConvert.parse(cert.raw, RawCertificateNames);
    return { issuer: tbsCertificate.issuer, subject: tbsCertificate.subject, extensions: tbsCertificate.extensions };
  } catch (error) {
    throw new DnFormatError(`cannot read the certificate names: ${(error as Error).message}`);
  }
}

/** The subject DN of a certificate, formatted by {@link formatDn}. */
export function subjectDn(cert: X509Certificate): string {
  return formatDn(certificateNames(cert).subject);
}

/** The issuer DN of a certificate, formatted by {@link formatDn}. */
export function issuerDn(cert: X509Certificate): string {
  return formatDn(certificateNames(cert).issuer);
}
