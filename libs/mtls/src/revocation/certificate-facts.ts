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
  /** `http:` URLs of its CRL Distribution Points (full names; distribution points limited to some reasons or with another CRL issuer are skipped). */
  crlUrls: string[];
  /** `http:` URLs of the OCSP responders in its Authority Information Access. */
  ocspUrls: string[];
}

/** Reads the facts of a certificate; throws when its extensions do not parse. */
export function certificateFacts(certificate: X509Certificate): CertificateFacts {
  const names = certificateNames(certificate);
  const crlUrls: string[] = [];
  const ocspUrls: string[] = [];
  if (names.extensions) {
    for (const extension of AsnConvert.parse(names.extensions, Extensions)) {
      if (extension.extnID === id_ce_cRLDistributionPoints) {
        for (const point of AsnConvert.parse(extension.extnValue, CRLDistributionPoints)) {
          if (point.reasons || point.cRLIssuer) continue; // partial or indirect: not what we read
          crlUrls.push(...httpUris(point.distributionPoint?.fullName ?? []));
        }
      } else if (extension.extnID === id_pe_authorityInfoAccess) {
        for (const access of AsnConvert.parse(extension.extnValue, AuthorityInfoAccessSyntax)) {
          if (access.accessMethod === ID_AD_OCSP) ocspUrls.push(...httpUris([access.accessLocation]));
        }
      }
    }
  }
  return {
    certificate,
    fingerprint: certificate.fingerprint256,
    serial: normalizeSerial(certificate.serialNumber),
    issuerDer: Buffer.from(names.issuer),
    issuer: safeDn(names.issuer),
    subject: safeDn(names.subject),
    crlUrls: [...new Set(crlUrls)],
    ocspUrls: [...new Set(ocspUrls)],
  };
}

/** The `http:` URIs among general names (LDAP, HTTPS and other schemes are not fetched). */
function httpUris(names: GeneralName[]): string[] {
  return names.map((n) => n.uniformResourceIdentifier).filter((u): u is string => typeof u === 'string' && /^http:\/\//i.test(u));
}

function safeDn(der: ArrayBuffer): string {
  try {
    return formatDn(der);
  } catch {
    return `#${Buffer.from(der).toString('hex')}`;
  }
}
