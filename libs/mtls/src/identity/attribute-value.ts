import { collectContent, encodePrimitive, type Tlv } from './asn1-tlv';
import { DnFormatError } from './dn-format.error';
import { escapeDnValue } from './dn-escape';

/** An attribute value as it appears in a DN string, and as text when it is a string. */
export interface AttributeValue {
  /** Escaped RFC 2253 form, exactly as OpenSSL prints it. */
  printed: string;
  /** The unescaped text for string types; undefined for values OpenSSL dumps as `#hex`. */
  text?: string;
}

const UTF8_STRING = 12;
const SEQUENCE = 16;
const BIT_STRING = 3;
const UNIVERSAL_STRING = 28;
const BMP_STRING = 30;

/** Bytes per character of the string types OpenSSL prints as text (`tag2nbyte`); 0 = UTF-8. */
const STRING_WIDTH: ReadonlyMap<number, number> = new Map([
  [UTF8_STRING, 0],
  [18, 1], // NumericString
  [19, 1], // PrintableString
  [20, 1], // T61String / TeletexString (read as Latin-1)
  [22, 1], // IA5String
  [UNIVERSAL_STRING, 4],
  [BMP_STRING, 2],
]);

/**
 * Universal tags OpenSSL accepts as a Name attribute value (`B_ASN1_PRINTABLE`
 * plus the tags `ASN1_tag2bit` maps to `B_ASN1_UNKNOWN`). Anything else makes
 * OpenSSL reject the whole certificate.
 */
const ACCEPTED_TAGS: ReadonlySet<number> = new Set([
  BIT_STRING, 7, 8, 9, 11, UTF8_STRING, 13, 14, 15, SEQUENCE, 18, 19, 20, 22, UNIVERSAL_STRING, 29, BMP_STRING,
]);

const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex').toUpperCase();
}

function isScalar(codePoint: number): boolean {
  return codePoint <= 0x10ffff && (codePoint < 0xd800 || codePoint > 0xdfff);
}

/** Code points of a fixed-width string (1, 2 or 4 bytes, big-endian), validated as OpenSSL does on decoding. */
function codePoints(content: Uint8Array, width: number): number[] {
  if (content.length % width !== 0) throw new DnFormatError(`string length is not a multiple of ${width}`);
  const points: number[] = [];
  for (let i = 0; i < content.length; i += width) {
    let point = 0;
    for (let j = 0; j < width; j++) point = point * 256 + content[i + j];
    if (width > 1 && !isScalar(point)) throw new DnFormatError(`invalid character U+${point.toString(16)}`);
    points.push(point);
  }
  return points;
}

/** A value OpenSSL prints as text: the characters (as UTF-8 bytes) and the plain text. */
function stringValue(tag: number, content: Uint8Array): AttributeValue {
  const width = STRING_WIDTH.get(tag) as number;
  if (width === 0) {
    // OpenSSL rejects invalid UTF-8 when it decodes the name, then prints the bytes one by one.
    let text: string;
    try {
      text = utf8Decoder.decode(content);
    } catch {
      throw new DnFormatError('UTF8String is not valid UTF-8');
    }
    return { printed: escapeDnValue(Array.from(content, (byte) => [byte])), text };
  }
  const text = String.fromCodePoint(...codePoints(content, width));
  const chars = Array.from(text, (char) => Array.from(Buffer.from(char, 'utf8')));
  return { printed: escapeDnValue(chars), text };
}

/** BIT STRING content as OpenSSL re-encodes it: unused-bits byte, padding bits cleared, empty → `00`. */
function bitStringContent(content: Uint8Array): Uint8Array {
  if (content.length === 0) throw new DnFormatError('BIT STRING without unused-bits octet');
  const unused = content[0];
  if (unused > 7) throw new DnFormatError('BIT STRING with more than 7 unused bits');
  if (content.length === 1) return Uint8Array.of(0);
  const normalised = Uint8Array.from(content);
  normalised[normalised.length - 1] &= (0xff << unused) & 0xff;
  return normalised;
}

/** `#` + hex of the DER OpenSSL produces for the value (`ASN1_STRFLGS_DUMP_DER`). */
function dumpValue(tlv: Tlv, content: Uint8Array): AttributeValue {
  if (tlv.tagNumber === SEQUENCE) return { printed: `#${hex(tlv.der)}` }; // kept verbatim by OpenSSL
  const body = tlv.tagNumber === BIT_STRING ? bitStringContent(content) : content;
  return { printed: `#${hex(encodePrimitive(tlv.tagNumber, body))}` };
}

/**
 * Prints one attribute value (decoded by asn1js) as `X509_NAME_print_ex` does with
 * `XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB`: string types as escaped UTF-8
 * text, other types, and every value of an attribute type OpenSSL does not
 * know (`dumpAll`), as `#` + uppercase hex of the DER.
 */
export function readAttributeValue(tlv: Tlv, dumpAll: boolean): AttributeValue {
  if (tlv.tagClass !== 1 || !ACCEPTED_TAGS.has(tlv.tagNumber)) {
    throw new DnFormatError(`attribute value type [${tlv.tagClass}:${tlv.tagNumber}] is not accepted by OpenSSL`);
  }
  if (tlv.tagNumber === SEQUENCE) {
    if (!tlv.constructed) throw new DnFormatError('primitive SEQUENCE');
    return dumpValue(tlv, tlv.der);
  }
  const content = collectContent(tlv);
  if (STRING_WIDTH.has(tlv.tagNumber)) {
    const value = stringValue(tlv.tagNumber, content); // validates even when dumped, as OpenSSL does
    return dumpAll ? dumpValue(tlv, content) : value;
  }
  return dumpValue(tlv, content);
}
