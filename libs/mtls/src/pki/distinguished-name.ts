import { AsnConvert } from '@peculiar/asn1-schema';
import * as asn1X509 from '@peculiar/asn1-x509';
import { x509 } from './webcrypto-keys';

/** Attribute short names openssl prints (`-nameopt RFC2253`) that @peculiar/x509 does not know by itself. */
const OPENSSL_NAMES: Record<string, string> = {
  emailAddress: '1.2.840.113549.1.9.1',
  UID: '0.9.2342.19200300.100.1.1',
  serialNumber: '2.5.4.5',
  street: '2.5.4.9',
  title: '2.5.4.12',
  GN: '2.5.4.42',
  initials: '2.5.4.43',
  generationQualifier: '2.5.4.44',
  dnQualifier: '2.5.4.46',
  pseudonym: '2.5.4.65',
  postalCode: '2.5.4.17',
  businessCategory: '2.5.4.15',
};

/**
 * Turns an RFC 4514 string, most specific RDN first (`CN=a+OU=b,O=c`, as
 * `openssl x509 -nameopt RFC2253` prints it), into an X.509 Name encoded in
 * the reverse order: the last RDN of the string is the first one encoded, and
 * the values of a multi-valued RDN are reversed as well, because openssl
 * prints the entries of a name last to first. So openssl prints `subject`
 * back exactly.
 *
 * Parsing (escapes, `+`, attribute types) is @peculiar/x509's; it keeps the
 * string order, which is why the result is reversed here.
 */
export function nameFromRfc4514(subject: string): x509.Name {
  if (!subject.trim()) throw new Error('subject must not be empty');
  let parsed: x509.Name;
  try {
    parsed = new x509.Name(subject, OPENSSL_NAMES);
  } catch (err) {
    throw new Error(`invalid subject "${subject}": ${(err as Error).message}`, { cause: err });
  }
  const encoded = AsnConvert.parse(parsed.toArrayBuffer(), asn1X509.Name);
  // The parser skips what it does not understand ("CN=a,junk" gives CN=a): insist that every part made it.
  const parts = splitUnescaped(subject, /[,+]/);
  const attributes = encoded.reduce((sum, rdn) => sum + rdn.length, 0);
  const malformed = parts.find((part) => !/^\s*([A-Za-z][A-Za-z0-9-]*|[0-9]+(\.[0-9]+)+)\s*=/.test(part));
  if (malformed !== undefined || attributes !== parts.length) {
    throw new Error(`invalid subject "${subject}": expected TYPE=value parts separated by ',' or '+'${malformed !== undefined ? ` (not one: "${malformed}")` : ''}`);
  }
  const reversed = new asn1X509.Name(
    encoded
      .slice()
      .reverse()
      .map((rdn) => new asn1X509.RelativeDistinguishedName(rdn.slice().reverse())),
  );
  return new x509.Name(AsnConvert.serialize(reversed));
}

/** Splits at separator characters that are not escaped with a backslash. */
function splitUnescaped(text: string, separator: RegExp): string[] {
  const parts: string[] = [];
  let current = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '\\' && i + 1 < text.length) {
      current += ch + text[++i];
    } else if (separator.test(ch)) {
      parts.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  parts.push(current);
  return parts;
}
