import type { Tlv } from './asn1-tlv';
import { javaDerValue } from './java-der-value';
import { rawNameAttributes, type RawNameAttribute } from './name-attributes';

/**
 * The `jdk` DN form: exactly what Java 17's
 * `X509Certificate.getSubjectDN().getName()` prints (`sun.security.x509.X500Name.toString()`),
 * the string the article's Dropwizard filter matches its regex against:
 *
 * - RDNs most specific first (reverse of the encoded order), joined by `, `;
 *   an empty RDN prints as nothing between its separators; an empty Name is `""`;
 * - the attributes of a multi-valued RDN in ENCODED order, joined by ` + `
 *   (`UID=hp + CN=home-page-service` when UID is encoded first);
 * - attribute types by Java's keywords (`AVAKeyword`), else `OID.` and the dotted OID
 *   (`OID.2.5.4.17=94105`);
 * - string values (UTF8String, PrintableString, T61String, IA5String,
 *   BMPString, UniversalString) as text, in double quotes when they hold one of
 *   `,+=\n<>#;\"`, start or end with a space or newline, or hold two white
 *   spaces in a row; inside quotes `"` and `\` are escaped with a backslash;
 *   nothing else is escaped (non-ASCII and control characters are printed as they are);
 * - any other value (NumericString, BIT STRING, a constructed string, ...) as
 *   `#` and the lowercase hex of its DER as `DerValue.toByteArray()` gives it
 *   (`javaDerValue`: the length in DER form, a BER indefinite length made
 *   definite first, as Java's parser does).
 *
 * Checked byte for byte against Java 17 by test/unit/jdk-dn.spec.ts.
 */
export function formatJdkDn(name: Uint8Array | ArrayBuffer | RawNameAttribute[][]): string {
  const rdns = Array.isArray(name) ? name : rawNameAttributes(name);
  // X500Name.generateDN: a single RDN as it is, otherwise from the last encoded to the first.
  if (rdns.length === 1) return formatRdn(rdns[0]);
  const printed: string[] = [];
  for (let i = rdns.length - 1; i >= 0; i--) printed.push(formatRdn(rdns[i]));
  return printed.join(', ');
}

/** RDN.toString(): the attributes in encoded order, joined by ` + `. */
function formatRdn(rdn: RawNameAttribute[]): string {
  return rdn.map((attribute) => `${jdkKeyword(attribute.oid)}=${jdkValue(attribute.value)}`).join(' + ');
}

/**
 * AVAKeyword's table in Java 17: the keyword each OID prints as (the last one
 * registered for an OID wins: `ST` over `S`, `DNQ` over `DNQUALIFIER`,
 * `EMAILADDRESS` over `EMAIL`).
 */
const JDK_KEYWORDS: ReadonlyMap<string, string> = new Map([
  ['2.5.4.3', 'CN'],
  ['2.5.4.6', 'C'],
  ['2.5.4.7', 'L'],
  ['2.5.4.8', 'ST'],
  ['2.5.4.10', 'O'],
  ['2.5.4.11', 'OU'],
  ['2.5.4.12', 'T'],
  ['1.3.6.1.4.1.42.2.11.2.1', 'IP'],
  ['2.5.4.9', 'STREET'],
  ['0.9.2342.19200300.100.1.25', 'DC'],
  ['2.5.4.46', 'DNQ'],
  ['2.5.4.4', 'SURNAME'],
  ['2.5.4.42', 'GIVENNAME'],
  ['2.5.4.43', 'INITIALS'],
  ['2.5.4.44', 'GENERATION'],
  ['1.2.840.113549.1.9.1', 'EMAILADDRESS'],
  ['0.9.2342.19200300.100.1.1', 'UID'],
  ['2.5.4.5', 'SERIALNUMBER'],
]);

/** The attribute type as Java prints it: its keyword, else `OID.` + the dotted OID. */
export function jdkKeyword(oid: string): string {
  return JDK_KEYWORDS.get(oid) ?? `OID.${oid}`;
}

const UTF8_STRING = 12;
const PRINTABLE_STRING = 19;
const T61_STRING = 20;
const IA5_STRING = 22;
const GENERAL_STRING = 27;
const UNIVERSAL_STRING = 28;
const BMP_STRING = 30;

const utf8 = new TextDecoder('utf-8');
const utf16be = new TextDecoder('utf-16be');

/** US-ASCII as Java decodes it: a byte above 0x7F becomes U+FFFD. */
function ascii(bytes: Uint8Array): string {
  let text = '';
  for (const byte of bytes) text += byte > 0x7f ? '\ufffd' : String.fromCharCode(byte);
  return text;
}

/** UTF-32BE as Java decodes it (values that are not Unicode scalars become U+FFFD). */
function utf32be(bytes: Uint8Array): string {
  let text = '';
  const whole = bytes.length - (bytes.length % 4);
  for (let i = 0; i < whole; i += 4) {
    const point = ((bytes[i] << 24) | (bytes[i + 1] << 16) | (bytes[i + 2] << 8) | bytes[i + 3]) >>> 0;
    text += point <= 0x10ffff && (point < 0xd800 || point > 0xdfff) ? String.fromCodePoint(point) : '\ufffd';
  }
  return whole < bytes.length ? `${text}\ufffd` : text;
}

/** DerValue.getAsString(): the text of the string types Java knows, undefined for any other value. */
function javaString(value: Tlv): string | undefined {
  if (value.tagClass !== 1 || value.constructed || !value.content) return undefined;
  const bytes = value.content;
  switch (value.tagNumber) {
    case UTF8_STRING:
      return utf8.decode(bytes);
    case PRINTABLE_STRING:
    case IA5_STRING:
    case GENERAL_STRING:
      return ascii(bytes);
    case T61_STRING:
      return Buffer.from(bytes).toString('latin1');
    case BMP_STRING:
      return utf16be.decode(bytes);
    case UNIVERSAL_STRING:
      return utf32be(bytes);
    default:
      return undefined;
  }
}

/** Characters that make Java quote a value (AVA.toKeywordValueString). */
const QUOTE_TRIGGERS = ',+=\n<>#;\\"';

/** DerValue.isPrintableStringChar: letters, digits and ` '()+,-./:=?`. */
function isPrintableStringChar(c: string): boolean {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || " '()+,-./:=?".includes(c);
}

/** The value as AVA.toKeywordValueString prints it: quoted text, or `#` + lowercase hex of its DER. */
function jdkValue(value: Tlv): string {
  const text = javaString(value);
  if (text === undefined) return `#${Buffer.from(javaDerValue(value)).toString('hex')}`;
  return quotedLikeJava(text);
}

/** Java's quoting of a string value, character (UTF-16 code unit) by character. */
export function quotedLikeJava(text: string): string {
  const length = text.length;
  const alreadyQuoted = length > 1 && text[0] === '"' && text[length - 1] === '"';
  let quoteNeeded = false;
  let previousWhite = false;
  let out = '';
  for (let i = 0; i < length; i++) {
    const c = text[i];
    if (alreadyQuoted && (i === 0 || i === length - 1)) {
      out += c;
      continue;
    }
    const white = c === ' ' || c === '\n';
    if (isPrintableStringChar(c) || QUOTE_TRIGGERS.includes(c)) {
      if (!quoteNeeded && ((i === 0 && white) || QUOTE_TRIGGERS.includes(c))) quoteNeeded = true;
      if (!white) {
        if (c === '"' || c === '\\') out += '\\';
        previousWhite = false;
      } else {
        if (!quoteNeeded && previousWhite) quoteNeeded = true;
        previousWhite = true;
      }
      out += c;
    } else {
      previousWhite = false;
      out += c;
    }
  }
  if (out.length > 0 && (out[out.length - 1] === ' ' || out[out.length - 1] === '\n')) quoteNeeded = true;
  return !alreadyQuoted && quoteNeeded ? `"${out}"` : out;
}
