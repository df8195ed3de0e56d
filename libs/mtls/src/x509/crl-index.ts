import type { KeyObject } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import {
  CRLReason,
  CRLReasons,
  Extensions,
  id_ce_cRLNumber,
  id_ce_cRLReasons,
  id_ce_issuingDistributionPoint,
  IssuingDistributionPoint,
  RevokedCertificate,
  Time,
} from '@peculiar/asn1-x509';
import { formatDn } from '../identity/dn-format';
import { CrlFormatError } from './crl-format.error';
import { DER, DerReader, derBytes, derContent, type DerElement } from './der-reader';
import { normalizeSerial, serialFromDer } from './serial-number';
import { bitStringBytes, verifySignature } from './signature';

/** One revoked certificate of a CRL. */
export interface CrlRevocation {
  /** Serial number, lowercase hex without leading zeros. */
  serialNumber: string;
  revokedAt: Date;
  /** RFC 5280 reason (`keyCompromise`, `certificateHold`, ...), when the entry names one. */
  reason?: string;
}

/** A CRL as nest-mtls reads it: who issued it, how long it is current, and which serial numbers it revokes. */
export interface ParsedCrl {
  /** The issuer DN, RFC 4514 as OpenSSL prints it (`CN=Global CA,O=Example`). */
  readonly issuer: string;
  readonly thisUpdate: Date;
  /** After this the CRL is out of date; absent when the CRL names no next update. */
  readonly nextUpdate?: Date;
  /** The CRL number in hex, when it has one. */
  readonly crlNumber?: string;
  /** How many certificates it revokes. */
  readonly revokedCount: number;
  /** The entry of `serialNumber` (hex in any case, with or without leading zeros or colons), if the CRL revokes it. */
  revocationOf(serialNumber: string): CrlRevocation | undefined;
}

/** CRL extensions nest-mtls understands; any other one marked critical makes the CRL unusable (RFC 5280 5.2). */
const KNOWN_CRL_EXTENSIONS = new Set([
  '2.5.29.35', // authorityKeyIdentifier
  id_ce_cRLNumber,
  id_ce_issuingDistributionPoint,
  '2.5.29.18', // issuerAltName
  '2.5.29.46', // freshestCRL (a pointer to delta CRLs, which are not read)
  '1.3.6.1.5.5.7.1.1', // authorityInfoAccess
  '2.5.29.60', // expiredCertsOnCRL
]);
const DELTA_CRL_INDICATOR = '2.5.29.27';

/**
 * A CRL indexed for lookups by serial number, built from its DER in one
 * pass: the revoked list is located with {@link DerReader} (a CRL of 100,000
 * entries indexes in tens of milliseconds), the header and each entry asked
 * about are decoded with @peculiar/asn1-schema. Delta CRLs, indirect CRLs and
 * CRLs limited to some reasons are refused (thrown), not half-applied.
 */
export class CrlIndex implements ParsedCrl {
  readonly issuer: string;
  /** DER of the issuer Name: compared byte for byte with a certificate's issuer and a CA's subject. */
  readonly issuerDer: Buffer;
  readonly thisUpdate: Date;
  readonly nextUpdate?: Date;
  readonly crlNumber?: string;
  /** From an Issuing Distribution Point extension: the CRL covers end-entity certificates only, or CA certificates only. */
  readonly onlyUserCerts: boolean = false;
  readonly onlyCaCerts: boolean = false;
  /** The distribution point URIs the CRL is for (a partitioned CRL), from its Issuing Distribution Point. */
  readonly distributionPoints?: string[];
  private readonly tbs: Buffer;
  private readonly signatureAlgorithm: Buffer;
  private readonly signature: Buffer;
  /** Normalized serial -> offset of its entry in `der`. */
  private readonly entries = new Map<string, number>();

  /** Parses and indexes a DER CRL; throws a CrlFormatError saying what is wrong. */
  constructor(readonly der: Buffer) {
    const outer = new DerReader(der).next(DER.SEQUENCE, 'CertificateList');
    if (outer.end !== der.length) throw new CrlFormatError('trailing bytes after the CRL');
    const list = DerReader.within(der, outer);
    const tbsElement = list.next(DER.SEQUENCE, 'tbsCertList');
    this.tbs = derBytes(der, tbsElement);
    this.signatureAlgorithm = derBytes(der, list.next(DER.SEQUENCE, 'signatureAlgorithm'));
    const signature = derContent(der, list.next(DER.BIT_STRING, 'signatureValue'));
    if (signature.length === 0 || signature[0] !== 0) throw new CrlFormatError('signatureValue: a BIT STRING with unused bits');
    this.signature = Buffer.from(bitStringBytes(signature));
    if (!list.done) throw new CrlFormatError('unexpected data after the CRL signature');

    const tbs = DerReader.within(der, tbsElement);
    const version = tbs.optional(DER.INTEGER, 'version');
    if (version && !(version.end - version.contentStart === 1 && der[version.contentStart] <= 1)) throw new CrlFormatError('unknown CRL version');
    const innerAlgorithm = derBytes(der, tbs.next(DER.SEQUENCE, 'signature'));
    if (!innerAlgorithm.equals(this.signatureAlgorithm)) throw new CrlFormatError('the signature algorithm inside the CRL differs from the one outside');
    this.issuerDer = Buffer.from(derBytes(der, tbs.next(DER.SEQUENCE, 'issuer')));
    this.issuer = describeName(this.issuerDer);
    this.thisUpdate = readTime(der, tbs.next(undefined, 'thisUpdate'));
    const tag = tbs.peekTag();
    if (tag === DER.UTC_TIME || tag === DER.GENERALIZED_TIME) this.nextUpdate = readTime(der, tbs.next(tag, 'nextUpdate'));
    const revoked = tbs.optional(DER.SEQUENCE, 'revokedCertificates');
    if (revoked) this.index(revoked);
    const extensions = tbs.optional(DER.CONTEXT_0, 'crlExtensions');
    if (!tbs.done) throw new CrlFormatError('unexpected data after the CRL extensions');
    if (extensions) {
      const scope = this.readExtensions(derContent(der, extensions));
      Object.assign(this, scope);
    }
  }

  get revokedCount(): number {
    return this.entries.size;
  }

  /** True when the CRL lists `serial` (already normalized, see `normalizeSerial`). */
  revokes(normalizedSerial: string): boolean {
    return this.entries.has(normalizedSerial);
  }

  revocationOf(serialNumber: string): CrlRevocation | undefined {
    const serial = normalizeSerial(serialNumber);
    const offset = this.entries.get(serial);
    if (offset === undefined) return undefined;
    const element = new DerReader(this.der, offset).next(DER.SEQUENCE, 'revoked certificate');
    const entry = decoded(derBytes(this.der, element), RevokedCertificate);
    const reasonExtension = entry.crlEntryExtensions?.find((e) => e.extnID === id_ce_cRLReasons);
    const reason = reasonExtension ? CRLReasons[decoded(reasonExtension.extnValue, CRLReason).reason] : undefined;
    return { serialNumber: serial, revokedAt: entry.revocationDate.getTime(), ...(reason ? { reason } : {}) };
  }

  /** Whether the CRL's signature verifies with `key` (the issuing CA's public key). Throws for a weak or unknown signature algorithm. */
  verifiedBy(key: KeyObject): boolean {
    return verifySignature(this.signatureAlgorithm, this.tbs, this.signature, key);
  }

  /** Current at `now`: issued before it (5 minutes of clock skew allowed) and not past its nextUpdate. */
  isCurrent(now = new Date()): boolean {
    return this.thisUpdate.getTime() <= now.getTime() + 5 * 60_000 && (!this.nextUpdate || this.nextUpdate.getTime() >= now.getTime());
  }

  /** Whether the CRL speaks about a certificate of this kind (an Issuing Distribution Point may limit it). */
  covers(kind: 'leaf' | 'ca'): boolean {
    return kind === 'leaf' ? !this.onlyCaCerts : !this.onlyUserCerts;
  }

  private index(revoked: DerElement): void {
    const { der, entries } = this;
    const list = DerReader.within(der, revoked);
    while (!list.done) {
      const entry = list.next(DER.SEQUENCE, `revoked certificate ${entries.size + 1}`);
      const serial = DerReader.within(der, entry).next(DER.INTEGER, `serial number of revoked certificate ${entries.size + 1}`);
      if (serial.end === serial.contentStart) throw new CrlFormatError(`empty serial number in revoked certificate ${entries.size + 1}`);
      entries.set(serialFromDer(der, serial.contentStart, serial.end), entry.start);
    }
  }

  private readExtensions(content: Buffer): CrlScope {
    const found: CrlScope = {};
    for (const extension of decoded(content, Extensions)) {
      const oid = extension.extnID;
      if (oid === DELTA_CRL_INDICATOR) throw new CrlFormatError('a delta CRL (nest-mtls reads complete CRLs only)');
      if (oid === id_ce_cRLNumber) {
        // From the INTEGER's octets: asn1-schema gives small values as numbers, larger ones as decimal strings.
        const value = Buffer.from(extension.extnValue.buffer);
        const number = new DerReader(value).next(DER.INTEGER, 'cRLNumber');
        if (number.end !== value.length || number.end === number.contentStart) throw new CrlFormatError('cRLNumber: not one INTEGER');
        found.crlNumber = serialFromDer(value, number.contentStart, number.end);
      } else if (oid === id_ce_issuingDistributionPoint) {
        const idp = decoded(extension.extnValue, IssuingDistributionPoint);
        if (idp.indirectCRL) throw new CrlFormatError('an indirect CRL (entries for other issuers are not read)');
        if (idp.onlySomeReasons) throw new CrlFormatError('a CRL limited to some revocation reasons');
        if (idp.onlyContainsAttributeCerts) throw new CrlFormatError('a CRL of attribute certificates');
        found.onlyUserCerts = idp.onlyContainsUserCerts;
        found.onlyCaCerts = idp.onlyContainsCACerts;
        const uris = (idp.distributionPoint?.fullName ?? []).map((n) => n.uniformResourceIdentifier).filter((u): u is string => !!u);
        if (uris.length > 0) found.distributionPoints = uris;
      } else if (extension.critical && !KNOWN_CRL_EXTENSIONS.has(oid)) {
        throw new CrlFormatError(`unknown critical CRL extension ${oid}`);
      }
    }
    return found;
  }
}

/** What a CRL's extensions say about it. */
interface CrlScope {
  crlNumber?: string;
  onlyUserCerts?: boolean;
  onlyCaCerts?: boolean;
  distributionPoints?: string[];
}

/** Parses a DER CRL (see {@link CrlIndex}); errors are CrlFormatErrors saying what is wrong. */
export function parseCrl(der: Buffer): CrlIndex {
  return new CrlIndex(der);
}

function readTime(der: Buffer, element: DerElement): Date {
  if (element.tag !== DER.UTC_TIME && element.tag !== DER.GENERALIZED_TIME) throw new CrlFormatError('expected a time');
  return decoded(derBytes(der, element), Time).getTime();
}

function describeName(der: Buffer): string {
  try {
    return formatDn(der);
  } catch {
    return `#${der.toString('hex')}`;
  }
}

/** `AsnConvert.parse`, its errors as CrlFormatErrors (the decoder throws plain Errors and TypeErrors on bad input). */
function decoded<T>(bytes: Parameters<typeof AsnConvert.parse>[0], type: new () => T): T {
  try {
    return AsnConvert.parse(bytes, type);
  } catch (error) {
    throw new CrlFormatError(`${type.name}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}
