import { ContentInfo, EncryptedContent, EncryptedContentInfo, id_data } from '@peculiar/asn1-cms';
import {
  AuthenticatedSafe,
  CertBag,
  id_certBag,
  id_pkcs8ShroudedKeyBag,
  id_x509Certificate,
  MacData,
  PFX,
  PKCS12Attribute,
  SafeBag,
  SafeContents,
} from '@peculiar/asn1-pfx';
import { DigestInfo } from '@peculiar/asn1-rsa';
import { AsnConvert, AsnProp, AsnPropTypes, OctetString } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier, DirectoryString } from '@peculiar/asn1-x509';
import { createCipheriv, createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import * as forge from 'node-forge';
import type { IssuedCertificate, Pkcs12Options } from './certificate-spec.interface';

// pkijs 4 / asn1js 4 are ESM-only, which Jest on Node 20 cannot load: the
// structures come from @peculiar's CJS asn1 schemas (what @peculiar/x509 is
// built on), the crypto from Node (which is OpenSSL) and node-forge's PKCS#12 KDF.

const OID_FRIENDLY_NAME = '1.2.840.113549.1.9.20';
const OID_LOCAL_KEY_ID = '1.2.840.113549.1.9.21';
const OID_ENCRYPTED_DATA = '1.2.840.113549.1.7.6';
const OID_PBES2 = '1.2.840.113549.1.5.13';
const OID_PBKDF2 = '1.2.840.113549.1.5.12';
const OID_HMAC_SHA256 = '1.2.840.113549.2.9';
const OID_AES256_CBC = '2.16.840.1.101.3.4.1.42';
const OID_SHA256 = '2.16.840.1.101.3.4.2.1';
const DEFAULT_ITERATIONS = 2048;
const SALT_BYTES = 16;

/** PBKDF2-params (RFC 8018), salt always `specified`. */
class Pbkdf2Params {
  @AsnProp({ type: OctetString }) salt = new OctetString();
  @AsnProp({ type: AsnPropTypes.Integer }) iterationCount = 0;
  @AsnProp({ type: AlgorithmIdentifier }) prf = new AlgorithmIdentifier();
  constructor(params: Partial<Pbkdf2Params> = {}) {
    Object.assign(this, params);
  }
}

/** PBES2-params (RFC 8018). */
class Pbes2Params {
  @AsnProp({ type: AlgorithmIdentifier }) keyDerivationFunc = new AlgorithmIdentifier();
  @AsnProp({ type: AlgorithmIdentifier }) encryptionScheme = new AlgorithmIdentifier();
  constructor(params: Partial<Pbes2Params> = {}) {
    Object.assign(this, params);
  }
}

/** CMS EncryptedData (RFC 5652), without unprotectedAttrs. */
class EncryptedData {
  @AsnProp({ type: AsnPropTypes.Integer }) version = 0;
  @AsnProp({ type: EncryptedContentInfo }) encryptedContentInfo = new EncryptedContentInfo();
  constructor(params: Partial<EncryptedData> = {}) {
    Object.assign(this, params);
  }
}

/**
 * A PKCS#12 keystore holding `cert`'s private key and chain (leaf first, no
 * root), in the format OpenSSL 3 writes by default: the key in a shrouded key
 * bag and the certificates in an encrypted safe, both PBES2 (PBKDF2 with
 * HMAC-SHA256, AES-256-CBC), and an HMAC-SHA256 MAC over everything. The key
 * and the leaf share a localKeyId (the leaf's SHA-1 fingerprint) and the
 * friendlyName `alias`, so OpenSSL, Java's keytool/KeyStore and Node read
 * them as one key entry named `alias`.
 */
export async function toPkcs12(cert: IssuedCertificate, password: string, opts: Pkcs12Options = {}): Promise<Buffer> {
  const iterations = opts.iterations ?? DEFAULT_ITERATIONS;
  if (!Number.isSafeInteger(iterations) || iterations < 1) throw new Error(`invalid iteration count ${iterations}`);
  const localKeyId = createHash('sha1').update(cert.certificate.raw).digest();
  const leafAttributes = bagAttributes(localKeyId, opts.alias);

  // The key: EncryptedPrivateKeyInfo as Node (OpenSSL 3) writes it: PBES2, PBKDF2-HMAC-SHA256, AES-256-CBC.
  const shroudedKey = cert.key.export({ format: 'der', type: 'pkcs8', cipher: 'aes-256-cbc', passphrase: password });
  const keySafe = new SafeContents([new SafeBag({ bagId: id_pkcs8ShroudedKeyBag, bagValue: toArrayBuffer(shroudedKey), bagAttributes: leafAttributes })]);

  const chain = cert.chain.length > 0 ? cert.chain : [cert.certificate];
  const certSafe = new SafeContents(
    chain.map(
      (c, index) =>
        new SafeBag({
          bagId: id_certBag,
          bagValue: AsnConvert.serialize(new CertBag({ certId: id_x509Certificate, certValue: AsnConvert.serialize(new OctetString(toArrayBuffer(c.raw))) })),
          bagAttributes: index === 0 ? leafAttributes : undefined,
        }),
    ),
  );

  const authenticatedSafe = new AuthenticatedSafe([
    dataContentInfo(AsnConvert.serialize(keySafe)),
    encryptedContentInfo(Buffer.from(AsnConvert.serialize(certSafe)), password, iterations),
  ]);
  const authSafeDer = Buffer.from(AsnConvert.serialize(authenticatedSafe));

  const macSalt = randomBytes(SALT_BYTES);
  // RFC 7292 appendix B key derivation (ID 3 = MAC key), as OpenSSL does it.
  const macKey = forge.pkcs12.generateKey(password, forge.util.createBuffer(macSalt.toString('binary')), 3, iterations, 32, forge.md.sha256.create());
  const mac = createHmac('sha256', Buffer.from(macKey.getBytes(), 'binary')).update(authSafeDer).digest();

  const pfx = new PFX({
    version: 3,
    authSafe: dataContentInfo(toArrayBuffer(authSafeDer)),
    macData: new MacData({
      mac: new DigestInfo({ digestAlgorithm: new AlgorithmIdentifier({ algorithm: OID_SHA256, parameters: null }), digest: new OctetString(toArrayBuffer(mac)) }),
      macSalt: new OctetString(toArrayBuffer(macSalt)),
      iterations,
    }),
  });
  return Buffer.from(AsnConvert.serialize(pfx));
}

/** ContentInfo of type data holding `der` in an OCTET STRING. */
function dataContentInfo(der: ArrayBuffer): ContentInfo {
  return new ContentInfo({ contentType: id_data, content: AsnConvert.serialize(new OctetString(der)) });
}

/** ContentInfo of type encryptedData: `plain` under PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC). */
function encryptedContentInfo(plain: Buffer, password: string, iterations: number): ContentInfo {
  const salt = randomBytes(SALT_BYTES);
  const iv = randomBytes(16);
  const key = pbkdf2Sync(Buffer.from(password, 'utf8'), salt, iterations, 32, 'sha256');
  const cipher = createCipheriv('aes-256-cbc', key, iv);
  const encrypted = Buffer.concat([cipher.update(plain), cipher.final()]);
  const pbes2 = new Pbes2Params({
    keyDerivationFunc: new AlgorithmIdentifier({
      algorithm: OID_PBKDF2,
      parameters: AsnConvert.serialize(
        new Pbkdf2Params({
          salt: new OctetString(toArrayBuffer(salt)),
          iterationCount: iterations,
          prf: new AlgorithmIdentifier({ algorithm: OID_HMAC_SHA256, parameters: null }),
        }),
      ),
    }),
    encryptionScheme: new AlgorithmIdentifier({ algorithm: OID_AES256_CBC, parameters: AsnConvert.serialize(new OctetString(toArrayBuffer(iv))) }),
  });
  const data = new EncryptedData({
    version: 0,
    encryptedContentInfo: new EncryptedContentInfo({
      contentType: id_data,
      contentEncryptionAlgorithm: new AlgorithmIdentifier({ algorithm: OID_PBES2, parameters: AsnConvert.serialize(pbes2) }),
      encryptedContent: new EncryptedContent({ value: new OctetString(toArrayBuffer(encrypted)) }),
    }),
  });
  return new ContentInfo({ contentType: OID_ENCRYPTED_DATA, content: AsnConvert.serialize(data) });
}

function bagAttributes(localKeyId: Buffer, alias: string | undefined): PKCS12Attribute[] {
  const attributes: PKCS12Attribute[] = [];
  if (alias) attributes.push(attribute(OID_FRIENDLY_NAME, AsnConvert.serialize(new DirectoryString({ bmpString: alias }))));
  attributes.push(attribute(OID_LOCAL_KEY_ID, AsnConvert.serialize(new OctetString(toArrayBuffer(localKeyId)))));
  return attributes;
}

function attribute(attrId: string, value: ArrayBuffer): PKCS12Attribute {
  // asn1-pfx 2.11's PKCS12Attribute constructor drops its params (`Object.assign(params)`): set them here.
  return Object.assign(new PKCS12Attribute(), { attrId, attrValues: [value] });
}

function toArrayBuffer(buf: Buffer): ArrayBuffer {
  return buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
}
