import type { X509Certificate } from 'node:crypto';
import type { DnFormat } from '../config/mtls-options.interface';
import { identityFromCertificate } from '../identity/identity-from-certificate';
import { revocationUrls } from '../x509/certificate-facts';

/**
 * What `mtls inspect` prints about one certificate, a line each: the subject
 * first (the DN policies match, in the form `dnFormat` says: `rfc4514` by
 * default, or `jdk`, as Java's getSubjectDN().getName()), then issuer (same form), SANs, SPIFFE ID, validity,
 * serial, SHA-256 fingerprint, its CRL distribution points and OCSP
 * responders (when it names any), and a warning when it is outside its validity.
 * Throws when the certificate cannot be read as an identity.
 */
export function certificateReport(cert: X509Certificate, now = Date.now(), dnFormat: DnFormat = 'rfc4514'): string[] {
  const identity = identityFromCertificate(cert, { dnFormat });
  const san = [
    ...identity.san.dns.map((v) => `DNS:${v}`),
    ...identity.san.uri.map((v) => `URI:${v}`),
    ...identity.san.ip.map((v) => `IP:${v}`),
    ...identity.san.email.map((v) => `email:${v}`),
  ];
  const lines = [
    `subject: ${identity.subject}`,
    `issuer: ${identity.issuer}`,
    `san: ${san.length > 0 ? san.join(', ') : '(none)'}`,
    ...(identity.spiffeId ? [`spiffe: ${identity.spiffeId}`] : []),
    `not before: ${identity.validFrom.toISOString()}`,
    `not after: ${identity.validTo.toISOString()}`,
    `serial: ${identity.serialNumber}`,
    `sha256: ${identity.fingerprint256}`,
  ];
  const urls = revocationUrls(cert);
  if (urls.crl.length > 0) lines.push(`crl distribution points: ${urls.crl.join(', ')}`);
  if (urls.ocsp.length > 0) lines.push(`ocsp: ${urls.ocsp.join(', ')}`);
  if (identity.validTo.getTime() < now) lines.push(`EXPIRED: not valid since ${identity.validTo.toISOString()}`);
  else if (identity.validFrom.getTime() > now) lines.push(`NOT YET VALID: valid from ${identity.validFrom.toISOString()}`);
  return lines;
}
