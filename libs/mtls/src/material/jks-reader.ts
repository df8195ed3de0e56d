import { createPrivateKey, KeyObject, X509Certificate } from 'node:crypto';
import { decrypt, parseJks } from 'jks-js';
import { MtlsConfigError } from '../errors/mtls-config.error';
import { distinctCertificates } from '../x509/certificate-chain';
import { reason } from './pem-reader';
import type { StoreContents, StoreKeyEntry } from './store-contents.interface';
import type { StoreSettings } from './store-type';

type JksEntry = ReturnType<typeof parseJks>[number];

/**
 * Reads a JKS file: key entries (alias and stored chain, leaf first) and every
 * certificate (trusted certificate entries and the chains of key entries).
 * The store password checks the file's integrity and decrypts the keys
 * (RSA, EC, ...: jks-js recovers the PKCS#8 bytes, node's crypto parses them).
 * With `withKeys` false (trust stores) keys are left encrypted and a missing
 * password only skips the integrity check, as Java does.
 */
export function readJks(
  content: Buffer,
  file: string,
  settings: StoreSettings,
  password: string | undefined,
  withKeys: boolean,
): StoreContents {
  const pathSetting = settings.pathSetting;
  const passwordSetting = settings.passwordSetting ?? pathSetting;
  let entries: JksEntry[];
  try {
    entries = parseJks(content, password ?? '');
  } catch (e) {
    const msg = reason(e);
    if (/Password verification failed/.test(msg)) throw new MtlsConfigError(passwordSetting, `wrong password for ${file}`);
    throw new MtlsConfigError(pathSetting, `cannot read JKS file ${file} (${msg})`);
  }
  const keyEntries: StoreKeyEntry[] = [];
  const certificates: X509Certificate[] = [];
  for (const entry of entries) {
    if ('chain' in entry) {
      const chain = entry.chain.map((c, i) => certificate(c, `certificate ${i + 1} of key entry "${entry.alias}"`, file, settings));
      certificates.push(...chain);
      if (!withKeys) continue;
      if (!password) throw new MtlsConfigError(passwordSetting, `${file} is password-protected; set ${passwordSetting}`);
      keyEntries.push({ alias: entry.alias, key: recoverKey(entry.protectedPrivateKey, entry.alias, file, settings, password), certificate: chain[0], chain });
    } else {
      certificates.push(certificate(entry.cert, `trusted certificate entry "${entry.alias}"`, file, settings));
    }
  }
  return { type: 'JKS', keyEntries, certificates: distinctCertificates(certificates) };
}

function certificate(
  cert: { certType: string; value: Buffer },
  what: string,
  file: string,
  settings: StoreSettings,
): X509Certificate {
  if (cert.certType !== 'X.509' && cert.certType !== 'X509') {
    throw new MtlsConfigError(settings.pathSetting, `${what} in ${file} is a ${cert.certType} certificate, not X.509`);
  }
  try {
    return new X509Certificate(cert.value);
  } catch (e) {
    throw new MtlsConfigError(settings.pathSetting, `cannot parse ${what} in ${file} (${reason(e)})`);
  }
}

function recoverKey(
  protectedKey: Buffer,
  alias: string,
  file: string,
  settings: StoreSettings,
  password: string,
): KeyObject {
  let pkcs8Pem: string;
  try {
    pkcs8Pem = decrypt(protectedKey, password);
  } catch (e) {
    const msg = reason(e);
    if (/Cannot recover key/.test(msg)) {
      throw new MtlsConfigError(
        settings.passwordSetting ?? settings.pathSetting,
        `cannot decrypt key entry "${alias}" in ${file} with the store password (a key password different from the store password is not supported)`,
      );
    }
    throw new MtlsConfigError(settings.pathSetting, `cannot decrypt key entry "${alias}" in ${file} (${msg})`);
  }
  try {
    return createPrivateKey(pkcs8Pem);
  } catch (e) {
    throw new MtlsConfigError(settings.pathSetting, `cannot parse the private key of entry "${alias}" in ${file} (${reason(e)})`);
  }
}
