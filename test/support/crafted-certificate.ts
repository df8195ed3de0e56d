import { sign, X509Certificate } from 'node:crypto';
import type { IssuedCertificate } from 'nest-mtls/testing';
import { children, tbsWithCriticalExtension, tbsWithSubject, tlv } from './der';

/**
 * `leaf` re-signed by `issuer` with its subject replaced by `subject` (DER of
 * an X.501 Name, crafted byte by byte): a certificate that verifies against
 * the issuer's trust chain although its name holds encodings no certificate
 * library would write. Returns the PEM of the new certificate (leaf's key).
 * `criticalSubjectAltName`: the SAN extension marked critical, as RFC 5280
 * wants (and Java insists) for a certificate with an empty subject.
 */
export function resignedWithSubject(leaf: IssuedCertificate, issuer: IssuedCertificate, subject: Buffer, options: { criticalSubjectAltName?: boolean } = {}): string {
  const [tbs, signatureAlgorithm] = children(leaf.certificate.raw);
  const renamed = tbsWithSubject(tbs, subject);
  const newTbs = options.criticalSubjectAltName ? tbsWithCriticalExtension(renamed, '2.5.29.17') : renamed;
  const signature = sign('sha256', newTbs, issuer.key);
  const der = tlv(0x30, Buffer.concat([newTbs, signatureAlgorithm, tlv(0x03, Buffer.concat([Buffer.from([0]), signature]))]));
  if (!new X509Certificate(der).verify(issuer.certificate.publicKey)) throw new Error('crafted certificate does not verify');
  return `-----BEGIN CERTIFICATE-----\n${der.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n?$/, '\n')}-----END CERTIFICATE-----\n`;
}
