import { AsnArray, AsnProp, AsnPropTypes, AsnType, AsnTypeTypes } from '@peculiar/asn1-schema';
import { type Tlv, TlvConverter } from './asn1-tlv';
import { OidTextConverter } from './oid-text';

/**
 * ASN.1 schemas (for @peculiar/asn1-schema) that keep attribute values as raw
 * DER. The schemas of @peculiar/asn1-x509 decode values into JS strings,
 * which loses the string type and the exact bytes OpenSSL prints from.
 */

/** `AttributeTypeAndValue ::= SEQUENCE { type OBJECT IDENTIFIER, value ANY }`, the value kept as raw bytes. */
export class RawAttributeTypeAndValue {
  /** The attribute type, as dotted OID text (arcs of any size). */
  @AsnProp({ type: AsnPropTypes.ObjectIdentifier, converter: OidTextConverter })
  type = '';

  /** The value: its tag and exact bytes. */
  @AsnProp({ type: AsnPropTypes.Any, converter: TlvConverter })
  value!: Tlv;
}

/** `RelativeDistinguishedName ::= SET OF AttributeTypeAndValue`, in encoded order. */
@AsnType({ type: AsnTypeTypes.Set, itemType: RawAttributeTypeAndValue })
export class RawRelativeDistinguishedName extends AsnArray<RawAttributeTypeAndValue> {
  constructor(items?: RawAttributeTypeAndValue[]) {
    super(items);
    Object.setPrototypeOf(this, RawRelativeDistinguishedName.prototype);
  }
}

/** `Name ::= SEQUENCE OF RelativeDistinguishedName`, in encoded order (least specific first). */
@AsnType({ type: AsnTypeTypes.Sequence, itemType: RawRelativeDistinguishedName })
export class RawName extends AsnArray<RawRelativeDistinguishedName> {
  constructor(items?: RawRelativeDistinguishedName[]) {
    super(items);
    Object.setPrototypeOf(this, RawName.prototype);
  }
}

/** The fields of `TBSCertificate` (RFC 5280), with issuer and subject kept as DER. */
export class RawTbsCertificateNames {
  @AsnProp({ type: AsnPropTypes.Any, context: 0, optional: true })
  version?: ArrayBuffer;

  @AsnProp({ type: AsnPropTypes.Any })
  serialNumber: ArrayBuffer = new ArrayBuffer(0);

  @AsnProp({ type: AsnPropTypes.Any })
  signature: ArrayBuffer = new ArrayBuffer(0);

  /** DER of the issuer Name. */
  @AsnProp({ type: AsnPropTypes.Any })
  issuer: ArrayBuffer = new ArrayBuffer(0);

  @AsnProp({ type: AsnPropTypes.Any })
  validity: ArrayBuffer = new ArrayBuffer(0);

  /** DER of the subject Name. */
  @AsnProp({ type: AsnPropTypes.Any })
  subject: ArrayBuffer = new ArrayBuffer(0);

  @AsnProp({ type: AsnPropTypes.Any })
  subjectPublicKeyInfo: ArrayBuffer = new ArrayBuffer(0);

  @AsnProp({ type: AsnPropTypes.Any, context: 1, implicit: true, optional: true })
  issuerUniqueID?: ArrayBuffer;

  @AsnProp({ type: AsnPropTypes.Any, context: 2, implicit: true, optional: true })
  subjectUniqueID?: ArrayBuffer;

  @AsnProp({ type: AsnPropTypes.Any, context: 3, optional: true })
  extensions?: ArrayBuffer;
}

/** `Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue }`, names kept as DER. */
export class RawCertificateNames {
  @AsnProp({ type: RawTbsCertificateNames })
  tbsCertificate = new RawTbsCertificateNames();

  @AsnProp({ type: AsnPropTypes.Any })
  signatureAlgorithm: ArrayBuffer = new ArrayBuffer(0);

  @AsnProp({ type: AsnPropTypes.Any })
  signatureValue: ArrayBuffer = new ArrayBuffer(0);
}
