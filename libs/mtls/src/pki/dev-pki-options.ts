import { Logger } from '@nestjs/common';
import { resolve } from 'node:path';
import { mtlsOptionsFromEnv, readEnv, type EnvSource } from '../config/mtls-options-from-env';
import type { MtlsOptions } from '../config/mtls-options.interface';
import { ensureDevPki } from './dev-pki';

/** Where the development PKI lives unless MTLS_DEV_PKI_DIR says otherwise (git-ignored). */
export const DEV_PKI_DIR = '.dev-pki';

/**
 * The options of a service from its `MTLS_*` variables; when none of the key
 * and trust settings is given and NODE_ENV is not `production`, a development
 * PKI is created on first use (MTLS_DEV_PKI_DIR, default ./.dev-pki) and the
 * service's certificate from it is used. In production nothing is invented:
 * missing material is a startup error.
 */
export async function mtlsOptionsWithDevPki(service: string, source: EnvSource = process.env): Promise<MtlsOptions> {
  const options = mtlsOptionsFromEnv(source);
  const material = options.keyStorePath ?? options.certPath ?? options.keyPath ?? options.trustStorePath;
  if (material !== undefined || readEnv(source, 'NODE_ENV') === 'production') return options;
  const pki = await ensureDevPki(resolve(readEnv(source, 'MTLS_DEV_PKI_DIR') ?? DEV_PKI_DIR));
  new Logger('MtlsModule').warn(`${service}: no MTLS_* key or trust settings; using the development PKI in ${pki.dir} (never in production)`);
  return {
    keyStorePath: pki.service(service).p12,
    keyStorePassword: pki.password,
    trustStorePath: pki.trustStore,
    crlPath: pki.crl,
    ...options,
  };
}
