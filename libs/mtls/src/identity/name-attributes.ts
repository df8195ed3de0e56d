import { AsnConvert } from '@peculiar/asn1-schema';
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

/**
 * The RDNs of a DER-encoded X.501 Name, in RFC 4514 order: most specific RDN
 * first, and, as OpenSSL prints them, the attributes of a multi-valued RDN in
 * reverse encoded order. Empty RDNs are left out (OpenSSL prints nothing for them).
 */
export function nameAttributes(nameDer: Uint8Array | ArrayBuffer): NameAttribute[][] {
  let name: RawName;
  try {
    name = AsnConvert.parse(nameDer, RawName);
  } catch (error) {
    throw new DnFormatError(`invalid Name: ${(error as Error).message}`);
  }
  return name
    .map((rdn) =>
      rdn.map((attribute) => {
        const type = attributeType(attribute.type);
        const value = readAttributeValue(attribute.value, type.shortName === undefined);
        return { oid: type.oid, label: type.label, printed: value.printed, text: value.text };
      }),
    )
    .filter((rdn) => rdn.length > 0)
    .map((rdn) => rdn.reverse())
    .reverse();
}
