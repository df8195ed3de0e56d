import type { MtlsOptions } from '../config/mtls-options.interface';
import { MtlsConfigError } from '../errors/mtls-config.error';
import { readStore } from './store-reader';
import type { TrustMaterial } from './tls-material.interface';

type TrustOptions = Pick<MtlsOptions, 'trustStorePath' | 'trustStorePassword' | 'trustStoreType'>;

/**
 * The CAs we trust, exactly the certificates of `trustStorePath` (PEM bundle,
 * PKCS#12 certificate bags, or JKS trusted entries and key entry chains);
 * public roots are never added. Certificates that are not CAs are kept and
 * listed in `nonCa` for the startup checks to judge.
 */
export function loadTrustMaterial(options: TrustOptions): TrustMaterial {
  const file = options.trustStorePath;
  if (!file) throw new MtlsConfigError('trustStorePath', 'required: the CAs to trust; public roots are never used');
  const store = readStore(file, {
    pathSetting: 'trustStorePath',
    typeSetting: 'trustStoreType',
    passwordSetting: 'trustStorePassword',
    declaredType: options.trustStoreType,
    password: options.trustStorePassword,
    withKeys: false,
  });
  const cas = store.certificates;
  if (cas.length === 0) throw new MtlsConfigError('trustStorePath', `no CA certificate found in ${file}`);
  return { cas, nonCa: cas.filter((c) => !c.ca), source: file };
}
