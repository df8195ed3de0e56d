import { opensslShortName } from './attribute-names';

/** An attribute type as OpenSSL names it in a DN string. */
export interface AttributeType {
  /** Dotted OID. */
  oid: string;
  /** OpenSSL short name (`CN`, `emailAddress`, ...); undefined when OpenSSL does not know the OID. */
  shortName?: string;
  /** What the DN string shows: the short name, else the dotted OID (cut to 79 characters as OpenSSL does). */
  label: string;
}

/** OpenSSL prints unknown OIDs through an 80-byte buffer (`char objtmp[80]`). */
const OID_TEXT_MAX = 79;

/** Names an attribute type (dotted OID) as OpenSSL does. */
export function attributeType(oid: string): AttributeType {
  const shortName = opensslShortName(oid);
  return { oid, shortName, label: shortName ?? oid.slice(0, OID_TEXT_MAX) };
}
