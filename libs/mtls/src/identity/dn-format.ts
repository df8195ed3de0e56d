import type { X509Certificate } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { DnFormatError } from './dn-format.error';
import { nameAttributes } from './name-attributes';
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
  return nameAttributes(nameDer)
    .map((rdn) => rdn.map((attribute) => `${attribute.label}=${attribute.printed}`).join('+'))
    .join(',');
}

/** The DER of a certificate's issuer and subject Names, read from `cert.raw`. */
export function certificateNames(cert: X509Certificate): { issuer: ArrayBuffer; subject: ArrayBuffer } {
  try {
    const { tbsCertificate } = AsnConvert.parse(cert.raw, RawCertificateNames);
    return { issuer: tbsCertificate.issuer, subject: tbsCertificate.subject };
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
