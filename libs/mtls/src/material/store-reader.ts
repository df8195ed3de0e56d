import type { KeyStoreType } from '../config/mtls-options.interface';
import { MtlsConfigError } from '../errors/mtls-config.error';
import { keyMatches } from '../x509/certificate-chain';
import { readJks } from './jks-reader';
import { assertWholePem, readPemCertificates, readPemPrivateKey } from './pem-reader';
import { readPkcs12 } from './pkcs12-reader';
import { readSettingFile } from './setting-file';
import type { StoreContents } from './store-contents.interface';
import { resolveStoreType, StoreSettings } from './store-type';

/** How to read one store file. */
export interface ReadStoreOptions extends StoreSettings {
  /** `keyStoreType` / `trustStoreType` value; sniffed from the content when undefined. */
  declaredType?: KeyStoreType;
  /** Store password (PKCS#12, JKS). */
  password?: string;
  /** Decrypt and return private keys (key stores) or only certificates (trust stores). */
  withKeys: boolean;
  /** For a PEM key store with an encrypted key: the passphrase and the setting it comes from. */
  pemPassphrase?: { value?: string; setting: string };
  /** Types this setting accepts (`certPath`/`keyPath` take PEM only). */
  acceptedTypes?: KeyStoreType[];
}

/** Reads a PEM, PKCS#12 or JKS file named by a setting, its type sniffed from the content. */
export function readStore(file: string, opts: ReadStoreOptions): StoreContents {
  const content = readSettingFile(opts.pathSetting, file);
  const type = resolveStoreType(content, file, opts, opts.declaredType);
  if (opts.acceptedTypes && !opts.acceptedTypes.includes(type)) {
    throw new MtlsConfigError(
      opts.pathSetting,
      `${file} is a ${type} file, ${opts.pathSetting} takes ${opts.acceptedTypes.join(' or ')} (use keyStorePath for a key store)`,
    );
  }
  switch (type) {
    case 'PKCS12':
      return readPkcs12(content, file, opts, opts.password);
    case 'JKS':
      return readJks(content, file, opts, opts.password, opts.withKeys);
    case 'PEM': {
      const text = content.toString('utf8');
      assertWholePem(text, opts.pathSetting, file);
      const certificates = readPemCertificates(text, opts.pathSetting, file);
      if (!opts.withKeys) return { type, keyEntries: [], certificates };
      const passphrase = opts.pemPassphrase ?? { value: opts.password, setting: opts.passwordSetting ?? opts.pathSetting };
      const key = readPemPrivateKey(text, file, {
        keySetting: opts.pathSetting,
        passphrase: passphrase.value,
        passphraseSetting: passphrase.setting,
      });
      if (!key) return { type, keyEntries: [], certificates };
      const certificate = certificates.find((c) => keyMatches(c, key));
      return { type, keyEntries: [{ key, certificate, chain: [] }], certificates };
    }
  }
}
