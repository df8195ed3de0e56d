import type { X509Certificate } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import {
  AuthorityInfoAccessSyntax,
  CRLDistributionPoints,
  Extensions,
  id_ce_cRLDistributionPoints,
  id_pe_authorityInfoAccess,
  type GeneralName,
} from '@peculiar/asn1-x509';
import { certificateNames, formatDn } from '../identity/dn-format';
import { normalizeSerial } from './serial-number';

const ID_AD_OCSP = '1.3.6.1.5.5.7.48.1';

/** What revocation checking needs to know about one certificate, read once. */
export interface CertificateFacts {
  certificate: X509Certificate;
  /** SHA-256 fingerprint (Node's spelling). */
  fingerprint: string;
  /** Normalized serial number (lowercase hex, no leading zeros). */
  serial: string;
  /** DER of the issuer Name: compared with a CRL's issuer and a CA's subject. */
  issuerDer: Buffer;
  /** RFC 4514 issuer and subject, for log lines. */
  issuer: string;
  subject: string;
  /** `http:` URLs of its CRL Distribution Points (LDAP, HTTPS and other schemes are not fetched). */
  crlUrls: string[];
  /** `http:` URLs of the OCSP responders in its Authority Information Access. */
  ocspUrls: string[];
}

/**
 * The URIs of a certificate's CRL Distribution Points (full names, any
 * scheme; distribution points limited to some reasons or naming another CRL
 * issuer are skipped) and of the OCSP responders in its Authority
 * Information Access. Throws when its extensions do not parse.
 */
export function revocationUrls(certificate: X509Certificate): { crl: string[]; ocsp: string[] } {
  const { extensions } = certificateNames(certificate);
  const crl: string[] = [];
  const ocsp: string[] = [];
  for (const extension of extensions ? AsnConvert.parse(extensions, Extensions) : []) {
    if (extension.extnID === id_ce_cRLDistributionPoints) {
      for (const point of AsnConvert.parse(extension.extnValue, CRLDistributionPoints)) {
        if (point.reasons || point.cRLIssuer) continue; // partial or indirect: not what we read
        crl.push(...uris(point.distributionPoint?.fullName ?? []));
      }
    } else if (extension.extnID === id_pe_authorityInfoAccess) {
      for (const access of AsnConvert.parse(extension.extnValue, AuthorityInfoAccessSyntax)) {
        if (access.accessMethod === ID_AD_OCSP) ocsp.push(...uris([access.accessLocation]));
      }
    }
  }
  return { crl: [...new Set(crl)], ocsp: [...new Set(ocsp)] };
}

/** Reads the facts of a certificate; throws when its extensions do not parse. */
export function certificateFacts(certificate: X509Certificate): CertificateFacts {
  const names = certificateNames(certificate);
  const urls = revocationUrls(certificate);
  const isHttp = (u: string) => /^http:\/\//i.test(u);
  return {
    certificate,
    fingerprint: certificate.fingerprint256,
    serial: normalizeSerial(certificate.serialNumber),
    issuerDer: Buffer.from(names.issuer),
    issuer: safeDn(names.issuer),
    subject: safeDn(names.subject),
    crlUrls: urls.crl.filter(isHttp),
    ocspUrls: urls.ocsp.filter(isHttp),
  };
}

/** The URIs among general names. */
function uris(names: GeneralName[]): string[] {
  return names.map((n) => n.uniformResourceIdentifier).filter((u): u is string => typeof u === 'string');
}

function safeDn(der: ArrayBuffer): string {
  try {
    return formatDn(der);
  } catch {
    return `#${Buffer.from(der).toString('hex')}`;
  }
}
