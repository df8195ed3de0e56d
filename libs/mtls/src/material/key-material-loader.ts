import type { KeyObject, X509Certificate } from 'node:crypto';
import type { MtlsOptions } from '../config/mtls-options.interface';
import { MtlsConfigError } from '../errors/mtls-config.error';
import { keyMatches, orderChain } from '../x509/certificate-chain';
import { readStore } from './store-reader';
import type { StoreContents, StoreKeyEntry } from './store-contents.interface';
import type { LoadedKeyMaterial } from './tls-material.interface';

type KeyOptions = Pick<
  MtlsOptions,
  'keyStorePath' | 'keyStorePassword' | 'keyStoreType' | 'certAlias' | 'certPath' | 'keyPath' | 'keyPassphrase'
>;

/**
 * Our identity from `keyStorePath` (PKCS#12, JKS or PEM with key and chain)
 * or from `certPath` + `keyPath` (PEM): the private key, checked against the
 * leaf certificate, and the chain leaf first, then each issuer found in the
 * file. Throws `MtlsConfigError` naming the setting and file.
 */
export function loadKeyMaterial(options: KeyOptions): LoadedKeyMaterial {
  const { keyStorePath, certPath, keyPath } = options;
  if (keyStorePath && (certPath || keyPath)) {
    throw new MtlsConfigError('keyStorePath', 'set either keyStorePath or certPath/keyPath, not both');
  }
  if (keyStorePath) return fromKeyStore(keyStorePath, options);
  if (certPath && !keyPath) throw new MtlsConfigError('keyPath', 'required with certPath');
  if (keyPath && !certPath) throw new MtlsConfigError('certPath', 'required with keyPath');
  if (certPath && keyPath) return fromPemPair(certPath, keyPath, options.keyPassphrase);
  throw new MtlsConfigError('keyStorePath', 'no key material: set keyStorePath, or certPath and keyPath');
}

function fromKeyStore(file: string, options: KeyOptions): LoadedKeyMaterial {
  const store = readStore(file, {
    pathSetting: 'keyStorePath',
    typeSetting: 'keyStoreType',
    passwordSetting: 'keyStorePassword',
    declaredType: options.keyStoreType,
    password: options.keyStorePassword,
    withKeys: true,
    pemPassphrase:
      options.keyPassphrase !== undefined || options.keyStorePassword === undefined
        ? { value: options.keyPassphrase, setting: 'keyPassphrase' }
        : { value: options.keyStorePassword, setting: 'keyStorePassword' },
  });
  const entry = selectEntry(store, file, options.certAlias);
  const leaf = entry.certificate ?? store.certificates.find((c) => keyMatches(c, entry.key)) ?? store.certificates[0];
  if (!leaf) {
    throw new MtlsConfigError('keyStorePath', `no certificate for the private key${named(entry)} in ${file}`);
  }
  if (!keyMatches(leaf, entry.key)) {
    throw new MtlsConfigError('keyStorePath', `private key does not match the certificate in ${file}${named(entry)}`);
  }
  return material(entry.key, orderChain(leaf, [...entry.chain, ...store.certificates]), `${file}${named(entry)}`);
}

function selectEntry(store: StoreContents, file: string, certAlias: string | undefined): StoreKeyEntry {
  const entries = store.keyEntries;
  const aliases = entries.map((e, i) => e.alias ?? `#${i + 1} (no alias)`).sort();
  if (entries.length === 0) {
    throw new MtlsConfigError(
      'keyStorePath',
      `no private key found in ${file}` + (store.certificates.length ? ' (it holds only certificates: a trust store?)' : ''),
    );
  }
  if (certAlias !== undefined && certAlias !== '') {
    // JKS aliases are case-insensitive (keytool lower-cases them): exact match first, then ignoring case.
    const found =
      entries.find((e) => e.alias === certAlias) ??
      entries.find((e) => e.alias !== undefined && e.alias.toLowerCase() === certAlias.toLowerCase());
    if (!found) {
      throw new MtlsConfigError('certAlias', `no key entry "${certAlias}" in ${file} (key entries: ${aliases.join(', ')})`);
    }
    return found;
  }
  if (entries.length > 1) {
    throw new MtlsConfigError(
      'certAlias',
      `${file} holds ${entries.length} key entries (${aliases.join(', ')}); set certAlias`,
    );
  }
  return entries[0];
}

function fromPemPair(certPath: string, keyPath: string, passphrase: string | undefined): LoadedKeyMaterial {
  const certs = readStore(certPath, { pathSetting: 'certPath', withKeys: false, acceptedTypes: ['PEM'] }).certificates;
  if (certs.length === 0) throw new MtlsConfigError('certPath', `no certificate found in ${certPath}`);
  const keyStore = readStore(keyPath, {
    pathSetting: 'keyPath',
    withKeys: true,
    acceptedTypes: ['PEM'],
    pemPassphrase: { value: passphrase, setting: 'keyPassphrase' },
  });
  const key = keyStore.keyEntries[0]?.key;
  if (!key) throw new MtlsConfigError('keyPath', `no private key found in ${keyPath}`);
  // certPath is "leaf first"; tolerate another order when the key's certificate is further down.
  const leaf = certs.find((c) => keyMatches(c, key)) ?? certs[0];
  if (!keyMatches(leaf, key)) {
    throw new MtlsConfigError('keyPath', `private key does not match the certificate in ${certPath}`);
  }
  return material(key, orderChain(leaf, certs), `${certPath} + ${keyPath}`);
}

function material(key: KeyObject, chain: X509Certificate[], source: string): LoadedKeyMaterial {
  const keyPem = key.export({ type: 'pkcs8', format: 'pem' }).toString();
  return { key, keyPem, chain, source };
}

function named(entry: StoreKeyEntry): string {
  return entry.alias !== undefined ? ` (alias "${entry.alias}")` : '';
}
