import type { X509Certificate } from 'node:crypto';
import type { DnFormat } from './client-identity.interface';
import type { ClientIdentity } from './client-identity.interface';
import { certificateNames, formatRdns } from './dn-format';
import { DnFormatError } from './dn-format.error';
import { formatJdkDn } from './jdk-dn-format';
import { nameAttributes, rawNameAttributes, type NameAttribute } from './name-attributes';
import { spiffeIdOfUris } from './spiffe-id';
import { subjectAltNamesFromExtensionsDer } from './subject-alt-names';

const COMMON_NAME = '2.5.4.3';
const ORGANIZATIONAL_UNIT = '2.5.4.11';

/**
 * The first CN as the DN string shows it (most specific RDN first), unescaped;
 * undefined when there is none or when that CN is not a string (OpenSSL dumps it as `#hex`).
 */
function commonName(subject: NameAttribute[][]): string | undefined {
  for (const rdn of subject) {
    const cn = rdn.find((attribute) => attribute.oid === COMMON_NAME);
    if (cn) return cn.text;
  }
  return undefined;
}

/** The text of every OU, in DN order (most specific first); dumped (non-string) values are left out. */
function organizationalUnits(subject: NameAttribute[][]): string[] {
  return subject.flatMap((rdn) => rdn.filter((a) => a.oid === ORGANIZATIONAL_UNIT && a.text !== undefined).map((a) => a.text as string));
}

/**
 * Builds the {@link ClientIdentity} of a certificate: subject and issuer DN
 * in the form `dnFormat` names (default RFC 4514, as OpenSSL prints them), CN,
 * SANs by type, SPIFFE ID (X509-SVID: one URI SAN), OUs, serial,
 * SHA-256 fingerprint and validity. `dnFormat`: `rfc4514` (default), as
 * OpenSSL prints DNs; `jdk`, as Java's `getSubjectDN().getName()` does
 * (MtlsModule's `dnFormat`).
 *
 * @throws DnFormatError when a DN cannot be printed as OpenSSL would (also
 *   in the `jdk` form: such a certificate never gets through OpenSSL), or the
 *   subject alternative names cannot be read (callers fail closed).
 */
export function identityFromCertificate(cert: X509Certificate, options: { dnFormat?: DnFormat } = {}): ClientIdentity {
  const dnFormat = options.dnFormat ?? 'rfc4514';
  const names = certificateNames(cert); // one pass over the DER
  const rawSubject = rawNameAttributes(names.subject);
  const rawIssuer = rawNameAttributes(names.issuer);
  const subject = nameAttributes(rawSubject);
  const issuer = nameAttributes(rawIssuer); // checked in either form: what OpenSSL rejects is refused
  const san = readSubjectAltNames(names.extensions);
  return {
    subject: dnFormat === 'jdk' ? formatJdkDn(rawSubject) : formatRdns(subject),
    issuer: dnFormat === 'jdk' ? formatJdkDn(rawIssuer) : formatRdns(issuer),
    dnFormat,
    commonName: commonName(subject),
    san,
    spiffeId: spiffeIdOfUris(san.uri),
    organizationalUnits: organizationalUnits(subject),
    serialNumber: cert.serialNumber,
    fingerprint256: cert.fingerprint256,
    validFrom: new Date(cert.validFrom),
    validTo: new Date(cert.validTo),
    certificate: cert,
  };
}

/** The SANs, with the ASN.1 library's errors turned into the documented DnFormatError. */
function readSubjectAltNames(extensions: ArrayBuffer | undefined): ClientIdentity['san'] {
  try {
    return subjectAltNamesFromExtensionsDer(extensions);
  } catch (error) {
    throw new DnFormatError(`cannot read the subject alternative names: ${(error as Error).message}`);
  }
}
