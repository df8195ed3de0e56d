import { constants, verify, type KeyObject } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { RsaSaPssParams } from '@peculiar/asn1-rsa';
import { AlgorithmIdentifier } from '@peculiar/asn1-x509';

/** Signature algorithms accepted on CRLs and OCSP answers, by OID: the hash Node verifies with (null: the key decides, EdDSA). */
const BY_OID: Record<string, string | null> = {
  '1.2.840.113549.1.1.14': 'sha224', // sha224WithRSAEncryption
  '1.2.840.113549.1.1.11': 'sha256',
  '1.2.840.113549.1.1.12': 'sha384',
  '1.2.840.113549.1.1.13': 'sha512',
  '1.2.840.10045.4.3.1': 'sha224', // ecdsa-with-SHA224
  '1.2.840.10045.4.3.2': 'sha256',
  '1.2.840.10045.4.3.3': 'sha384',
  '1.2.840.10045.4.3.4': 'sha512',
  '1.3.101.112': null, // Ed25519
  '1.3.101.113': null, // Ed448
};
const RSASSA_PSS = '1.2.840.113549.1.1.10';
const HASH_BY_OID: Record<string, string> = {
  '2.16.840.1.101.3.4.2.4': 'sha224',
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
};
const WEAK = new Set(['1.2.840.113549.1.1.4', '1.2.840.113549.1.1.5', '1.2.840.10045.4.1', '1.2.840.10040.4.3']);

/**
 * Whether `signature` over `data` verifies with `key` under the algorithm
 * of the DER AlgorithmIdentifier `algorithm`. MD5 and SHA-1 signatures and
 * unknown algorithms are errors (thrown, with the OID), never `true`.
 */
export function verifySignature(algorithm: Uint8Array, data: Uint8Array, signature: Uint8Array, key: KeyObject): boolean {
  const { hash, options } = verifyParameters(algorithm);
  try {
    return verify(hash, data, { key, ...options }, signature);
  } catch {
    return false; // a key of another type (an RSA key for an ECDSA signature) does not verify
  }
}

function verifyParameters(algorithm: Uint8Array): { hash: string | null; options: { padding?: number; saltLength?: number } } {
  const parsed = AsnConvert.parse(algorithm, AlgorithmIdentifier);
  const oid = parsed.algorithm;
  if (oid === RSASSA_PSS) {
    if (!parsed.parameters) throw new Error('RSASSA-PSS signature without parameters');
    const params = AsnConvert.parse(parsed.parameters, RsaSaPssParams);
    const hash = HASH_BY_OID[params.hashAlgorithm.algorithm];
    if (!hash) throw new Error(`RSASSA-PSS signature with hash ${params.hashAlgorithm.algorithm} is not accepted`);
    return { hash, options: { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: params.saltLength } };
  }
  if (!(oid in BY_OID)) {
    throw new Error(WEAK.has(oid) ? `weak signature algorithm ${oid} (MD5 or SHA-1) is not accepted` : `unsupported signature algorithm ${oid}`);
  }
  return { hash: BY_OID[oid], options: {} };
}

/** The signature octets of a DER BIT STRING's content (no unused bits allowed). */
export function bitStringBytes(content: Uint8Array): Uint8Array {
  if (content.length === 0 || content[0] !== 0) throw new Error('signature BIT STRING with unused bits');
  return content.subarray(1);
}
