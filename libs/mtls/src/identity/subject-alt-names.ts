import type { X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate, Extensions, SubjectAlternativeName, id_ce_subjectAltName } from '@peculiar/asn1-x509';
import type { SubjectAltNames } from './client-identity.interface';

/**
 * The subject alternative names of a certificate by type, in certificate
 * order, parsed from the DER extension with @peculiar/asn1-x509 (never from
 * Node's `subjectAltName` text, which loses escaping). IP addresses are IPv4
 * dotted or IPv6 in RFC 5952 form (lowercase, longest zero run as `::`);
 * an iPAddress that is not 4 or 16 octets is left out.
 */
export function subjectAltNames(cert: X509Certificate): SubjectAltNames {
  const { extensions } = AsnConvert.parse(cert.raw, Certificate).tbsCertificate;
  return sansFromExtensions(extensions);
}

/** As {@link subjectAltNames}, from the DER of a certificate's `Extensions` (what `certificateNames` returns). */
export function subjectAltNamesFromExtensionsDer(extensionsDer: ArrayBuffer | undefined): SubjectAltNames {
  return sansFromExtensions(extensionsDer ? AsnConvert.parse(extensionsDer, Extensions) : undefined);
}

function sansFromExtensions(extensions: Extensions | undefined): SubjectAltNames {
  const san: SubjectAltNames = { dns: [], uri: [], ip: [], email: [] };
  const extension = extensions?.find((ext) => ext.extnID === id_ce_subjectAltName);
  if (!extension) return san;
  for (const name of AsnConvert.parse(extension.extnValue.buffer, SubjectAlternativeName)) {
    if (name.dNSName !== undefined) san.dns.push(name.dNSName);
    else if (name.uniformResourceIdentifier !== undefined) san.uri.push(name.uniformResourceIdentifier);
    else if (name.rfc822Name !== undefined) san.email.push(name.rfc822Name);
    else if (name.iPAddress !== undefined && isIP(name.iPAddress) !== 0) san.ip.push(name.iPAddress);
  }
  return san;
}
