import { AsnConvert } from '@peculiar/asn1-schema';
import type { Tlv } from './asn1-tlv';
import { attributeType } from './attribute-type';
import { readAttributeValue } from './attribute-value';
import { DnFormatError } from './dn-format.error';
import { RawName } from './name-schema';

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
 */
export function rawNameAttributes(nameDer: Uint8Array | ArrayBuffer): RawNameAttribute[][] {
  let name: RawName;
  try {
    name = AsnConvert.parse(nameDer, RawName);
  } catch (error) {
    throw new DnFormatError(`invalid Name: ${(error as Error).message}`);
  }
  return name.map((rdn) => rdn.map((attribute) => ({ oid: attribute.type, value: attribute.value })));
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
