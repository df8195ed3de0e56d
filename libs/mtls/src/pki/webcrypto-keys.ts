// @peculiar/x509 resolves tsyringe at load time, which needs the Reflect metadata polyfill.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { createPrivateKey, KeyObject, webcrypto } from 'node:crypto';
import type { KeyAlgorithm } from './certificate-spec.interface';

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

/** Node's WebCrypto: the provider of @peculiar/x509 and pkijs here. */
export const nodeCrypto: webcrypto.Crypto = webcrypto;

x509.cryptoProvider.set(nodeCrypto);

/** The @peculiar/x509 module with its crypto provider set to Node's WebCrypto. */
export { x509 };

const EC_CURVES: Record<string, { namedCurve: string; hash: string }> = {
  prime256v1: { namedCurve: 'P-256', hash: 'SHA-256' },
  secp384r1: { namedCurve: 'P-384', hash: 'SHA-384' },
  secp521r1: { namedCurve: 'P-521', hash: 'SHA-512' },
};

/** A freshly generated key pair, in both worlds (WebCrypto for signing, Node for the caller). */
export interface GeneratedKeyPair {
  keys: CryptoKeyPair;
  key: KeyObject;
  keyPem: string;
}

/** Generates an ECDSA P-256 or RSA key pair (`modulusLength` bits, default 2048). */
export async function generateKeyPair(algorithm: KeyAlgorithm = 'ec', modulusLength = 2048): Promise<GeneratedKeyPair> {
  if (!Number.isInteger(modulusLength) || modulusLength < 512 || modulusLength > 16384) {
    throw new Error(`invalid RSA modulus length ${modulusLength} (a whole number of bits from 512 to 16384)`);
  }
  const params: webcrypto.EcKeyGenParams | webcrypto.RsaHashedKeyGenParams =
    algorithm === 'rsa'
      ? { name: 'RSASSA-PKCS1-v1_5', modulusLength, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' }
      : { name: 'ECDSA', namedCurve: 'P-256' };
  const keys = await nodeCrypto.subtle.generateKey(params, true, ['sign', 'verify']);
  const pkcs8 = Buffer.from(await nodeCrypto.subtle.exportKey('pkcs8', keys.privateKey));
  const key = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' });
  return { keys, key, keyPem: key.export({ format: 'pem', type: 'pkcs8' }) as string };
}

/** A Node private key as a WebCrypto signing key, with the signature algorithm to use with it. */
export async function importSigningKey(key: KeyObject): Promise<{ signingKey: CryptoKey; signingAlgorithm: webcrypto.Algorithm | webcrypto.EcdsaParams }> {
  const pkcs8 = key.export({ format: 'der', type: 'pkcs8' });
  if (key.asymmetricKeyType === 'ec') {
    const curve = EC_CURVES[key.asymmetricKeyDetails?.namedCurve ?? ''];
    if (!curve) throw new Error(`unsupported EC curve ${key.asymmetricKeyDetails?.namedCurve ?? '(unknown)'} for signing`);
    const signingKey = await nodeCrypto.subtle.importKey('pkcs8', pkcs8, { name: 'ECDSA', namedCurve: curve.namedCurve }, false, ['sign']);
    return { signingKey, signingAlgorithm: { name: 'ECDSA', hash: curve.hash } as webcrypto.EcdsaParams };
  }
  if (key.asymmetricKeyType === 'rsa') {
    const algorithm = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
    const signingKey = await nodeCrypto.subtle.importKey('pkcs8', pkcs8, algorithm, false, ['sign']);
    return { signingKey, signingAlgorithm: algorithm };
  }
  throw new Error(`unsupported key type ${key.asymmetricKeyType ?? '(unknown)'} for signing (use EC or RSA)`);
}
