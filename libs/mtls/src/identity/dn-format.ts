import type { X509Certificate } from 'node:crypto';
import { DnFormatError } from './dn-format.error';
import { nameAttributes, type NameAttribute } from './name-attributes';
import { elementEnd, isEndOfContents, readHeader, type BerHeader } from './asn1-tlv';

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
    return tbsNames(cert.raw);
  } catch (error) {
    throw new DnFormatError(`cannot read the certificate names: ${(error as Error).message}`);
  }
}

const CONTEXT = 3;

/**
 * The fields of `TBSCertificate` (RFC 5280) walked element by element (headers
 * decoded by asn1js, nothing else): issuer and subject kept as their DER,
 * the extensions as the DER inside `[3]`. No value inside is decoded, so a
 * certificate OpenSSL took is never refused here for an odd value in a name.
 */
function tbsNames(raw: Uint8Array): { issuer: ArrayBuffer; subject: ArrayBuffer; extensions?: ArrayBuffer } {
  const certificate = readHeader(raw, 0, raw.length);
  const tbs = readHeader(raw, certificate.contentStart, certificate.contentEnd);
  const fields: Array<{ header: BerHeader; start: number; end: number }> = [];
  let at = tbs.contentStart;
  while (at < tbs.contentEnd && !isEndOfContents(raw, at, tbs.contentEnd)) {
    const header = readHeader(raw, at, tbs.contentEnd);
    const end = elementEnd(raw, header);
    fields.push({ header, start: at, end });
    at = end;
  }
  const first = fields[0]?.header;
  const versioned = first !== undefined && first.tagClass === CONTEXT && first.tagNumber === 0;
  // [version,] serialNumber, signature, issuer, validity, subject, subjectPublicKeyInfo, then [1] [2] [3]
  const issuer = fields[versioned ? 3 : 2];
  const subject = fields[versioned ? 5 : 4];
  if (!issuer || !subject) throw new Error('the TBSCertificate is too short');
  const bytesOf = (start: number, end: number) => raw.buffer.slice(raw.byteOffset + start, raw.byteOffset + end) as ArrayBuffer;
  const explicit = fields.slice(versioned ? 7 : 6).find((f) => f.header.tagClass === CONTEXT && f.header.tagNumber === 3);
  let extensions: ArrayBuffer | undefined;
  if (explicit) {
    const inner = readHeader(raw, explicit.header.contentStart, explicit.header.contentEnd);
    extensions = bytesOf(explicit.header.contentStart, elementEnd(raw, inner));
  }
  return { issuer: bytesOf(issuer.start, issuer.end), subject: bytesOf(subject.start, subject.end), ...(extensions ? { extensions } : {}) };
}

/** The subject DN of a certificate, formatted by {@link formatDn}. */
export function subjectDn(cert: X509Certificate): string {
  return formatDn(certificateNames(cert).subject);
}

/** The issuer DN of a certificate, formatted by {@link formatDn}. */
export function issuerDn(cert: X509Certificate): string {
  return formatDn(certificateNames(cert).issuer);
}
