import { elementEnd, isEndOfContents, readHeader, type BerHeader, type Tlv } from './asn1-tlv';
import { attributeType } from './attribute-type';
import { readAttributeValue } from './attribute-value';
import { DnFormatError } from './dn-format.error';
import { oidText } from './oid-text';

/** One attribute of a distinguished name, decoded as OpenSSL prints it. */
export interface NameAttribute {
  /** Dotted OID of the attribute type. */
  oid: string;
  /** Attribute type as printed: OpenSSL short name, or the dotted OID when OpenSSL does not know it. */
  label: string;
  /** Escaped value as printed (`#hex` for dumped values). */
  printed: string;
  /** Unescaped text of string values; undefined for dumped values. */
  text?: string;
}

/** One attribute of a Name as encoded: its type (dotted OID) and its value's exact bytes. */
export interface RawNameAttribute {
  oid: string;
  value: Tlv;
}

/**
 * The RDNs of a DER-encoded X.501 Name exactly as encoded: least specific
 * RDN first, the attributes of each RDN in encoded order, empty RDNs kept.
 * What the DN formats ({@link nameAttributes}, the `jdk` form) print from.
 *
 * Read as OpenSSL's d2i reads a Name, element by element (headers and OIDs
 * decoded by asn1js): universal SEQUENCE OF SET OF SEQUENCE { OBJECT
 * IDENTIFIER, one value }, every length within its parent, BER indefinite
 * lengths allowed, nothing after the Name. Values are kept as raw bytes:
 * asn1js would decode them and refuse some that OpenSSL and Java print (a
 * constructed UniversalString, tag 15). The Name is read as the subject of a
 * certificate, with more octets following it.
 */
export function rawNameAttributes(nameDer: Uint8Array | ArrayBuffer): RawNameAttribute[][] {
  const bytes = nameDer instanceof Uint8Array ? nameDer : new Uint8Array(nameDer);
  try {
    return readName(bytes);
  } catch (error) {
    throw new DnFormatError(`invalid Name: ${(error as Error).message}`);
  }
}

const OID = 6;
const SEQUENCE = 16;
const SET = 17;

/**
 * The header of a universal SEQUENCE or SET at `offset`. OpenSSL insists on
 * the constructed bit for a SEQUENCE (an attribute), not for a SEQUENCE OF or
 * SET OF (the Name, an RDN): `10 00` is an empty Name to it.
 */
function expect(bytes: Uint8Array, offset: number, end: number, tagNumber: number, what: string, options: { room?: number; constructed?: boolean } = {}): BerHeader {
  const header = readHeader(bytes, offset, end, options.room);
  const constructed = header.constructed || options.constructed === false;
  if (header.tagClass !== 1 || header.tagNumber !== tagNumber || !constructed) throw new Error(`${what} is not a ${tagNumber === SET ? 'SET' : 'SEQUENCE'}`);
  return header;
}

/** The elements inside `header`, each read by `each` (which returns where it ended); returns where `header`'s element ends. */
function forEachChild(bytes: Uint8Array, header: BerHeader, each: (offset: number, end: number) => number): number {
  let at = header.contentStart;
  const end = header.contentEnd;
  while (at < end) {
    if (isEndOfContents(bytes, at, end)) {
      if (header.indefinite) return at + 2;
      throw new Error('end-of-contents inside a definite length');
    }
    at = each(at, end);
  }
  if (header.indefinite) throw new Error('missing end-of-contents');
  return at;
}

function readName(bytes: Uint8Array): RawNameAttribute[][] {
  const rdns: RawNameAttribute[][] = [];
  const name = expect(bytes, 0, bytes.length, SEQUENCE, 'the Name', { room: bytes.length + 1, constructed: false });
  const nameEnd = forEachChild(bytes, name, (offset, end) => {
    const rdn = expect(bytes, offset, end, SET, 'an RDN', { constructed: false });
    const attributes: RawNameAttribute[] = [];
    rdns.push(attributes);
    return forEachChild(bytes, rdn, (atOffset, rdnEnd) => {
      const attribute = expect(bytes, atOffset, rdnEnd, SEQUENCE, 'an attribute');
      const type = readHeader(bytes, attribute.contentStart, attribute.contentEnd);
      if (type.tagClass !== 1 || type.tagNumber !== OID || type.constructed) throw new Error('an attribute type is not an OBJECT IDENTIFIER');
      const valueStart = type.contentEnd;
      if (valueStart >= attribute.contentEnd || isEndOfContents(bytes, valueStart, attribute.contentEnd)) throw new Error('an attribute has no value');
      const header = readHeader(bytes, valueStart, attribute.contentEnd);
      const der = bytes.subarray(valueStart, elementEnd(bytes, header));
      attributes.push({ oid: oidText(bytes.subarray(attribute.contentStart, valueStart)), value: tlvOf(header, valueStart, der) });
      let end = valueStart + der.length;
      if (attribute.indefinite) {
        if (!isEndOfContents(bytes, end, attribute.contentEnd)) throw new Error('an attribute holds more than a type and a value');
        end += 2;
      } else if (end !== attribute.contentEnd) {
        throw new Error('an attribute holds more than a type and a value');
      }
      return end;
    });
  });
  if (nameEnd !== bytes.length) throw new Error('data after the Name');
  return rdns;
}

function tlvOf(header: BerHeader, offset: number, der: Uint8Array): Tlv {
  const headerLength = header.contentStart - offset;
  return {
    tagClass: header.tagClass,
    tagNumber: header.tagNumber,
    constructed: header.constructed,
    der,
    content: header.constructed ? undefined : der.subarray(headerLength),
    headerLength,
    indefinite: header.indefinite,
  };
}

/**
 * The RDNs of a DER-encoded X.501 Name (or of its {@link rawNameAttributes}),
 * in RFC 4514 order: most specific RDN first, and, as OpenSSL prints them,
 * the attributes of a multi-valued RDN in reverse encoded order. Empty RDNs
 * are left out (OpenSSL prints nothing for them).
 */
export function nameAttributes(name: Uint8Array | ArrayBuffer | RawNameAttribute[][]): NameAttribute[][] {
  const raw = Array.isArray(name) ? name : rawNameAttributes(name);
  return raw
    .map((rdn) =>
      rdn.map((attribute) => {
        const type = attributeType(attribute.oid);
        const value = readAttributeValue(attribute.value, type.shortName === undefined);
        return { oid: type.oid, label: type.label, printed: value.printed, text: value.text };
      }),
    )
    .filter((rdn) => rdn.length > 0)
    .map((rdn) => rdn.reverse())
    .reverse();
}
