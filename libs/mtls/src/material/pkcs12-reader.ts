import { createPrivateKey, KeyObject, pbkdf2Sync, X509Certificate } from 'node:crypto';
import * as forge from 'node-forge';
import { MtlsConfigError } from '../errors/mtls-config.error';
import { distinctCertificates, keyMatches } from '../x509/certificate-chain';
import { reason } from './pem-reader';
import type { StoreContents, StoreKeyEntry } from './store-contents.interface';
import type { StoreSettings } from './store-type';

interface CertBag {
  cert: X509Certificate;
  localKeyId?: string;
  friendlyName?: string;
}

interface KeyBag {
  key: KeyObject;
  localKeyId?: string;
  friendlyName?: string;
}

/**
 * Reads a PKCS#12 (.p12/.pfx) file: key entries (alias = friendlyName; key
 * linked to its certificate by localKeyId, else by public key) and every
 * certificate. Handles OpenSSL 3's default (PBES2/AES, SHA-256 MAC), the
 * legacy 3DES/RC2 encryption and Java keytool's PKCS#12. EC and other non-RSA
 * keys and certificates are handed to node's crypto as DER.
 */
export function readPkcs12(
  der: Buffer,
  file: string,
  settings: StoreSettings,
  password: string | undefined,
): StoreContents {
  const pfx = decryptPfx(der, file, settings, password);
  const certBags: CertBag[] = [];
  const keyBags: KeyBag[] = [];
  const { oids } = forge.pki;
  for (const safe of pfx.safeContents) {
    for (const bag of safe.safeBags) {
      const localKeyId = firstAttribute(bag, 'localKeyId');
      const friendlyName = firstAttribute(bag, 'friendlyName');
      if (bag.type === oids.certBag) {
        const asn1 = bag.cert ? forge.pki.certificateToAsn1(bag.cert) : bag.asn1;
        if (!asn1) continue;
        certBags.push({ cert: certificateFromAsn1(asn1, file, settings), localKeyId: hex(localKeyId), friendlyName });
      } else if (bag.type === oids.keyBag || bag.type === oids.pkcs8ShroudedKeyBag) {
        const asn1 = bag.key ? forge.pki.wrapRsaPrivateKey(forge.pki.privateKeyToAsn1(bag.key)) : bag.asn1;
        if (!asn1) continue;
        keyBags.push({ key: keyFromAsn1(asn1, file, settings), localKeyId: hex(localKeyId), friendlyName });
      }
    }
  }
  const keyEntries: StoreKeyEntry[] = keyBags.map((k) => {
    const linked =
      (k.localKeyId !== undefined ? certBags.find((c) => c.localKeyId === k.localKeyId) : undefined) ??
      certBags.find((c) => keyMatches(c.cert, k.key));
    return { alias: k.friendlyName ?? linked?.friendlyName, key: k.key, certificate: linked?.cert, chain: [] };
  });
  return { type: 'PKCS12', keyEntries, certificates: distinctCertificates(certBags.map((c) => c.cert)) };
}

function decryptPfx(
  der: Buffer,
  file: string,
  settings: StoreSettings,
  password: string | undefined,
): forge.pkcs12.Pkcs12Pfx {
  const pathSetting = settings.pathSetting;
  const passwordSetting = settings.passwordSetting ?? pathSetting;
  let asn1: forge.asn1.Asn1;
  try {
    asn1 = forge.asn1.fromDer(forge.util.createBuffer(der.toString('binary')));
  } catch (e) {
    throw new MtlsConfigError(pathSetting, `not a valid PKCS#12 file: ${file} (${reason(e)})`);
  }
  // An empty password has two encodings (empty BMPString, or none at all): try both, like OpenSSL.
  const attempts = password ? [password] : ['', undefined];
  let failure: unknown;
  for (const attempt of attempts) {
    try {
      return withNativePbkdf2(() => forge.pkcs12.pkcs12FromAsn1(asn1, false, attempt as string));
    } catch (e) {
      failure = e;
      if (!isPasswordFailure(e)) break;
    }
  }
  const msg = reason(failure);
  if (isPasswordFailure(failure)) {
    if (!password) throw new MtlsConfigError(passwordSetting, `${file} is password-protected; set ${passwordSetting}`);
    if (/ShroudedKeyBag/.test(msg)) {
      throw new MtlsConfigError(
        passwordSetting,
        `cannot decrypt the private key in ${file} with the store password (a key password different from the store password is not supported)`,
      );
    }
    throw new MtlsConfigError(passwordSetting, `wrong password for ${file}`);
  }
  if (/unsupported|unknown/i.test(msg)) {
    throw new MtlsConfigError(
      pathSetting,
      `cannot decrypt ${file}: unsupported PKCS#12 algorithm (${msg}); re-export it with openssl pkcs12 -export`,
    );
  }
  throw new MtlsConfigError(pathSetting, `cannot read PKCS#12 file ${file} (${msg})`);
}

type ForgePbkdf2 = (password: string, salt: string, iterations: number, keyLength: number, md?: unknown, callback?: unknown) => string;

/** PBKDF2 PRF digests by forge's name, as Node's crypto names them. */
const NATIVE_PRF_DIGESTS: Readonly<Record<string, string>> = { sha1: 'sha1', sha256: 'sha256', sha384: 'sha384', sha512: 'sha512' };

/**
 * Runs `fn` (synchronous) with forge's PBKDF2 computed by Node's crypto
 * (OpenSSL) instead of in JavaScript, and puts forge's own back afterwards.
 * forge goes native only for a digest given by name; decrypting PBES2 (the
 * key and certificates of a store as OpenSSL 3 and keytool write it:
 * PBKDF2-HMAC-SHA256, 2,048 or 10,000 iterations) hands it a digest object,
 * and the JavaScript PBKDF2 was most of the decode time: tens to hundreds of
 * ms on the event loop, at startup and at every reload. The same bytes come
 * out. Other digests and the asynchronous form stay with forge.
 */
function withNativePbkdf2<T>(fn: () => T): T {
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion -- forge's overloads do not admit the replacement
  const pkcs5 = forge.pkcs5 as unknown as { pbkdf2: ForgePbkdf2 };
  const javascript = pkcs5.pbkdf2;
  pkcs5.pbkdf2 = (password, salt, iterations, keyLength, md, callback) => {
    const digest = typeof md === 'object' && md !== null ? NATIVE_PRF_DIGESTS[(md as { algorithm?: string }).algorithm ?? ''] : undefined;
    if (!digest || callback !== undefined) return javascript(password, salt, iterations, keyLength, md, callback);
    return pbkdf2Sync(Buffer.from(password, 'binary'), Buffer.from(salt, 'binary'), iterations, keyLength, digest).toString('binary');
  };
  try {
    return fn();
  } finally {
    pkcs5.pbkdf2 = javascript;
  }
}

function isPasswordFailure(e: unknown): boolean {
  return /MAC could not be verified|Failed to decrypt PKCS#12 SafeContents|Unable to decrypt PKCS#8 ShroudedKeyBag/.test(
    reason(e),
  );
}

function certificateFromAsn1(asn1: forge.asn1.Asn1, file: string, settings: StoreSettings): X509Certificate {
  try {
    return new X509Certificate(Buffer.from(forge.asn1.toDer(asn1).getBytes(), 'binary'));
  } catch (e) {
    throw new MtlsConfigError(settings.pathSetting, `cannot parse a certificate in ${file} (${reason(e)})`);
  }
}

function keyFromAsn1(asn1: forge.asn1.Asn1, file: string, settings: StoreSettings): KeyObject {
  try {
    return createPrivateKey({ key: Buffer.from(forge.asn1.toDer(asn1).getBytes(), 'binary'), format: 'der', type: 'pkcs8' });
  } catch (e) {
    throw new MtlsConfigError(settings.pathSetting, `cannot parse the private key in ${file} (${reason(e)})`);
  }
}

function firstAttribute(bag: forge.pkcs12.Bag, name: string): string | undefined {
  const values = (bag.attributes as Record<string, unknown[] | undefined>)[name];
  return values && typeof values[0] === 'string' ? values[0] : undefined;
}

function hex(bytes: string | undefined): string | undefined {
  return bytes === undefined ? undefined : forge.util.bytesToHex(bytes);
}
